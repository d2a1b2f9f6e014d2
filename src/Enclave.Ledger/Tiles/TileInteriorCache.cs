using System.Collections.Concurrent;
using Enclave.Core;

namespace Enclave.Ledger.Tiles;

/// <summary>
/// Interior hashes of tiles, shared by the <see cref="TileHashSource"/> instances of one reader. A tile stores only the
/// bottom row of its 8-level stratum, so a hash higher in the stratum costs up to 127 SHA-256 computations. A run of
/// <see cref="BlockWidth"/> consecutive hashes that is complete never changes (the log only grows), so the hash over
/// each complete block (the tile's row at level <see cref="SummaryLevel"/>: 16 hashes for a full tile, fewer for the
/// partial tile at the right edge of the tree) is computed once and kept. A hash at stratum level 4 to 7 then costs at
/// most 7 node hashes, one at level 0 to 3 at most 15 from the tile itself: a proof does about 22 hashes per stratum
/// instead of about 250. A partial tile's row is extended when a larger tree asks for a block it did not hold yet; the
/// blocks it holds stay valid for every tree size (a complete block is the same in every larger tree, and a smaller
/// tree asks only for blocks that were complete in it). The tiles above level 0 are few and every proof reads some of
/// them, so their hashes are kept whole as well (<see cref="MaxUpperTiles"/>): a proof at a million entries then reads
/// one tile from storage instead of four. Bounded: when <see cref="MaxTiles"/> tiles are held the cache starts over
/// (at most 512 bytes of hashes per tile), and so does the upper-tile part at <see cref="MaxUpperTiles"/>. Thread-safe.
/// </summary>
public sealed class TileInteriorCache
{
    /// <summary>The level within a tile whose hashes are kept.</summary>
    public const int SummaryLevel = 4;

    /// <summary>Hashes kept per full tile.</summary>
    public const int SummaryWidth = TilePath.TileWidth >> SummaryLevel;

    /// <summary>Consecutive tile hashes under one kept hash.</summary>
    public const int BlockWidth = 1 << SummaryLevel;

    private readonly ConcurrentDictionary<(int Level, long Index), Sha256Digest[]> _summaries = new();
    private readonly ConcurrentDictionary<(int Level, long Index), byte[]> _upperTiles = new();

    /// <summary>A cache of at most <paramref name="maxTiles"/> full tiles (the default, 16,384, covers 4 million entries in about 9 MB).</summary>
    public TileInteriorCache(int maxTiles = 16_384)
    {
        ArgumentOutOfRangeException.ThrowIfLessThan(maxTiles, 1);
        MaxTiles = maxTiles;
    }

    /// <summary>The most tiles held at once.</summary>
    public int MaxTiles { get; }

    /// <summary>
    /// The most tiles above level 0 whose hashes are kept whole (8 KiB each): there are 256 times fewer of them than
    /// of level-0 tiles (1,024 cover the upper strata of 268 million entries), and every proof reads one or two of them.
    /// </summary>
    public const int MaxUpperTiles = 1024;

    /// <summary>Tiles held now.</summary>
    public int Count => _summaries.Count;

    /// <summary>
    /// The summary row of tile (<paramref name="level"/>, <paramref name="index"/>) when it is held with at least
    /// <paramref name="blocks"/> complete blocks.
    /// </summary>
    internal bool TryGet(int level, long index, int blocks, out Sha256Digest[] summary) =>
        _summaries.TryGetValue((level, index), out summary!) && summary.Length >= blocks;

    /// <summary>
    /// The first <paramref name="width"/> hashes of tile (<paramref name="level"/>, <paramref name="index"/>), level 1
    /// or higher, when at least that many are held (a tile's first hashes never change as the tree grows).
    /// </summary>
    internal bool TryGetUpperTile(int level, long index, int width, out byte[] hashes)
    {
        if (level >= 1 && _upperTiles.TryGetValue((level, index), out var held) && held.Length >= width * Sha256Digest.Size)
        {
            hashes = held.Length == width * Sha256Digest.Size ? held : held.AsSpan(0, width * Sha256Digest.Size).ToArray();
            return true;
        }

        hashes = [];
        return false;
    }

    /// <summary>Keeps the hashes of tile (<paramref name="level"/>, <paramref name="index"/>) read from storage when it is above level 0.</summary>
    internal void AddUpperTile(int level, long index, byte[] hashes)
    {
        if (level < 1)
        {
            return;
        }

        if (_upperTiles.TryGetValue((level, index), out var held) && held.Length >= hashes.Length)
        {
            return;
        }

        if (_upperTiles.Count >= MaxUpperTiles)
        {
            _upperTiles.Clear();
        }

        _upperTiles[(level, index)] = hashes;
    }

    /// <summary>
    /// Computes, keeps and returns the summary row of a tile from its hashes (all 256 of a full tile, or the first
    /// ones of a partial tile): one hash per complete block of <see cref="BlockWidth"/>; a partial block at the end is
    /// left out.
    /// </summary>
    internal Sha256Digest[] Add(int level, long index, ReadOnlySpan<byte> tile)
    {
        if (tile.Length % Sha256Digest.Size != 0 || tile.Length > TilePath.TileWidth * Sha256Digest.Size)
        {
            throw new ArgumentException($"a tile holds 1 to {TilePath.TileWidth} hashes of {Sha256Digest.Size} bytes, not {tile.Length} bytes", nameof(tile));
        }

        var blocks = tile.Length / Sha256Digest.Size / BlockWidth;
        var summary = new Sha256Digest[blocks];
        for (var i = 0; i < blocks; i++)
        {
            summary[i] = TileHashSource.HashRange(tile.Slice(i * BlockWidth * Sha256Digest.Size, BlockWidth * Sha256Digest.Size));
        }

        if (_summaries.TryGetValue((level, index), out var held) && held.Length >= blocks)
        {
            return held; // another thread extended it already
        }

        if (_summaries.Count >= MaxTiles)
        {
            _summaries.Clear();
        }

        _summaries[(level, index)] = summary;
        return summary;
    }
}
