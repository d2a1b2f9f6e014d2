using Enclave.Core;

namespace Enclave.Ledger.Merkle;

/// <summary>
/// An <see cref="IMerkleHashSource"/> over leaf hashes held in memory, with every level of
/// complete subtrees computed once at construction (about 2n hashes). For tests and small trees;
/// immutable and safe to share between threads.
/// </summary>
public sealed class MemoryHashSource : IMerkleHashSource
{
    private readonly Sha256Digest[][] _levels;

    /// <summary>Builds the source from the tree's leaf hashes, in leaf order.</summary>
    public MemoryHashSource(IEnumerable<Sha256Digest> leafHashes)
    {
        ArgumentNullException.ThrowIfNull(leafHashes);
        var levels = new List<Sha256Digest[]> { leafHashes.ToArray() };

        // Each level halves the node count, so this loop runs at most 31 times for an array.
        while (levels[^1].Length > 1)
        {
            var below = levels[^1];
            var above = new Sha256Digest[below.Length / 2];
            for (var i = 0; i < above.Length; i++)
            {
                above[i] = MerkleHash.Node(below[2 * i], below[(2 * i) + 1]);
            }

            levels.Add(above);
        }

        _levels = [.. levels];
    }

    /// <summary>The number of leaves.</summary>
    public long Size => _levels[0].Length;

    /// <summary>Builds the source from leaf data, hashing each entry with <see cref="MerkleHash.Leaf"/>.</summary>
    public static MemoryHashSource FromLeafData(IEnumerable<byte[]> leaves)
    {
        ArgumentNullException.ThrowIfNull(leaves);
        return new MemoryHashSource(leaves.Select(leaf => MerkleHash.Leaf(leaf)));
    }

    /// <inheritdoc/>
    public Sha256Digest GetHash(int level, long index)
    {
        if (level < 0 || level >= _levels.Length || index < 0 || index >= _levels[level].Length)
        {
            throw new ArgumentOutOfRangeException(
                nameof(index),
                $"the subtree at level {level}, index {index} is not complete in a tree of {Size} leaves");
        }

        return _levels[level][index];
    }
}
