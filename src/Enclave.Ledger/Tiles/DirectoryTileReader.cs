namespace Enclave.Ledger.Tiles;

/// <summary>Reads tiles exported as static files (<c>enclave ledger export</c>, or any tlog-tiles log mirrored to disk).</summary>
public sealed class DirectoryTileReader : ITileReader
{
    private readonly string _root;

    public DirectoryTileReader(string root)
    {
        _root = Path.GetFullPath(root);
    }

    /// <inheritdoc/>
    public byte[]? ReadTile(int level, long index, int width)
    {
        // A partial tile may have been replaced by its full version; the full one is a valid fallback.
        var bytes = ReadExact(TilePath.Tile(level, index, width), width * 32)
            ?? (width < TilePath.TileWidth ? ReadExact(TilePath.Tile(level, index, TilePath.TileWidth), TilePath.TileWidth * 32) : null);
        return bytes is null ? null : bytes.AsSpan(0, width * 32).ToArray();
    }

    /// <inheritdoc/>
    public byte[]? ReadEntryBundle(long index, int width)
    {
        var path = Path.Combine(_root, TilePath.EntryBundle(index, width));
        if (!File.Exists(path))
        {
            return null;
        }

        // 256 entries of at most 2 + 65535 bytes each.
        var info = new FileInfo(path);
        if (info.Length > TilePath.TileWidth * (2L + ushort.MaxValue))
        {
            return null;
        }

        return File.ReadAllBytes(path);
    }

    private byte[]? ReadExact(string relative, int expectedLength)
    {
        var path = Path.Combine(_root, relative);
        if (!File.Exists(path))
        {
            return null;
        }

        var info = new FileInfo(path);
        if (info.Length != expectedLength)
        {
            throw new LedgerVerificationException(LedgerFailure.TileCorrupt, $"tile {relative} is {info.Length} bytes; expected {expectedLength}");
        }

        return File.ReadAllBytes(path);
    }
}
