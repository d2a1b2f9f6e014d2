using Enclave.Core;
using Enclave.Ledger.Merkle;

namespace Enclave.Ledger.Tests.Merkle;

public sealed class MerkleVerifierTests
{
    private static readonly Sha256Digest[] Leaves = MerkleTestTrees.DistinctLeaves(32);
    private static readonly MemoryHashSource Source = new(Leaves);

    private static Sha256Digest Root(long size) => MerkleProofs.Root(size, new RecordingSource(Source, size));

    [Fact]
    public void EveryBitFlip_InEveryInclusionProofOfSmallTrees_IsRejected()
    {
        for (var n = 1; n <= 9; n++)
        {
            var root = Root(n);
            for (var m = 0; m < n; m++)
            {
                var proof = MerkleProofs.Inclusion(m, n, Source);
                Assert.True(MerkleVerifier.VerifyInclusion(Leaves[m], m, n, proof, root));
                for (var bit = 0; bit < 256; bit++)
                {
                    Assert.False(MerkleVerifier.VerifyInclusion(MerkleTestTrees.FlipBit(Leaves[m], bit), m, n, proof, root));
                    Assert.False(MerkleVerifier.VerifyInclusion(Leaves[m], m, n, proof, MerkleTestTrees.FlipBit(root, bit)));
                    for (var j = 0; j < proof.Count; j++)
                    {
                        var bad = MerkleTestTrees.WithElement(proof, j, MerkleTestTrees.FlipBit(proof[j], bit));
                        Assert.False(MerkleVerifier.VerifyInclusion(Leaves[m], m, n, bad, root), $"({m}, {n}) element {j} bit {bit}");
                    }
                }
            }
        }
    }

    [Fact]
    public void EveryBitFlip_InEveryConsistencyProofOfSmallTrees_IsRejected()
    {
        for (var n = 1; n <= 9; n++)
        {
            var newRoot = Root(n);
            for (var m = 1; m <= n; m++)
            {
                var oldRoot = Root(m);
                var proof = MerkleProofs.Consistency(m, n, Source);
                Assert.True(MerkleVerifier.VerifyConsistency(m, n, oldRoot, newRoot, proof));
                for (var bit = 0; bit < 256; bit++)
                {
                    Assert.False(MerkleVerifier.VerifyConsistency(m, n, MerkleTestTrees.FlipBit(oldRoot, bit), newRoot, proof));
                    Assert.False(MerkleVerifier.VerifyConsistency(m, n, oldRoot, MerkleTestTrees.FlipBit(newRoot, bit), proof));
                    for (var j = 0; j < proof.Count; j++)
                    {
                        var bad = MerkleTestTrees.WithElement(proof, j, MerkleTestTrees.FlipBit(proof[j], bit));
                        Assert.False(MerkleVerifier.VerifyConsistency(m, n, oldRoot, newRoot, bad), $"({m}, {n}) element {j} bit {bit}");
                    }
                }
            }
        }
    }

    [Fact]
    public void Proofs_CheckedAgainstAnyOtherIndexOrSize_AreRejected()
    {
        const int max = 24;
        for (var n = 1; n <= max; n++)
        {
            for (var m = 0; m < n; m++)
            {
                var inclusion = MerkleProofs.Inclusion(m, n, Source);
                for (var other = 0; other < max; other++)
                {
                    if (other != m && other < n)
                    {
                        Assert.False(MerkleVerifier.VerifyInclusion(Leaves[m], other, n, inclusion, Root(n)), $"leaf {m} as {other} in {n}");
                    }

                    if (other + 1 != n && m < other + 1)
                    {
                        Assert.False(MerkleVerifier.VerifyInclusion(Leaves[m], m, other + 1, inclusion, Root(other + 1)), $"leaf {m} of {n} in {other + 1}");
                    }
                }
            }

            for (var m = 1; m < n; m++)
            {
                var consistency = MerkleProofs.Consistency(m, n, Source);
                for (var other = 1; other <= max; other++)
                {
                    if (other != m && other <= n)
                    {
                        Assert.False(MerkleVerifier.VerifyConsistency(other, n, Root(other), Root(n), consistency), $"({m}, {n}) as old size {other}");
                    }

                    if (other != n && other >= m)
                    {
                        Assert.False(MerkleVerifier.VerifyConsistency(m, other, Root(m), Root(other), consistency), $"({m}, {n}) as new size {other}");
                    }
                }
            }
        }
    }

    [Fact]
    public void VerifyInclusion_RejectsStructurallyImpossibleInputs_WithoutThrowing()
    {
        var root = Root(8);
        var proof = MerkleProofs.Inclusion(3, 8, Source);

        Assert.False(MerkleVerifier.VerifyInclusion(Leaves[3], 3, 8, null, root));
        Assert.False(MerkleVerifier.VerifyInclusion(Leaves[3], -1, 8, proof, root));
        Assert.False(MerkleVerifier.VerifyInclusion(Leaves[3], 8, 8, proof, root));
        Assert.False(MerkleVerifier.VerifyInclusion(Leaves[3], 0, 0, [], MerkleHash.Empty));
        Assert.False(MerkleVerifier.VerifyInclusion(Leaves[3], 3, 8, [.. proof, proof[0]], root));
        Assert.False(MerkleVerifier.VerifyInclusion(Leaves[3], 3, 8, proof.Take(2).ToArray(), root));
        Assert.False(MerkleVerifier.VerifyInclusion(Leaves[3], 3, 8, Enumerable.Repeat(proof[0], 10_000).ToArray(), root));
        Assert.False(MerkleVerifier.TryRootFromInclusion(Leaves[3], 3, 8, proof.Take(2).ToArray(), out var computed));
        Assert.Equal(default, computed);
    }

    [Fact]
    public void TryRootFromInclusion_ReturnsTheTreeRoot()
    {
        var proof = MerkleProofs.Inclusion(6, 13, Source);

        Assert.True(MerkleVerifier.TryRootFromInclusion(Leaves[6], 6, 13, proof, out var computed));
        Assert.Equal(Root(13), computed);
    }

    [Fact]
    public void VerifyInclusion_OfSingleLeafTree_NeedsEmptyProofAndRootEqualToLeaf()
    {
        Assert.True(MerkleVerifier.VerifyInclusion(Leaves[0], 0, 1, [], Leaves[0]));
        Assert.False(MerkleVerifier.VerifyInclusion(Leaves[0], 0, 1, [Leaves[1]], Leaves[0]));
        Assert.False(MerkleVerifier.VerifyInclusion(Leaves[0], 0, 1, [], Leaves[1]));
    }

    [Fact]
    public void VerifyConsistency_RejectsStructurallyImpossibleInputs_WithoutThrowing()
    {
        var proof = MerkleProofs.Consistency(5, 11, Source);

        Assert.False(MerkleVerifier.VerifyConsistency(5, 11, Root(5), Root(11), null));
        Assert.False(MerkleVerifier.VerifyConsistency(-1, 11, Root(5), Root(11), proof));
        Assert.False(MerkleVerifier.VerifyConsistency(11, 5, Root(11), Root(5), proof));
        Assert.False(MerkleVerifier.VerifyConsistency(5, 11, Root(5), Root(11), []));
        Assert.False(MerkleVerifier.VerifyConsistency(5, 11, Root(5), Root(11), [.. proof, proof[0]]));
        Assert.False(MerkleVerifier.VerifyConsistency(5, 11, Root(5), Root(11), [proof[0], .. proof]));
        Assert.False(MerkleVerifier.VerifyConsistency(5, 11, Root(5), Root(11), proof.Skip(1).ToArray()));
        Assert.False(MerkleVerifier.VerifyConsistency(5, 11, Root(5), Root(11), Enumerable.Repeat(proof[0], 129).ToArray()));
        Assert.False(MerkleVerifier.VerifyConsistency(5, 11, Root(11), Root(5), proof));
    }

    [Fact]
    public void VerifyConsistency_FromEmptyTree_NeedsEmptyProofAndTheEmptyRoot()
    {
        Assert.True(MerkleVerifier.VerifyConsistency(0, 7, MerkleHash.Empty, Root(7), []));
        Assert.True(MerkleVerifier.VerifyConsistency(0, 0, MerkleHash.Empty, MerkleHash.Empty, []));
        Assert.False(MerkleVerifier.VerifyConsistency(0, 7, Root(7), Root(7), []));
        Assert.False(MerkleVerifier.VerifyConsistency(0, 7, MerkleHash.Empty, Root(7), [Root(7)]));
        Assert.False(MerkleVerifier.VerifyConsistency(0, 0, Leaves[0], Leaves[0], []));
        Assert.False(MerkleVerifier.VerifyConsistency(0, 0, MerkleHash.Empty, Leaves[0], []));
    }

    [Fact]
    public void VerifyConsistency_OfEqualSizes_NeedsEmptyProofAndEqualRoots()
    {
        Assert.True(MerkleVerifier.VerifyConsistency(6, 6, Root(6), Root(6), []));
        Assert.False(MerkleVerifier.VerifyConsistency(6, 6, Root(6), Root(5), []));
        Assert.False(MerkleVerifier.VerifyConsistency(6, 6, Root(6), Root(6), [Root(6)]));
    }

    // Mutation testing (docs/testing.md): VerifyInclusion compares the computed root with the expected one, so a
    // mutant that turns one of TryRootFromInclusion's "false" answers into "true" survives every VerifyInclusion
    // test. Each refusal is asserted here directly, with the out root left at its default.
    [Fact]
    public void TryRootFromInclusion_RefusesEachImpossibleInput_AndLeavesTheRootDefault()
    {
        var proof = MerkleProofs.Inclusion(3, 8, Source);
        var cases = new (string What, long Index, long Size, IReadOnlyList<Sha256Digest>? Proof)[]
        {
            ("no proof", 3, 8, null),
            ("negative index", -1, 8, proof),
            ("index equal to the size", 8, 8, proof),
            ("index past the size", 9, 8, proof),
            ("empty tree", 0, 0, []),
            ("one hash too many", 3, 8, [.. proof, proof[0]]),
            ("one hash too few", 3, 8, proof.Take(2).ToArray()),
            ("no hashes for a tree of two", 0, 2, []),
            ("a hash for a tree of one", 0, 1, [Leaves[1]]),
            ("longer than any tree needs", 3, 8, Enumerable.Repeat(proof[0], MerkleVerifier.MaxInclusionProofLength + 1).ToArray()),
        };

        foreach (var (what, index, size, bad) in cases)
        {
            Assert.False(MerkleVerifier.TryRootFromInclusion(Leaves[3], index, size, bad, out var computed), what);
            Assert.Equal(default, computed);
        }

        Assert.True(MerkleVerifier.TryRootFromInclusion(Leaves[3], 3, 8, proof, out var root));
        Assert.Equal(Root(8), root);
    }

    [Fact]
    public void TryRootFromInclusion_ForTheLastLeafOfUnbalancedTrees_ReturnsTheRoot()
    {
        // fn == sn with fn even: the "fn == sn" half of the condition decides the hash order.
        foreach (var (index, size) in new (long, long)[] { (4, 5), (6, 7), (12, 13), (8, 9), (30, 31) })
        {
            var proof = MerkleProofs.Inclusion(index, size, Source);
            Assert.True(MerkleVerifier.TryRootFromInclusion(Leaves[index], index, size, proof, out var root), $"{index} of {size}");
            Assert.Equal(Root(size), root);
        }
    }

    [Fact]
    public void VerifyConsistency_RefusesAProofLongerThanTheBound_EvenWhenItsPrefixIsValid()
    {
        var proof = MerkleProofs.Consistency(3, 8, Source);
        Assert.True(MerkleVerifier.VerifyConsistency(3, 8, Root(3), Root(8), proof));
        Assert.False(MerkleVerifier.VerifyConsistency(3, 8, Root(3), Root(8), [.. proof, proof[0]]));
        var tooLong = proof.Concat(Enumerable.Repeat(proof[0], MerkleVerifier.MaxConsistencyProofLength + 1 - proof.Count)).ToArray();
        Assert.False(MerkleVerifier.VerifyConsistency(3, 8, Root(3), Root(8), tooLong));
    }
}
