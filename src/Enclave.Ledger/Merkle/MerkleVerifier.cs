using System.Numerics;
using Enclave.Core;

namespace Enclave.Ledger.Merkle;

/// <summary>
/// Verifies RFC 9162 inclusion (§2.1.3.2) and consistency (§2.1.4.2) proofs. Fails closed: any
/// malformed or wrong input yields <see langword="false"/>; nothing here throws on untrusted data.
/// </summary>
/// <remarks>
/// Hashes are typed 32-byte digests: whoever decodes proofs or roots from the wire rejects any
/// value that is not exactly 32 bytes before calling here (so a placeholder "root" never verifies).
/// A proof binds a root to a tree size only together with the signed checkpoint that carries
/// both: callers must verify against the root and size of the same checkpoint.
/// </remarks>
public static class MerkleVerifier
{
    /// <summary>The longest inclusion proof for a tree of at most <see cref="long.MaxValue"/> leaves.</summary>
    public const int MaxInclusionProofLength = 64;

    /// <summary>An upper bound on the length of a valid consistency proof; longer proofs are rejected unread.</summary>
    public const int MaxConsistencyProofLength = 2 * 64;

    /// <summary>
    /// True when <paramref name="proof"/> shows that <paramref name="leafHash"/> is leaf
    /// <paramref name="index"/> of the tree of <paramref name="size"/> leaves with root <paramref name="root"/>.
    /// </summary>
    public static bool VerifyInclusion(
        in Sha256Digest leafHash, long index, long size, IReadOnlyList<Sha256Digest>? proof, in Sha256Digest root) =>
        TryRootFromInclusion(leafHash, index, size, proof, out var computed) && computed == root;

    /// <summary>
    /// Computes the root implied by an inclusion proof, following RFC 9162 §2.1.3.2. Returns
    /// <see langword="false"/> when the proof cannot be an inclusion proof for
    /// (<paramref name="index"/>, <paramref name="size"/>): index out of range or wrong length.
    /// </summary>
    public static bool TryRootFromInclusion(
        in Sha256Digest leafHash, long index, long size, IReadOnlyList<Sha256Digest>? proof, out Sha256Digest root)
    {
        root = default;
        if (proof is null || index < 0 || index >= size || proof.Count > MaxInclusionProofLength)
        {
            return false;
        }

        var fn = (ulong)index;
        var sn = (ulong)(size - 1);
        var r = leafHash;
        for (var i = 0; i < proof.Count; i++)
        {
            if (sn == 0)
            {
                return false;
            }

            var p = proof[i];
            if ((fn & 1) == 1 || fn == sn)
            {
                r = MerkleHash.Node(p, r);
                ShiftUntilOddOrZero(ref fn, ref sn);
            }
            else
            {
                r = MerkleHash.Node(r, p);
            }

            fn >>= 1;
            sn >>= 1;
        }

        if (sn != 0)
        {
            return false;
        }

        root = r;
        return true;
    }

    /// <summary>
    /// True when <paramref name="proof"/> shows that the tree of <paramref name="oldSize"/> leaves with
    /// root <paramref name="oldRoot"/> is a prefix of the tree of <paramref name="newSize"/> leaves with
    /// root <paramref name="newRoot"/> (RFC 9162 §2.1.4.2).
    /// </summary>
    /// <remarks>
    /// Edge cases the RFC leaves to the caller: equal sizes need an empty proof and equal roots;
    /// an old size of 0 needs an empty proof and <paramref name="oldRoot"/> equal to
    /// <see cref="MerkleHash.Empty"/> (and so does <paramref name="newRoot"/> when both sizes are 0).
    /// </remarks>
    public static bool VerifyConsistency(
        long oldSize, long newSize, in Sha256Digest oldRoot, in Sha256Digest newRoot, IReadOnlyList<Sha256Digest>? proof)
    {
        if (proof is null || oldSize < 0 || newSize < oldSize || proof.Count > MaxConsistencyProofLength)
        {
            return false;
        }

        if (oldSize == 0)
        {
            return proof.Count == 0 && oldRoot == MerkleHash.Empty && (newSize != 0 || newRoot == MerkleHash.Empty);
        }

        if (oldSize == newSize)
        {
            return proof.Count == 0 && oldRoot == newRoot;
        }

        // 1. An empty path fails.
        if (proof.Count == 0)
        {
            return false;
        }

        // 2. If first is a power of two, the path is implicitly prefixed with first_hash.
        var next = 0;
        Sha256Digest seed;
        if (BitOperations.IsPow2((ulong)oldSize))
        {
            seed = oldRoot;
        }
        else
        {
            seed = proof[0];
            next = 1;
        }

        // 3-4. fn = first - 1, sn = second - 1; drop the trailing ones of fn from both.
        var fn = (ulong)(oldSize - 1);
        var sn = (ulong)(newSize - 1);
        var ones = BitOperations.TrailingZeroCount(~fn);
        fn >>= ones;
        sn >>= ones;

        // 5-6.
        var fr = seed;
        var sr = seed;
        for (var i = next; i < proof.Count; i++)
        {
            if (sn == 0)
            {
                return false;
            }

            var c = proof[i];
            if ((fn & 1) == 1 || fn == sn)
            {
                fr = MerkleHash.Node(c, fr);
                sr = MerkleHash.Node(c, sr);
                ShiftUntilOddOrZero(ref fn, ref sn);
            }
            else
            {
                sr = MerkleHash.Node(sr, c);
            }

            fn >>= 1;
            sn >>= 1;
        }

        // 7.
        return sn == 0 && fr == oldRoot && sr == newRoot;
    }

    // "If LSB(fn) is not set, right-shift both fn and sn equally until either LSB(fn) is set or fn is 0."
    private static void ShiftUntilOddOrZero(ref ulong fn, ref ulong sn)
    {
        if (fn == 0)
        {
            return;
        }

        var zeros = BitOperations.TrailingZeroCount(fn);
        fn >>= zeros;
        sn >>= zeros;
    }
}
