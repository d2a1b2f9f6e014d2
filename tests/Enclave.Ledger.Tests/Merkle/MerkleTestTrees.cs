using System.Buffers.Binary;
using Enclave.Core;
using Enclave.Ledger.Merkle;

namespace Enclave.Ledger.Tests.Merkle;

/// <summary>Trees, sources and an independent RFC 9162 reference model shared by the Merkle tests.</summary>
internal static class MerkleTestTrees
{
    /// <summary>The RFC 6962 / transparency-dev reference leaf inputs.</summary>
    public static readonly byte[][] ReferenceLeaves =
    [
        [],
        [0x00],
        [0x10],
        [0x20, 0x21],
        [0x30, 0x31],
        [0x40, 0x41, 0x42, 0x43],
        [0x50, 0x51, 0x52, 0x53, 0x54, 0x55, 0x56, 0x57],
        [0x60, 0x61, 0x62, 0x63, 0x64, 0x65, 0x66, 0x67, 0x68, 0x69, 0x6a, 0x6b, 0x6c, 0x6d, 0x6e, 0x6f],
    ];

    public static readonly MemoryHashSource Reference = MemoryHashSource.FromLeafData(ReferenceLeaves);

    /// <summary>Distinct leaf hashes: leaf i hashes the 8-byte big-endian encoding of i.</summary>
    public static Sha256Digest[] DistinctLeaves(int count)
    {
        var leaves = new Sha256Digest[count];
        Span<byte> data = stackalloc byte[8];
        for (var i = 0; i < count; i++)
        {
            BinaryPrimitives.WriteInt64BigEndian(data, i);
            leaves[i] = MerkleHash.Leaf(data);
        }

        return leaves;
    }

    public static Sha256Digest FlipBit(Sha256Digest digest, int bit)
    {
        Span<byte> bytes = stackalloc byte[Sha256Digest.Size];
        digest.CopyTo(bytes);
        bytes[bit / 8] ^= (byte)(1 << (bit % 8));
        return new Sha256Digest(bytes);
    }

    public static Sha256Digest[] WithElement(IReadOnlyList<Sha256Digest> proof, int index, Sha256Digest value)
    {
        var copy = proof.ToArray();
        copy[index] = value;
        return copy;
    }

    public static Sha256Digest Hex(string hex) =>
        Sha256Digest.TryParseHex(hex, out var digest) ? digest : throw new FormatException($"bad test digest {hex}");

    // RFC 9162 §2.1.1 MTH, written straight from the recursive definition.
    public static Sha256Digest Mth(ReadOnlySpan<Sha256Digest> leaves)
    {
        if (leaves.Length == 0)
        {
            return MerkleHash.Empty;
        }

        if (leaves.Length == 1)
        {
            return leaves[0];
        }

        var k = LargestPowerOfTwoBelow(leaves.Length);
        return MerkleHash.Node(Mth(leaves[..k]), Mth(leaves[k..]));
    }

    // RFC 9162 §2.1.3.1 PATH(m, D[n]).
    public static List<Sha256Digest> Path(int m, ReadOnlySpan<Sha256Digest> leaves)
    {
        if (leaves.Length == 1)
        {
            return [];
        }

        var k = LargestPowerOfTwoBelow(leaves.Length);
        if (m < k)
        {
            var path = Path(m, leaves[..k]);
            path.Add(Mth(leaves[k..]));
            return path;
        }
        else
        {
            var path = Path(m - k, leaves[k..]);
            path.Add(Mth(leaves[..k]));
            return path;
        }
    }

    // RFC 9162 §2.1.4.1 PROOF(m, D[n]) = SUBPROOF(m, D[n], true), for 0 < m < n.
    public static List<Sha256Digest> Proof(int m, ReadOnlySpan<Sha256Digest> leaves) => SubProof(m, leaves, true);

    private static List<Sha256Digest> SubProof(int m, ReadOnlySpan<Sha256Digest> leaves, bool b)
    {
        if (m == leaves.Length)
        {
            return b ? [] : [Mth(leaves)];
        }

        var k = LargestPowerOfTwoBelow(leaves.Length);
        if (m <= k)
        {
            var proof = SubProof(m, leaves[..k], b);
            proof.Add(Mth(leaves[k..]));
            return proof;
        }
        else
        {
            var proof = SubProof(m - k, leaves[k..], false);
            proof.Add(Mth(leaves[..k]));
            return proof;
        }
    }

    private static int LargestPowerOfTwoBelow(int n)
    {
        var k = 1;
        while (k * 2 < n)
        {
            k *= 2;
        }

        return k;
    }
}
