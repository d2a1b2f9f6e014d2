using System.Collections.Concurrent;
using Enclave.Core;

namespace Enclave.Ledger.Tiles;

/// <summary>
/// Interior hashes of full tiles, shared by the <see cref="TileHashSource"/> instances of one reader. A tile stores
/// only the bottom row of its 8-level stratum, so a hash higher in the stratum costs up to 127 SHA-256 computations;
/// a full tile (256 hashes) never changes, so its row at level <see cref="SummaryLevel"/> (16 hashes, each over 16
/// consecutive hashes of the tile) is computed once and kept. A hash at stratum level 4 to 7 then costs at most
/// 7 node hashes, one at level 0 to 3 at most 15 from the tile itself: a proof does about 22 hashes per stratum
/// instead of about 250. Partial tiles (the right edge of the tree, which still grows) are never cached.
/// Bounded: when <see cref="MaxTiles"/> tiles are held the cache starts over (512 bytes of hashes per tile).
/// Thread-safe.
/// </summary>
public sealed class TileInteriorCache
{
    /// <summary>The level within a tile whose hashes are kept.</summary>
    public const int SummaryLevel = 4;

    /// <summary>Hashes kept per full tile.</summary>
    public const int SummaryWidth = TilePath.TileWidth >> SummaryLevel;

    private readonly ConcurrentDictionary<(int Level, long Index), Sha256Digest[]> _summaries = new();

    /// <summary>A cache of at most <paramref name="maxTiles"/> full tiles (the default, 16,384, covers 4 million entries in about 9 MB).</summary>
    public TileInteriorCache(int maxTiles = 16_384)
    {
        ArgumentOutOfRangeException.ThrowIfLessThan(maxTiles, 1);
        MaxTiles = maxTiles;
    }

    /// <summary>The most tiles held at once.</summary>
    public int MaxTiles { get; }

    /// <summary>Tiles held now.</summary>
    public int Count => _summaries.Count;

    /// <summary>The summary row of full tile (<paramref name="level"/>, <paramref name="index"/>), when held.</summary>
    internal bool TryGet(int level, long index, out Sha256Digest[] summary) =>
        _summaries.TryGetValue((level, index), out summary!);

    /// <summary>Computes, keeps and returns the summary row of a full tile from its 256 hashes.</summary>
    internal Sha256Digest[] Add(int level, long index, ReadOnlySpan<byte> fullTile)
    {
        if (fullTile.Length != TilePath.TileWidth * Sha256Digest.Size)
        {
            throw new ArgumentException($"a full tile has {TilePath.TileWidth * Sha256Digest.Size} bytes, not {fullTile.Length}", nameof(fullTile));
        }

        const int span = 1 << SummaryLevel;
        var summary = new Sha256Digest[SummaryWidth];
        for (var i = 0; i < SummaryWidth; i++)
        {
            summary[i] = TileHashSource.HashRange(fullTile.Slice(i * span * Sha256Digest.Size, span * Sha256Digest.Size));
        }

        if (_summaries.Count >= MaxTiles)
        {
            _summaries.Clear();
        }

        _summaries[(level, index)] = summary;
        return summary;
    }
}
