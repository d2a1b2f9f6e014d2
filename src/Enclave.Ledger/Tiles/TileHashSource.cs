using Enclave.Core;
using Enclave.Ledger.Merkle;

namespace Enclave.Ledger.Tiles;

/// <summary>
/// Serves Merkle subtree hashes for a tree of a fixed size from tiles: a hash at tree level 8L is read
/// from a tile of level L, and the levels in between are recomputed from at most 128 hashes of one tile.
/// Each tile is read once per instance, so a proof costs O(log n) tile reads. With a <see cref="TileInteriorCache"/>
/// (shared across instances, as <see cref="LedgerReader"/> does), a hash high in the stratum of a tile comes from the
/// cached interior row instead of from up to 128 hashes of the tile.
/// </summary>
public sealed class TileHashSource : IMerkleHashSource
{
    private readonly ITileReader _reader;
    private readonly Dictionary<(int Level, long Index), byte[]> _cache = [];
    private readonly TileInteriorCache? _interiors;

    public TileHashSource(ITileReader reader, long treeSize, TileInteriorCache? interiors = null)
    {
        ArgumentNullException.ThrowIfNull(reader);
        ArgumentOutOfRangeException.ThrowIfNegative(treeSize);
        _reader = reader;
        TreeSize = treeSize;
        _interiors = interiors;
    }

    /// <summary>The tree size this source answers for.</summary>
    public long TreeSize { get; }

    /// <summary>How many tiles were read (for tests and benchmarks).</summary>
    public int TileReads { get; private set; }

    /// <inheritdoc/>
    public Sha256Digest GetHash(int level, long index)
    {
        if (level is < 0 or > 62 || index < 0 || index >= TreeSize >> level)
        {
            throw new ArgumentOutOfRangeException(nameof(index), $"no complete subtree at level {level}, index {index} in a tree of size {TreeSize}");
        }

        var tileLevel = level / TilePath.TileHeight;
        var sub = level % TilePath.TileHeight;
        var first = index << sub;                       // position among the hashes at tree level 8 * tileLevel
        var tileIndex = first / TilePath.TileWidth;
        var offset = (int)(first % TilePath.TileWidth);
        var count = 1 << sub;
        if (sub >= TileInteriorCache.SummaryLevel && _interiors is not null)
        {
            // A complete subtree this high covers whole blocks of the tile, complete in this tree (full tile or not).
            var firstBlock = offset >> TileInteriorCache.SummaryLevel;
            var blocks = count >> TileInteriorCache.SummaryLevel;
            if (!_interiors.TryGet(tileLevel, tileIndex, firstBlock + blocks, out var summary))
            {
                summary = _interiors.Add(tileLevel, tileIndex, Tile(tileLevel, tileIndex));
            }

            return HashRange(summary.AsSpan(firstBlock, blocks));
        }

        var tile = Tile(tileLevel, tileIndex);
        return HashRange(tile.AsSpan(offset * Sha256Digest.Size, count * Sha256Digest.Size));
    }

    private byte[] Tile(int tileLevel, long tileIndex)
    {
        if (_cache.TryGetValue((tileLevel, tileIndex), out var cached))
        {
            return cached;
        }

        var available = TreeSize >> (TilePath.TileHeight * tileLevel);
        var width = (int)Math.Min(TilePath.TileWidth, available - (tileIndex * TilePath.TileWidth));
        if (_interiors is not null && _interiors.TryGetUpperTile(tileLevel, tileIndex, width, out var held))
        {
            _cache[(tileLevel, tileIndex)] = held;
            return held;
        }

        var tile = _reader.ReadTile(tileLevel, tileIndex, width)
            ?? throw new LedgerVerificationException(LedgerFailure.TileMissing, $"tile {TilePath.Tile(tileLevel, tileIndex, width)} is missing");
        if (tile.Length != width * Sha256Digest.Size)
        {
            throw new LedgerVerificationException(LedgerFailure.TileCorrupt, $"tile {TilePath.Tile(tileLevel, tileIndex, width)} has {tile.Length} bytes; expected {width * Sha256Digest.Size}");
        }

        TileReads++;
        _cache[(tileLevel, tileIndex)] = tile;
        _interiors?.AddUpperTile(tileLevel, tileIndex, tile);
        return tile;
    }

    /// <summary>Root of a power-of-two run of consecutive hashes.</summary>
    internal static Sha256Digest HashRange(ReadOnlySpan<byte> hashes)
    {
        var n = hashes.Length / Sha256Digest.Size;
        if (n == 1)
        {
            return new Sha256Digest(hashes);
        }

        Span<Sha256Digest> level = n <= 128 ? stackalloc Sha256Digest[n] : new Sha256Digest[n];
        for (var i = 0; i < n; i++)
        {
            level[i] = new Sha256Digest(hashes.Slice(i * Sha256Digest.Size, Sha256Digest.Size));
        }

        while (n > 1)
        {
            for (var i = 0; i < n / 2; i++)
            {
                level[i] = MerkleHash.Node(level[2 * i], level[(2 * i) + 1]);
            }

            n /= 2;
        }

        return level[0];
    }

    /// <summary>Root of a power-of-two run of consecutive digests (at most 16: a summary row).</summary>
    private static Sha256Digest HashRange(ReadOnlySpan<Sha256Digest> digests)
    {
        var n = digests.Length;
        if (n == 1)
        {
            return digests[0];
        }

        Span<Sha256Digest> level = stackalloc Sha256Digest[TileInteriorCache.SummaryWidth];
        digests.CopyTo(level);
        while (n > 1)
        {
            for (var i = 0; i < n / 2; i++)
            {
                level[i] = MerkleHash.Node(level[2 * i], level[(2 * i) + 1]);
            }

            n /= 2;
        }

        return level[0];
    }
}
