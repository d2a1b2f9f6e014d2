namespace Enclave.Ledger.Tiles;

/// <summary>Reads C2SP tlog-tiles resources from some storage (the database, an exported directory).</summary>
public interface ITileReader
{
    /// <summary>
    /// The first <paramref name="width"/> hashes (32 bytes each) of Merkle tile (<paramref name="level"/>,
    /// <paramref name="index"/>), or null when the store does not hold that many.
    /// </summary>
    byte[]? ReadTile(int level, long index, int width);

    /// <summary>The entry bundle with exactly <paramref name="width"/> entries, or null when absent.</summary>
    byte[]? ReadEntryBundle(long index, int width);
}
