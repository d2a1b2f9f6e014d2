using System.Numerics;
using Enclave.Core;

namespace Enclave.Ledger.Merkle;

/// <summary>
/// Generates RFC 9162 §2.1 tree heads, inclusion proofs and consistency proofs from an
/// <see cref="IMerkleHashSource"/>, reading only O(log n) complete-subtree hashes per call.
/// </summary>
public static class MerkleProofs
{
    /// <summary>MTH(D[0:size]), the root hash of the first <paramref name="size"/> leaves.</summary>
    /// <exception cref="ArgumentOutOfRangeException"><paramref name="size"/> is negative.</exception>
    public static Sha256Digest Root(long size, IMerkleHashSource source)
    {
        ArgumentOutOfRangeException.ThrowIfNegative(size);
        ArgumentNullException.ThrowIfNull(source);
        return size == 0 ? MerkleHash.Empty : Fold(0, size, source);
    }

    /// <summary>
    /// MTH(D[start:end]). Every subtree named in an RFC 9162 proof qualifies; in general the
    /// range must be non-empty and <paramref name="start"/> a multiple of the largest power of two
    /// not above end - start, so that the range splits into complete aligned subtrees.
    /// </summary>
    /// <exception cref="ArgumentOutOfRangeException">The range is empty, negative or not aligned.</exception>
    public static Sha256Digest SubtreeRoot(long start, long end, IMerkleHashSource source)
    {
        ArgumentOutOfRangeException.ThrowIfNegative(start);
        ArgumentOutOfRangeException.ThrowIfLessThanOrEqual(end, start);
        ArgumentNullException.ThrowIfNull(source);
        var width = HighestPowerOfTwoIn((ulong)(end - start));
        if ((ulong)start % width != 0)
        {
            throw new ArgumentOutOfRangeException(
                nameof(start),
                $"range [{start}, {end}) does not start on a multiple of {width}, so it is not a Merkle subtree");
        }

        return Fold(start, end, source);
    }

    /// <summary>
    /// PATH(index, D[0:size]) of RFC 9162 §2.1.3.1: the inclusion proof of leaf
    /// <paramref name="index"/>, ordered from the leaf's sibling up to the root's child.
    /// </summary>
    /// <exception cref="ArgumentOutOfRangeException">
    /// <paramref name="index"/> is negative or not below <paramref name="size"/>.
    /// </exception>
    public static IReadOnlyList<Sha256Digest> Inclusion(long index, long size, IMerkleHashSource source)
    {
        ArgumentOutOfRangeException.ThrowIfNegative(index);
        ArgumentOutOfRangeException.ThrowIfGreaterThanOrEqual(index, size);
        ArgumentNullException.ThrowIfNull(source);

        // Walk down from the root; each step yields the sibling of the half holding the leaf, and
        // the proof lists them bottom-up, so fill it from the end.
        var proof = new Sha256Digest[InclusionLength(index, size)];
        var slot = proof.Length;
        long start = 0, end = size;
        while (end - start > 1)
        {
            var split = start + LargestPowerOfTwoBelow(end - start);
            if (index < split)
            {
                proof[--slot] = Fold(split, end, source);
                end = split;
            }
            else
            {
                proof[--slot] = Fold(start, split, source);
                start = split;
            }
        }

        return Filled(proof, slot, 0);
    }

    /// <summary>
    /// PROOF(oldSize, D[0:newSize]) of RFC 9162 §2.1.4.1. Empty when <paramref name="oldSize"/> is 0
    /// or equals <paramref name="newSize"/> (nothing to prove).
    /// </summary>
    /// <exception cref="ArgumentOutOfRangeException">
    /// <paramref name="oldSize"/> is negative or greater than <paramref name="newSize"/>.
    /// </exception>
    public static IReadOnlyList<Sha256Digest> Consistency(long oldSize, long newSize, IMerkleHashSource source)
    {
        ArgumentOutOfRangeException.ThrowIfNegative(oldSize);
        ArgumentOutOfRangeException.ThrowIfGreaterThan(oldSize, newSize);
        ArgumentNullException.ThrowIfNull(source);
        if (oldSize == 0 || oldSize == newSize)
        {
            return [];
        }

        // SUBPROOF(m, D[start:end], b), unrolled: walk down until m lands on a subtree boundary; the
        // siblings met on the way are listed bottom-up, so fill them from the end. Unless the old
        // tree is itself a complete subtree (b stays true), its last subtree's root comes first.
        var oldIsSubtree = BitOperations.IsPow2((ulong)oldSize);
        var first = oldIsSubtree ? 0 : 1;
        var proof = new Sha256Digest[first + ConsistencyLength(oldSize, newSize)];
        var slot = proof.Length;
        long start = 0, end = newSize, m = oldSize;
        while (m != end - start)
        {
            var k = LargestPowerOfTwoBelow(end - start);
            if (m <= k)
            {
                proof[--slot] = Fold(start + k, end, source);
                end = start + k;
            }
            else
            {
                proof[--slot] = Fold(start, start + k, source);
                start += k;
                m -= k;
            }
        }

        if (!oldIsSubtree)
        {
            proof[0] = Fold(start, end, source);
        }

        return Filled(proof, slot, first);
    }

    // Length of PATH(index, D[0:size]): one hash per level below the point where the paths to
    // index and to size - 1 diverge, plus one per complete left subtree above it.
    private static int InclusionLength(long index, long size)
    {
        var inner = 64 - BitOperations.LeadingZeroCount((ulong)(index ^ (size - 1)));
        return inner + BitOperations.PopCount((ulong)index >> inner);
    }

    // Siblings in PROOF(oldSize, D[0:newSize]), without the leading old-subtree root: the inclusion
    // path of leaf oldSize - 1 minus the levels inside the old tree's last complete subtree.
    private static int ConsistencyLength(long oldSize, long newSize) =>
        InclusionLength(oldSize - 1, newSize) - BitOperations.TrailingZeroCount((ulong)oldSize);

    // The walk and the closed-form length must agree; a mismatch is a bug, never a short proof.
    private static Sha256Digest[] Filled(Sha256Digest[] proof, int slot, int expectedSlot) =>
        slot == expectedSlot
            ? proof
            : throw new InvalidOperationException($"Merkle proof generation left {slot - expectedSlot} of {proof.Length} hashes unfilled (bug)");

    // MTH(D[start:end]) for a non-empty range starting on a multiple of its largest power of two:
    // split it into maximal complete aligned subtrees (one per set bit of its length, largest
    // first) and hash them together right to left. Reads popcount(end - start) hashes.
    private static Sha256Digest Fold(long start, long end, IMerkleHashSource source)
    {
        var length = (ulong)(end - start);
        var level = BitOperations.TrailingZeroCount(length);
        var position = (ulong)end - (1UL << level);
        var hash = source.GetHash(level, (long)(position >> level));
        length &= length - 1;
        while (length != 0)
        {
            level = BitOperations.TrailingZeroCount(length);
            position -= 1UL << level;
            hash = MerkleHash.Node(source.GetHash(level, (long)(position >> level)), hash);
            length &= length - 1;
        }

        return hash;
    }

    // For n >= 2: the k of RFC 9162's split, the largest power of two smaller than n.
    private static long LargestPowerOfTwoBelow(long n) => (long)HighestPowerOfTwoIn((ulong)(n - 1));

    // For x >= 1: the largest power of two not above x.
    private static ulong HighestPowerOfTwoIn(ulong x) => 1UL << (63 - BitOperations.LeadingZeroCount(x));
}
