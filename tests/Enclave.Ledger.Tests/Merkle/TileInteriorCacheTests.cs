using Enclave.Core;
using Enclave.Ledger.Merkle;
using Enclave.Ledger.Tiles;

namespace Enclave.Ledger.Tests.Merkle;

/// <summary>
/// Proofs served from tiles with the shared <see cref="TileInteriorCache"/> are the proofs of the in-memory tree, at
/// sizes where the cache holds full and partial tiles of two strata and is reused while the tree grows.
/// </summary>
public sealed class TileInteriorCacheTests
{
    // 66,000 leaves: 257 full level-0 tiles, one full level-1 tile (65,536 leaves), a partial tile at each level.
    private const int Leaves = 66_000;

    private static readonly Lazy<MemoryHashSource> Tree = new(() => new MemoryHashSource(MerkleTestTrees.DistinctLeaves(Leaves)));

    [Fact]
    public void InclusionProofs_WithACache_EqualTheInMemoryTreesAndVerify()
    {
        var cache = new TileInteriorCache();
        var reader = new MemoryTileReader(Tree.Value);
        foreach (var size in new long[] { 255, 256, 257, 4_096, 4_100, 65_535, 65_536, 65_537, Leaves })
        {
            var reference = new MemoryHashSource(MerkleTestTrees.DistinctLeaves((int)size));
            var root = MerkleProofs.Root(size, reference);
            Assert.Equal(root, MerkleProofs.Root(size, new TileHashSource(reader, size, cache)));
            foreach (var index in new[] { 0, size / 3, size / 2, size - 257, size - 1 }.Where(i => i >= 0).Distinct())
            {
                var proof = MerkleProofs.Inclusion(index, size, new TileHashSource(reader, size, cache));
                Assert.Equal(MerkleProofs.Inclusion(index, size, reference), proof);
                Assert.True(MerkleVerifier.VerifyInclusion(reference.GetHash(0, index), index, size, proof, root));
            }
        }

        Assert.InRange(cache.Count, 2, 258);
    }

    [Fact]
    public void ConsistencyProofs_WithACache_EqualTheInMemoryTreesAndVerify()
    {
        var cache = new TileInteriorCache();
        var reader = new MemoryTileReader(Tree.Value);
        var newRoot = MerkleProofs.Root(Leaves, Tree.Value);
        foreach (var oldSize in new long[] { 1, 255, 256, 300, 4_096, 33_333, 65_536, 65_999 })
        {
            var proof = MerkleProofs.Consistency(oldSize, Leaves, new TileHashSource(reader, Leaves, cache));
            Assert.Equal(MerkleProofs.Consistency(oldSize, Leaves, Tree.Value), proof);
            var oldRoot = MerkleProofs.Root(oldSize, new TileHashSource(reader, oldSize, cache));
            Assert.True(MerkleVerifier.VerifyConsistency(oldSize, Leaves, oldRoot, newRoot, proof));
        }
    }

    [Fact]
    public void AHashHighInAFullTile_ComesFromTheCache_WithoutReadingTheTile()
    {
        var cache = new TileInteriorCache();
        var reader = new MemoryTileReader(Tree.Value);
        var warm = new TileHashSource(reader, Leaves, cache);
        Assert.Equal(Tree.Value.GetHash(7, 3), warm.GetHash(7, 3)); // tile 0/1 (leaves 256 to 511)
        Assert.Equal(1, warm.TileReads);

        var source = new TileHashSource(reader, Leaves, cache);
        foreach (var (level, index) in new[] { (4, 16), (5, 9), (6, 5), (7, 3) })
        {
            Assert.Equal(Tree.Value.GetHash(level, index), source.GetHash(level, index));
        }

        Assert.Equal(0, source.TileReads);
        Assert.Equal(Tree.Value.GetHash(3, 32), source.GetHash(3, 32)); // below the summary row: from the tile
        Assert.Equal(1, source.TileReads);
    }

    [Fact]
    public void APartialTile_KeepsItsCompleteBlocks_AndExtendsThemAsTheTreeGrows()
    {
        var cache = new TileInteriorCache();
        var reader = new MemoryTileReader(Tree.Value);
        const long size = 256 + 200; // tile 0/1 holds 200 of 256 hashes: 12 complete blocks of 16
        var first = new TileHashSource(reader, size, cache);
        Assert.Equal(Tree.Value.GetHash(6, 4), first.GetHash(6, 4)); // leaves 256-319, in the partial tile 0/1
        Assert.Equal(1, first.TileReads);

        // The same tree size again: the partial tile's blocks come from the cache.
        var again = new TileHashSource(reader, size, cache);
        Assert.Equal(Tree.Value.GetHash(6, 5), again.GetHash(6, 5)); // leaves 320-383
        Assert.Equal(Tree.Value.GetHash(4, 27), again.GetHash(4, 27)); // leaves 432-447, the last complete block
        Assert.Equal(0, again.TileReads);

        // A larger tree asks for a block the cache does not hold yet: the tile is read again and the row extended.
        var larger = new TileHashSource(reader, 512, cache);
        Assert.Equal(Tree.Value.GetHash(7, 3), larger.GetHash(7, 3)); // leaves 384-511: tile 0/1, now full
        Assert.Equal(1, larger.TileReads);

        // The extended row still answers the smaller tree, without a read, and the same as the in-memory tree.
        var smaller = new TileHashSource(reader, size, cache);
        Assert.Equal(Tree.Value.GetHash(5, 13), smaller.GetHash(5, 13)); // leaves 416-447
        Assert.Equal(0, smaller.TileReads);
        Assert.Throws<ArgumentOutOfRangeException>(() => smaller.GetHash(4, 28)); // leaves 448-463: not complete at this size
    }

    [Fact]
    public void ATileAboveLevelZero_IsReadFromStorageOnce()
    {
        var cache = new TileInteriorCache();
        var reader = new MemoryTileReader(Tree.Value);
        var first = new TileHashSource(reader, Leaves, cache);
        Assert.Equal(Tree.Value.GetHash(8, 5), first.GetHash(8, 5));     // tile 1/0: hash 5 of level 8
        Assert.Equal(Tree.Value.GetHash(8, 256), first.GetHash(8, 256)); // tile 1/1, partial: its only hash
        Assert.Equal(2, first.TileReads);

        var second = new TileHashSource(reader, Leaves, cache);
        Assert.Equal(Tree.Value.GetHash(9, 3), second.GetHash(9, 3));    // tile 1/0 again, from the cache
        Assert.Equal(Tree.Value.GetHash(8, 256), second.GetHash(8, 256));
        Assert.Equal(Tree.Value.GetHash(2, 7), second.GetHash(2, 7));    // a level-0 tile is still read
        Assert.Equal(1, second.TileReads);
    }

    [Fact]
    public void AFullCache_StartsOver_AndStillAnswersCorrectly()
    {
        var cache = new TileInteriorCache(maxTiles: 2);
        var reader = new MemoryTileReader(Tree.Value);
        var source = new TileHashSource(reader, Leaves, cache);
        for (var tile = 0; tile < 5; tile++)
        {
            Assert.Equal(Tree.Value.GetHash(7, (2 * tile) + 1), source.GetHash(7, (2 * tile) + 1));
            Assert.InRange(cache.Count, 1, 2);
        }
    }

    [Fact]
    public void Constructor_RefusesACapacityBelowOne()
    {
        Assert.Throws<ArgumentOutOfRangeException>(() => new TileInteriorCache(0));
    }

    /// <summary>Tiles cut from an in-memory tree: tile (L, i) holds hashes i*256.. at tree level 8L.</summary>
    private sealed class MemoryTileReader(MemoryHashSource tree) : ITileReader
    {
        public byte[]? ReadTile(int level, long index, int width)
        {
            var bytes = new byte[width * Sha256Digest.Size];
            for (var i = 0; i < width; i++)
            {
                tree.GetHash(level * TilePath.TileHeight, (index * TilePath.TileWidth) + i).CopyTo(bytes.AsSpan(i * Sha256Digest.Size));
            }

            return bytes;
        }

        public byte[]? ReadEntryBundle(long index, int width) => null;
    }
}
