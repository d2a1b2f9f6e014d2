using Enclave.Core;
using Enclave.Ledger.Merkle;
using FsCheck;
using FsCheck.Fluent;
using FsCheck.Xunit;

namespace Enclave.Ledger.Tests.Merkle;

/// <summary>
/// Random trees of 1..2048 distinct leaves. Every generated proof verifies against the tree's root,
/// and flipping one (random) bit of any proof hash, of the root or of the leaf makes it fail, as do
/// a wrong index or size checked against that size's genuine root.
/// </summary>
public sealed class MerklePropertyTests
{
    private const int MaxSize = 2048;
    private static readonly Sha256Digest[] Leaves = MerkleTestTrees.DistinctLeaves(MaxSize);
    private static readonly MemoryHashSource Source = new(Leaves);

    private static readonly Arbitrary<(int Size, int Index, int Other, int Bit)> Cases =
        (from size in Gen.Choose(1, MaxSize)
         from index in Gen.Choose(0, size - 1)
         from other in Gen.Choose(0, MaxSize - 1)
         from bit in Gen.Choose(0, 255)
         select (size, index, other, bit)).ToArbitrary();

    private static Sha256Digest Root(long size) => MerkleProofs.Root(size, new RecordingSource(Source, size));

    [Property(MaxTest = 300)]
    public Property InclusionProof_Verifies_AndAnyTamperingFails() => Prop.ForAll(Cases, c =>
    {
        var (size, index, other, bit) = c;
        var root = Root(size);
        var leaf = Leaves[index];

        var proof = MerkleProofs.Inclusion(index, size, new RecordingSource(Source, size));

        Assert.True(MerkleVerifier.VerifyInclusion(leaf, index, size, proof, root));
        Assert.False(MerkleVerifier.VerifyInclusion(MerkleTestTrees.FlipBit(leaf, bit), index, size, proof, root));
        Assert.False(MerkleVerifier.VerifyInclusion(leaf, index, size, proof, MerkleTestTrees.FlipBit(root, bit)));
        for (var j = 0; j < proof.Count; j++)
        {
            var bad = MerkleTestTrees.WithElement(proof, j, MerkleTestTrees.FlipBit(proof[j], bit));
            Assert.False(MerkleVerifier.VerifyInclusion(leaf, index, size, bad, root));
        }

        var wrongIndex = other % size;
        if (wrongIndex != index)
        {
            Assert.False(MerkleVerifier.VerifyInclusion(leaf, wrongIndex, size, proof, root));
        }

        var wrongSize = other + 1;
        if (wrongSize != size && index < wrongSize)
        {
            Assert.False(MerkleVerifier.VerifyInclusion(leaf, index, wrongSize, proof, Root(wrongSize)));
        }
    });

    [Property(MaxTest = 300)]
    public Property ConsistencyProof_Verifies_AndAnyTamperingFails() => Prop.ForAll(Cases, c =>
    {
        var (newSize, index, other, bit) = c;
        var oldSize = index + 1;
        var oldRoot = Root(oldSize);
        var newRoot = Root(newSize);

        var proof = MerkleProofs.Consistency(oldSize, newSize, new RecordingSource(Source, newSize));

        Assert.True(MerkleVerifier.VerifyConsistency(oldSize, newSize, oldRoot, newRoot, proof));
        Assert.False(MerkleVerifier.VerifyConsistency(oldSize, newSize, MerkleTestTrees.FlipBit(oldRoot, bit), newRoot, proof));
        Assert.False(MerkleVerifier.VerifyConsistency(oldSize, newSize, oldRoot, MerkleTestTrees.FlipBit(newRoot, bit), proof));
        for (var j = 0; j < proof.Count; j++)
        {
            var bad = MerkleTestTrees.WithElement(proof, j, MerkleTestTrees.FlipBit(proof[j], bit));
            Assert.False(MerkleVerifier.VerifyConsistency(oldSize, newSize, oldRoot, newRoot, bad));
        }

        var wrongOld = (other % newSize) + 1;
        if (wrongOld != oldSize)
        {
            Assert.False(MerkleVerifier.VerifyConsistency(wrongOld, newSize, Root(wrongOld), newRoot, proof));
        }

        var wrongNew = other + 1;
        if (wrongNew != newSize && wrongNew >= oldSize)
        {
            Assert.False(MerkleVerifier.VerifyConsistency(oldSize, wrongNew, oldRoot, Root(wrongNew), proof));
        }
    });

    [Property(MaxTest = 300)]
    public Property InclusionOfOldLeaf_AndConsistency_ComposeAcrossAppends() => Prop.ForAll(Cases, c =>
    {
        // A leaf proven in the old tree stays provable in every later tree the old one is consistent with.
        var (newSize, index, _, _) = c;
        var oldSize = index + 1;
        var consistency = MerkleProofs.Consistency(oldSize, newSize, Source);
        var inclusion = MerkleProofs.Inclusion(index, newSize, Source);

        Assert.True(MerkleVerifier.VerifyConsistency(oldSize, newSize, Root(oldSize), Root(newSize), consistency));
        Assert.True(MerkleVerifier.VerifyInclusion(Leaves[index], index, newSize, inclusion, Root(newSize)));
    });
}
