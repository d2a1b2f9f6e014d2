using System.Security.Cryptography;
using Enclave.Core;
using Enclave.Ledger.Merkle;

namespace Enclave.Ledger.Tests.Merkle;

public sealed class MerkleHashTests
{
    [Fact]
    public void Empty_IsSha256OfTheEmptyString()
    {
        Assert.Equal("e3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b855", MerkleHash.Empty.ToHex());
    }

    [Fact]
    public void Leaf_OfEmptyData_IsTheRfc6962EmptyLeafHash()
    {
        Assert.Equal("6e340b9cffb37a989ca544e6bb780a2c78901d3fb33738768511a30617afa01d", MerkleHash.Leaf([]).ToHex());
    }

    [Theory]
    [InlineData(1)]
    [InlineData(254)]
    [InlineData(255)]
    [InlineData(256)]
    [InlineData(10_000)]
    public void Leaf_PrefixesZeroByte_OnStackAndPooledPaths(int length)
    {
        var data = new byte[length];
        for (var i = 0; i < length; i++)
        {
            data[i] = (byte)(i * 7);
        }

        var expected = SHA256.HashData([0x00, .. data]);

        Assert.Equal(new Sha256Digest(expected), MerkleHash.Leaf(data));
    }

    [Fact]
    public void Node_HashesOnePrefixThenLeftThenRight()
    {
        var left = MerkleHash.Leaf([1]);
        var right = MerkleHash.Leaf([2]);
        var expected = SHA256.HashData([0x01, .. left.ToArray(), .. right.ToArray()]);

        Assert.Equal(new Sha256Digest(expected), MerkleHash.Node(left, right));
        Assert.NotEqual(MerkleHash.Node(left, right), MerkleHash.Node(right, left));
    }

    [Fact]
    public void Leaf_AndNode_AreDomainSeparated()
    {
        var left = MerkleHash.Leaf([1]);
        var right = MerkleHash.Leaf([2]);

        // A leaf whose data is left||right must not collide with the node over (left, right).
        Assert.NotEqual(MerkleHash.Node(left, right), MerkleHash.Leaf([.. left.ToArray(), .. right.ToArray()]));
    }
}
