using System.Numerics;
using Enclave.Core;

namespace Enclave.Ledger.Merkle;

/// <summary>
/// The right edge (Merkle frontier) of a tree of <see cref="Size"/> leaves: the roots of the maximal
/// complete aligned subtrees covering [0, Size), one per set bit of Size, largest (leftmost) first.
/// Appending a leaf costs one hash on average (at most 63); the root costs popcount(Size) - 1 hashes.
/// Not thread-safe.
/// </summary>
public sealed class CompactRange
{
    // Set bits of a non-negative long: at most 63 subtrees.
    private const int MaxSubtrees = 63;

    private readonly List<Sha256Digest> _hashes;

    /// <summary>Creates the compact range of the empty tree.</summary>
    public CompactRange()
    {
        _hashes = new List<Sha256Digest>(MaxSubtrees);
    }

    private CompactRange(long size, List<Sha256Digest> hashes)
    {
        Size = size;
        _hashes = hashes;
    }

    /// <summary>The number of leaves covered.</summary>
    public long Size { get; private set; }

    /// <summary>
    /// A snapshot of the frontier: the subtree roots for the set bits of <see cref="Size"/>, from the
    /// highest bit (leftmost subtree) to the lowest.
    /// </summary>
    public IReadOnlyList<Sha256Digest> Frontier => _hashes.ToArray();

    /// <summary>Restores a compact range from its size and frontier (as returned by <see cref="Frontier"/>).</summary>
    /// <exception cref="ArgumentException">The frontier does not have one hash per set bit of the size.</exception>
    public static CompactRange FromFrontier(long size, IReadOnlyList<Sha256Digest> frontier)
    {
        ArgumentOutOfRangeException.ThrowIfNegative(size);
        ArgumentNullException.ThrowIfNull(frontier);
        var expected = BitOperations.PopCount((ulong)size);
        if (frontier.Count != expected)
        {
            throw new ArgumentException(
                $"a tree of {size} leaves has a frontier of {expected} subtree hashes, got {frontier.Count}",
                nameof(frontier));
        }

        var hashes = new List<Sha256Digest>(MaxSubtrees);
        hashes.AddRange(frontier);
        return new CompactRange(size, hashes);
    }

    /// <summary>Reads the frontier of the first <paramref name="size"/> leaves from <paramref name="source"/>.</summary>
    public static CompactRange FromSource(long size, IMerkleHashSource source)
    {
        ArgumentOutOfRangeException.ThrowIfNegative(size);
        ArgumentNullException.ThrowIfNull(source);
        var hashes = new List<Sha256Digest>(MaxSubtrees);
        var remaining = (ulong)size;
        ulong position = 0;
        while (remaining != 0)
        {
            var level = 63 - BitOperations.LeadingZeroCount(remaining);
            hashes.Add(source.GetHash(level, (long)(position >> level)));
            position += 1UL << level;
            remaining &= ~(1UL << level);
        }

        return new CompactRange(size, hashes);
    }

    /// <summary>
    /// Appends the leaf with hash <paramref name="leafHash"/> as leaf number <see cref="Size"/>.
    /// <paramref name="onCompletedSubtree"/>, when given, is called with (level, index, hash) for
    /// every subtree this leaf completes, lowest level first: the leaf itself at level 0, then each
    /// merged parent. Over a run of appends it sees every complete aligned subtree exactly once.
    /// </summary>
    /// <exception cref="InvalidOperationException">The range already holds <see cref="long.MaxValue"/> leaves.</exception>
    public void Append(in Sha256Digest leafHash, Action<int, long, Sha256Digest>? onCompletedSubtree = null)
    {
        if (Size == long.MaxValue)
        {
            throw new InvalidOperationException("the tree is full: it already holds long.MaxValue leaves");
        }

        var hash = leafHash;
        var index = Size;
        var level = 0;
        onCompletedSubtree?.Invoke(level, index, hash);

        // Each trailing one bit of the old size is a left sibling waiting on the frontier.
        var merges = BitOperations.TrailingZeroCount(~(ulong)Size);
        for (var i = 0; i < merges; i++)
        {
            hash = MerkleHash.Node(_hashes[^1], hash);
            _hashes.RemoveAt(_hashes.Count - 1);
            level++;
            index >>= 1;
            onCompletedSubtree?.Invoke(level, index, hash);
        }

        _hashes.Add(hash);
        Size++;
    }

    /// <summary>The root hash MTH(D[0:Size]); <see cref="MerkleHash.Empty"/> for the empty tree.</summary>
    public Sha256Digest Root()
    {
        if (_hashes.Count == 0)
        {
            return MerkleHash.Empty;
        }

        var root = _hashes[^1];
        for (var i = _hashes.Count - 2; i >= 0; i--)
        {
            root = MerkleHash.Node(_hashes[i], root);
        }

        return root;
    }
}
