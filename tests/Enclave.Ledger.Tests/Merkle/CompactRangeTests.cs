using Enclave.Core;
using Enclave.Ledger.Merkle;

namespace Enclave.Ledger.Tests.Merkle;

public sealed class CompactRangeTests
{
    private const int MaxSize = 600;
    private static readonly Sha256Digest[] Leaves = MerkleTestTrees.DistinctLeaves(MaxSize);
    private static readonly MemoryHashSource Source = new(Leaves);

    [Fact]
    public void Root_EqualsMerkleProofsRoot_AfterEveryAppendUpTo600()
    {
        var range = new CompactRange();
        Assert.Equal(MerkleHash.Empty, range.Root());

        for (var n = 1; n <= MaxSize; n++)
        {
            range.Append(Leaves[n - 1]);

            Assert.Equal(n, range.Size);
            Assert.Equal(MerkleProofs.Root(n, new RecordingSource(Source, n)), range.Root());
        }
    }

    [Fact]
    public void Append_ReportsExactlyTheSubtreesItCompletes_WithTheirHashes()
    {
        var range = new CompactRange();
        var seen = new HashSet<(int Level, long Index)>();

        for (var n = 1; n <= MaxSize; n++)
        {
            var reported = new List<(int Level, long Index, Sha256Digest Hash)>();
            range.Append(Leaves[n - 1], (level, index, hash) => reported.Add((level, index, hash)));

            // Leaf n-1 completes precisely the aligned subtrees that end at n: one per trailing zero bit of n, plus the leaf.
            var expected = new List<(int Level, long Index)>();
            for (var level = 0; n % (1 << level) == 0; level++)
            {
                expected.Add((level, (n >> level) - 1));
            }

            Assert.Equal(expected, reported.Select(r => (r.Level, r.Index)));
            foreach (var (level, index, hash) in reported)
            {
                Assert.True(seen.Add((level, index)), $"({level}, {index}) reported twice");
                Assert.Equal(Source.GetHash(level, index), hash);
            }
        }

        // Over the whole run, every complete aligned subtree of the 600-leaf tree was reported once.
        var complete = 0;
        for (var level = 0; MaxSize >> level > 0; level++)
        {
            complete += MaxSize >> level;
        }

        Assert.Equal(complete, seen.Count);
    }

    [Fact]
    public void FromSource_RoundTripsThroughFrontier_AndKeepsAppending()
    {
        for (var n = 0; n <= 130; n++)
        {
            var restored = CompactRange.FromSource(n, new RecordingSource(Source, n));
            Assert.Equal(n, restored.Size);
            Assert.Equal(MerkleProofs.Root(n, Source), restored.Root());

            var copy = CompactRange.FromFrontier(restored.Size, restored.Frontier);
            Assert.Equal(restored.Root(), copy.Root());
            Assert.Equal(restored.Frontier, copy.Frontier);

            for (var k = n; k < n + 20; k++)
            {
                restored.Append(Leaves[k]);
            }

            Assert.Equal(MerkleProofs.Root(n + 20, Source), restored.Root());
        }
    }

    [Fact]
    public void Frontier_IsASnapshot_NotALiveView()
    {
        var range = CompactRange.FromSource(7, Source);
        var frontier = range.Frontier;

        range.Append(Leaves[7]);

        Assert.Equal(3, frontier.Count);
        Assert.Single(range.Frontier);
    }

    [Fact]
    public void FromFrontier_RejectsAFrontierOfTheWrongLength()
    {
        var frontier = CompactRange.FromSource(7, Source).Frontier;

        Assert.Throws<ArgumentException>(() => CompactRange.FromFrontier(8, frontier));
        Assert.Throws<ArgumentException>(() => CompactRange.FromFrontier(7, frontier.Take(2).ToArray()));
        Assert.Throws<ArgumentOutOfRangeException>(() => CompactRange.FromFrontier(-1, frontier));
    }

    [Fact]
    public void Refusals_SayWhatIsWrong()
    {
        var frontier = CompactRange.FromSource(7, Source).Frontier;
        var wrongLength = Assert.Throws<ArgumentException>(() => CompactRange.FromFrontier(8, frontier));
        Assert.Equal("frontier", wrongLength.ParamName);
        Assert.StartsWith("a tree of 8 leaves has a frontier of 1 subtree hashes, got 3", wrongLength.Message);

        var full = CompactRange.FromFrontier(long.MaxValue, Enumerable.Repeat(Leaves[0], 63).ToArray());
        var tooMany = Assert.Throws<InvalidOperationException>(() => full.Append(Leaves[1]));
        Assert.Equal("the tree is full: it already holds long.MaxValue leaves", tooMany.Message);
    }

    // Mutation testing (docs/testing.md): a negative size also makes the source throw ArgumentOutOfRangeException, and
    // an empty range never reads its source, so each argument check is asserted by the parameter it names.
    [Fact]
    public void ArgumentChecks_NameTheirParameter_BeforeAnyRead()
    {
        var source = new RecordingSource(Source, MaxSize);

        Assert.Equal("size", Assert.Throws<ArgumentOutOfRangeException>(() => CompactRange.FromSource(-1, source)).ParamName);
        Assert.Equal("source", Assert.Throws<ArgumentNullException>(() => CompactRange.FromSource(0, null!)).ParamName);
        Assert.Equal("frontier", Assert.Throws<ArgumentNullException>(() => CompactRange.FromFrontier(1, null!)).ParamName);
        Assert.Equal("size", Assert.Throws<ArgumentOutOfRangeException>(() => CompactRange.FromFrontier(-1, [])).ParamName);
        Assert.Equal(0, source.Reads);
    }

    [Fact]
    public void HugeRanges_MatchProofRoots_AndRefuseToGrowPastLongMaxValue()
    {
        var uniform = new UniformHashSource(long.MaxValue);
        long start = (1L << 62) - 3;
        var range = CompactRange.FromSource(start, uniform);
        for (var i = 1; i <= 5; i++)
        {
            range.Append(uniform.LeafHash);
            Assert.Equal(MerkleProofs.Root(start + i, uniform), range.Root());
        }

        var full = CompactRange.FromSource(long.MaxValue, uniform);
        Assert.Equal(63, full.Frontier.Count);
        Assert.Equal(MerkleProofs.Root(long.MaxValue, uniform), full.Root());
        Assert.Throws<InvalidOperationException>(() => full.Append(uniform.LeafHash));
        Assert.Equal(long.MaxValue, full.Size);
    }
}
