using System.Numerics;
using Enclave.Core;
using Enclave.Ledger.Merkle;

namespace Enclave.Ledger.Tests.Merkle;

public sealed class MerkleProofsTests
{
    private const int ExhaustiveSize = 64;
    private static readonly Sha256Digest[] Leaves = MerkleTestTrees.DistinctLeaves(ExhaustiveSize);
    private static readonly MemoryHashSource Source = new(Leaves);

    [Fact]
    public void Root_EqualsRfcMth_ForEverySizeUpTo64()
    {
        for (var n = 0; n <= ExhaustiveSize; n++)
        {
            var source = new RecordingSource(Source, n);

            Assert.Equal(MerkleTestTrees.Mth(Leaves.AsSpan(0, n)), MerkleProofs.Root(n, source));
            Assert.Equal(BitOperations.PopCount((ulong)n), source.Reads);
        }
    }

    [Fact]
    public void SubtreeRoot_EqualsRfcMth_ForEveryAlignedRangeUpTo64()
    {
        for (var start = 0; start < ExhaustiveSize; start++)
        {
            for (var end = start + 1; end <= ExhaustiveSize; end++)
            {
                var width = 1 << (31 - BitOperations.LeadingZeroCount((uint)(end - start)));
                if (start % width != 0)
                {
                    Assert.Throws<ArgumentOutOfRangeException>(() => MerkleProofs.SubtreeRoot(start, end, Source));
                    continue;
                }

                var source = new RecordingSource(Source, end);
                Assert.Equal(MerkleTestTrees.Mth(Leaves.AsSpan(start, end - start)), MerkleProofs.SubtreeRoot(start, end, source));
            }
        }
    }

    [Fact]
    public void Inclusion_EqualsRfcPath_ForEveryIndexAndSizeUpTo64()
    {
        for (var n = 1; n <= ExhaustiveSize; n++)
        {
            for (var m = 0; m < n; m++)
            {
                var source = new RecordingSource(Source, n);

                var proof = MerkleProofs.Inclusion(m, n, source);

                Assert.Equal(MerkleTestTrees.Path(m, Leaves.AsSpan(0, n)), proof);
                Assert.True(proof.Count + BitOperations.PopCount((ulong)n) >= source.Reads, $"too many reads for ({m}, {n})");
            }
        }
    }

    [Fact]
    public void Consistency_EqualsRfcProof_ForEveryPairOfSizesUpTo64()
    {
        for (var n = 0; n <= ExhaustiveSize; n++)
        {
            for (var m = 0; m <= n; m++)
            {
                var source = new RecordingSource(Source, n);

                var proof = MerkleProofs.Consistency(m, n, source);

                var expected = m == 0 || m == n ? [] : MerkleTestTrees.Proof(m, Leaves.AsSpan(0, n));
                Assert.Equal(expected, proof);
                Assert.True(proof.Count + (2 * BitOperations.PopCount((ulong)n)) >= source.Reads, $"too many reads for ({m}, {n})");
            }
        }
    }

    [Theory]
    [InlineData(1L)]
    [InlineData(1L << 40)]
    [InlineData((1L << 40) + 12345)]
    [InlineData((1L << 62) + 1)]
    [InlineData(long.MaxValue)]
    public void Proofs_InTreesUpToLongMaxValue_VerifyAndReadLogarithmicallyManyHashes(long size)
    {
        var uniform = new UniformHashSource(size);
        var root = MerkleProofs.Root(size, uniform);
        long[] indexes = [0, size / 3, size / 2, size - 1];
        foreach (var index in indexes)
        {
            var source = new RecordingSource(uniform, size);

            var proof = MerkleProofs.Inclusion(index, size, source);

            Assert.True(source.Reads <= 2 * 64, $"{source.Reads} reads for inclusion ({index}, {size})");
            Assert.True(proof.Count <= MerkleVerifier.MaxInclusionProofLength);
            Assert.True(MerkleVerifier.VerifyInclusion(uniform.LeafHash, index, size, proof, root));
        }

        long[] oldSizes = [1, Math.Max(1, size / 3), Math.Max(1, size - 1), size];
        foreach (var oldSize in oldSizes)
        {
            var source = new RecordingSource(uniform, size);

            var proof = MerkleProofs.Consistency(oldSize, size, source);

            Assert.True(source.Reads <= 2 * 64, $"{source.Reads} reads for consistency ({oldSize}, {size})");
            Assert.True(proof.Count <= MerkleVerifier.MaxConsistencyProofLength);
            var oldRoot = MerkleProofs.Root(oldSize, uniform);
            Assert.True(MerkleVerifier.VerifyConsistency(oldSize, size, oldRoot, root, proof));
        }
    }

    [Fact]
    public void Inclusion_RejectsIndexOutsideTheTree()
    {
        Assert.Throws<ArgumentOutOfRangeException>(() => MerkleProofs.Inclusion(-1, 4, Source));
        Assert.Throws<ArgumentOutOfRangeException>(() => MerkleProofs.Inclusion(4, 4, Source));
        Assert.Throws<ArgumentOutOfRangeException>(() => MerkleProofs.Inclusion(0, 0, Source));
        Assert.Throws<ArgumentOutOfRangeException>(() => MerkleProofs.Inclusion(0, -3, Source));
    }

    [Fact]
    public void Consistency_RejectsShrinkingOrNegativeSizes()
    {
        Assert.Throws<ArgumentOutOfRangeException>(() => MerkleProofs.Consistency(5, 4, Source));
        Assert.Throws<ArgumentOutOfRangeException>(() => MerkleProofs.Consistency(-1, 4, Source));
        Assert.Throws<ArgumentOutOfRangeException>(() => MerkleProofs.Consistency(0, -1, Source));
    }

    [Fact]
    public void Root_AndSubtreeRoot_RejectBadRanges()
    {
        Assert.Throws<ArgumentOutOfRangeException>(() => MerkleProofs.Root(-1, Source));
        Assert.Throws<ArgumentOutOfRangeException>(() => MerkleProofs.SubtreeRoot(2, 2, Source));
        Assert.Throws<ArgumentOutOfRangeException>(() => MerkleProofs.SubtreeRoot(-2, 2, Source));
        Assert.Throws<ArgumentOutOfRangeException>(() => MerkleProofs.SubtreeRoot(2, 6, Source));
    }

    // Mutation testing (docs/testing.md): a negative or empty range also makes the source throw
    // ArgumentOutOfRangeException, so asserting only the exception's type let each argument check be removed unnoticed.
    // Each refusal is asserted here by the parameter it names, before the source is read at all.
    [Fact]
    public void BadRanges_AreRefusedByTheirOwnArgumentCheck_BeforeAnyRead()
    {
        var source = new RecordingSource(Source, ExhaustiveSize);

        AssertRefused("size", () => MerkleProofs.Root(-1, source));
        AssertRefused("start", () => MerkleProofs.SubtreeRoot(-4, 0, source));
        AssertRefused("start", () => MerkleProofs.SubtreeRoot(-2, 2, source));
        AssertRefused("end", () => MerkleProofs.SubtreeRoot(0, 0, source));
        AssertRefused("end", () => MerkleProofs.SubtreeRoot(4, 4, source));
        AssertRefused("end", () => MerkleProofs.SubtreeRoot(8, 4, source));
        AssertRefused("index", () => MerkleProofs.Inclusion(-1, 4, source));
        AssertRefused("oldSize", () => MerkleProofs.Consistency(-1, 4, source));
        AssertRefused("oldSize", () => MerkleProofs.Consistency(5, 4, source));
        var unaligned = Assert.Throws<ArgumentOutOfRangeException>(() => MerkleProofs.SubtreeRoot(2, 6, source));
        Assert.Equal("start", unaligned.ParamName);
        Assert.StartsWith("range [2, 6) does not start on a multiple of 4, so it is not a Merkle subtree", unaligned.Message);
        Assert.Equal(0, source.Reads);
    }

    [Fact]
    public void Proofs_RejectNullSource()
    {
        Assert.Throws<ArgumentNullException>(() => MerkleProofs.Root(1, null!));
        Assert.Throws<ArgumentNullException>(() => MerkleProofs.Inclusion(0, 1, null!));
        Assert.Throws<ArgumentNullException>(() => MerkleProofs.Consistency(1, 2, null!));
        Assert.Equal("source", Assert.Throws<ArgumentNullException>(() => MerkleProofs.SubtreeRoot(0, 1, null!)).ParamName);
    }

    [Fact]
    public void Proofs_PropagateSourceFailures_InsteadOfInventingHashes()
    {
        // A source that holds fewer leaves than the requested tree must make generation fail loudly.
        var shortSource = new MemoryHashSource(Leaves.Take(5));

        Assert.Throws<ArgumentOutOfRangeException>(() => MerkleProofs.Root(6, shortSource));
        Assert.Throws<ArgumentOutOfRangeException>(() => MerkleProofs.Inclusion(0, 6, shortSource));
    }

    [Fact]
    public void MemoryHashSource_ServesExactlyTheCompleteSubtrees()
    {
        var source = new MemoryHashSource(Leaves.Take(6));

        Assert.Equal(6, source.Size);
        Assert.Equal(Leaves[5], source.GetHash(0, 5));
        Assert.Equal(MerkleTestTrees.Mth(Leaves.AsSpan(4, 2)), source.GetHash(1, 2));
        Assert.Equal(MerkleTestTrees.Mth(Leaves.AsSpan(0, 4)), source.GetHash(2, 0));
        Assert.Throws<ArgumentOutOfRangeException>(() => source.GetHash(0, 6));
        Assert.Throws<ArgumentOutOfRangeException>(() => source.GetHash(2, 1));
        Assert.Throws<ArgumentOutOfRangeException>(() => source.GetHash(3, 0));
        Assert.Throws<ArgumentOutOfRangeException>(() => source.GetHash(-1, 0));
        Assert.Throws<ArgumentOutOfRangeException>(() => source.GetHash(0, -1));
    }

    [Fact]
    public void MemoryHashSource_RefusalsNameTheArgument_AndTheMissingSubtree()
    {
        Assert.Equal("leafHashes", Assert.Throws<ArgumentNullException>(() => new MemoryHashSource(null!)).ParamName);
        Assert.Equal("leaves", Assert.Throws<ArgumentNullException>(() => MemoryHashSource.FromLeafData(null!)).ParamName);

        var missing = Assert.Throws<ArgumentOutOfRangeException>(() => new MemoryHashSource(Leaves.Take(6)).GetHash(2, 1));
        Assert.Equal("index", missing.ParamName);
        Assert.StartsWith("the subtree at level 2, index 1 is not complete in a tree of 6 leaves", missing.Message);
    }

    private static void AssertRefused(string parameter, Action call) =>
        Assert.Equal(parameter, Assert.Throws<ArgumentOutOfRangeException>(call).ParamName);
}
