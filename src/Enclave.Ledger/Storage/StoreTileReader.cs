using Enclave.Ledger.Tiles;
using Enclave.State.Ledger;

namespace Enclave.Ledger.Storage;

/// <summary>Reads tiles and entry bundles from ledger storage (a connection or one of its snapshots).</summary>
internal sealed class StoreTileReader(ILedgerView view) : ITileReader
{
    public byte[]? ReadTile(int level, long index, int width) => view.ReadTile(level, index, width);

    public byte[]? ReadEntryBundle(long index, int width)
    {
        var entries = view.ReadEntries(index * TilePath.TileWidth, width);
        if (entries.Count != width)
        {
            return null;
        }

        var bundle = new byte[entries.Sum(e => 2 + e.Length)];
        var offset = 0;
        foreach (var entry in entries)
        {
            bundle[offset] = (byte)(entry.Length >> 8);
            bundle[offset + 1] = (byte)entry.Length;
            entry.CopyTo(bundle.AsSpan(offset + 2));
            offset += 2 + entry.Length;
        }

        return bundle;
    }
}
