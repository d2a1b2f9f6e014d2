using Enclave.Ledger.Merkle;

namespace Enclave.Ledger.Tests.Merkle;

/// <summary>Roots of the RFC 6962 reference tree, as published by transparency-dev/merkle testonly.</summary>
public sealed class MerkleKnownAnswerTests
{
    public static TheoryData<int, string> ReferenceRoots => new()
    {
        { 0, "e3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b855" },
        { 1, "6e340b9cffb37a989ca544e6bb780a2c78901d3fb33738768511a30617afa01d" },
        { 2, "fac54203e7cc696cf0dfcb42c92a1d9dbaf70ad9e621f4bd8d98662f00e3c125" },
        { 3, "aeb6bcfe274b70a14fb067a5e5578264db0fa9b51af5e0ba159158f329e06e77" },
        { 4, "d37ee418976dd95753c1c73862b9398fa2a2cf9b4ff0fdfe8b30cd95209614b7" },
        { 5, "4e3bbb1f7b478dcfe71fb631631519a3bca12c9aefca1612bfce4c13a86264d4" },
        { 6, "76e67dadbcdf1e10e1b74ddc608abd2f98dfb16fbce75277b5232a127f2087ef" },
        { 7, "ddb89be403809e325750d3d263cd78929c2942b7942a34b77e122c9594a74c8c" },
        { 8, "5dc9da79a70659a9ad559cb701ded9a2ab9d823aad2f4960cfe370eff4604328" },
    };

    [Theory]
    [MemberData(nameof(ReferenceRoots))]
    public void Root_OfReferenceTreePrefix_MatchesPublishedValue(int size, string expectedHex)
    {
        var source = new RecordingSource(MerkleTestTrees.Reference, size);

        Assert.Equal(expectedHex, MerkleProofs.Root(size, source).ToHex());
    }

    [Theory]
    [MemberData(nameof(ReferenceRoots))]
    public void CompactRange_OverReferenceLeaves_MatchesPublishedRoot(int size, string expectedHex)
    {
        var range = new CompactRange();
        foreach (var leaf in MerkleTestTrees.ReferenceLeaves.Take(size))
        {
            range.Append(MerkleHash.Leaf(leaf));
        }

        Assert.Equal(expectedHex, range.Root().ToHex());
    }

    // certificate-transparency merkle_tree_test.cc audit paths over the same leaves.
    public static TheoryData<int, int, string[]> ReferencePaths => new()
    {
        { 0, 1, [] },
        {
            0, 8,
            [
                "96a296d224f285c67bee93c30f8a309157f0daa35dc5b87e410b78630a09cfc7",
                "5f083f0a1a33ca076a95279832580db3e0ef4584bdff1f54c8a360f50de3031e",
                "6b47aaf29ee3c2af9af889bc1fb9254dabd31177f16232dd6aab035ca39bf6e4",
            ]
        },
        {
            5, 8,
            [
                "bc1a0643b12e4d2d7c77918f44e0f4f79a838b6cf9ec5b5c283e1f4d88599e6b",
                "ca854ea128ed050b41b35ffc1b87b8eb2bde461e9e3b5596ece6b9d5975a0ae0",
                "d37ee418976dd95753c1c73862b9398fa2a2cf9b4ff0fdfe8b30cd95209614b7",
            ]
        },
        { 2, 3, ["fac54203e7cc696cf0dfcb42c92a1d9dbaf70ad9e621f4bd8d98662f00e3c125"] },
        {
            1, 5,
            [
                "6e340b9cffb37a989ca544e6bb780a2c78901d3fb33738768511a30617afa01d",
                "5f083f0a1a33ca076a95279832580db3e0ef4584bdff1f54c8a360f50de3031e",
                "bc1a0643b12e4d2d7c77918f44e0f4f79a838b6cf9ec5b5c283e1f4d88599e6b",
            ]
        },
    };

    [Theory]
    [MemberData(nameof(ReferencePaths))]
    public void Inclusion_InReferenceTree_MatchesPublishedAuditPath_AndVerifies(int index, int size, string[] expectedHex)
    {
        var source = new RecordingSource(MerkleTestTrees.Reference, size);

        var proof = MerkleProofs.Inclusion(index, size, source);

        Assert.Equal(expectedHex, proof.Select(hash => hash.ToHex()));
        var leaf = MerkleHash.Leaf(MerkleTestTrees.ReferenceLeaves[index]);
        Assert.True(MerkleVerifier.VerifyInclusion(leaf, index, size, proof, MerkleProofs.Root(size, source)));
    }
}
