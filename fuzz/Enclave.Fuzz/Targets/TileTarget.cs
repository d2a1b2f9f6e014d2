using System.Buffers.Binary;
using Enclave.Core;
using Enclave.Ledger;
using Enclave.Ledger.Merkle;
using Enclave.Ledger.Tiles;

namespace Enclave.Fuzz.Targets;

/// <summary>
/// tlog tiles (c2sp.org/tlog-tiles) as <see cref="TileHashSource"/> reads them from an exported ledger: the first
/// 12 bytes choose the tree size, a leaf index and an older size, the rest is the tile store. Roots, inclusion and
/// consistency proofs and a compact range are computed over it; rejection is <see cref="LedgerVerificationException"/>
/// (a tile missing or of the wrong length).
/// </summary>
internal static class TileTarget
{
    private const long MaxTreeSize = 1L << 24;

    public static Harness Harness { get; } = new()
    {
        Name = "tiles",
        Parser = "Enclave.Ledger.Tiles.TileHashSource, MerkleProofs, CompactRange",
        Run = Run,
        Seeds = () =>
        [
            ("full-tile.bin", Store(256, 17, 100, 256 * 32 + 32)),
            ("partial.bin", Store(300, 299, 255, (256 + 44 + 1) * 32)),
            ("two-levels.bin", Store(70_000, 65_536, 1_000, 300 * 32)),
            ("short.bin", Store(5, 0, 3, 100)),
        ],
    };

    private static void Run(byte[] input)
    {
        if (input.Length < 12)
        {
            return;
        }

        var size = 1 + (BinaryPrimitives.ReadUInt32LittleEndian(input) % MaxTreeSize);
        var index = BinaryPrimitives.ReadUInt32LittleEndian(input.AsSpan(4)) % size;
        var older = BinaryPrimitives.ReadUInt32LittleEndian(input.AsSpan(8)) % (size + 1);
        var reader = new BlobTileReader(input.AsMemory(12));
        try
        {
            MerkleProofs.Root(size, new TileHashSource(reader, size));
            MerkleProofs.Inclusion(index, size, new TileHashSource(reader, size));
            MerkleProofs.Consistency(older, size, new TileHashSource(reader, size));
            CompactRange.FromSource(size, new TileHashSource(reader, size));
        }
        catch (LedgerVerificationException)
        {
        }
    }

    private static byte[] Store(uint size, uint index, uint older, int tileBytes)
    {
        var bytes = new byte[12 + tileBytes];
        BinaryPrimitives.WriteUInt32LittleEndian(bytes, size - 1);
        BinaryPrimitives.WriteUInt32LittleEndian(bytes.AsSpan(4), index);
        BinaryPrimitives.WriteUInt32LittleEndian(bytes.AsSpan(8), older);
        for (var i = 12; i + Sha256Digest.Size <= bytes.Length; i += Sha256Digest.Size)
        {
            MerkleHash.Leaf(BitConverter.GetBytes(i)).CopyTo(bytes.AsSpan(i));
        }

        return bytes;
    }

    /// <summary>
    /// Serves every tile from one blob: tile (level, index) starts at a position derived from its coordinates and is
    /// as long as asked when the blob has that many bytes there (shorter otherwise); an empty blob has no tiles.
    /// </summary>
    private sealed class BlobTileReader(ReadOnlyMemory<byte> blob) : ITileReader
    {
        public byte[]? ReadTile(int level, long index, int width)
        {
            if (blob.IsEmpty)
            {
                return null;
            }

            var start = (int)((((long)level * 8191) + index) % blob.Length);
            var length = Math.Min(width * Sha256Digest.Size, blob.Length - start);
            return blob.Slice(start, length).ToArray();
        }

        public byte[]? ReadEntryBundle(long index, int width) => null;
    }
}
