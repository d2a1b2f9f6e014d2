using System.Text.Json;
using Enclave.Core;
using Enclave.Ledger.Merkle;

namespace Enclave.Ledger.Tests.Merkle;

/// <summary>
/// Every transparency-dev/merkle proof vector under shared/testdata/merkle. A vector "passes" only if
/// all its hashes decode as canonical base64 of exactly 32 bytes, its numbers fit a long, and the
/// verifier accepts it; the outcome must equal the vector's <c>wantErr</c>.
/// </summary>
public sealed class MerkleVectorTests
{
    // The one deliberate disagreement with the vectors: it expects "ok" for two equal placeholder
    // "roots" of 12 bytes. A root that is not a SHA-256 digest cannot be a tree head, so we reject it
    // when decoding (fail closed); see the README next to the vectors.
    private const string PlaceholderRootVector = "consistency/additional/sizes-are-equal-one-and-proof-is-empty.json";

    private static readonly Lazy<string> VectorRoot = new(FindVectorRoot);

    public static TheoryData<string> InclusionVectors => Vectors("inclusion");

    public static TheoryData<string> ConsistencyVectors => Vectors("consistency");

    [Fact]
    public void VectorSet_IsComplete()
    {
        var all = Directory.GetFiles(VectorRoot.Value, "*.json", SearchOption.AllDirectories);

        Assert.Equal(98, InclusionVectors.Count);
        Assert.Equal(98, ConsistencyVectors.Count);
        Assert.Equal(all.Length, InclusionVectors.Count + ConsistencyVectors.Count);
    }

    [Theory]
    [MemberData(nameof(InclusionVectors))]
    public void InclusionVector_VerifiesExactlyWhenExpected(string vector)
    {
        using var json = Load(vector);
        var v = json.RootElement;
        var wantErr = v.GetProperty("wantErr").GetBoolean();

        var decoded = TryGetLong(v, "leafIdx", out var index)
            & TryGetLong(v, "treeSize", out var size)
            & TryGetDigest(v, "leafHash", out var leafHash)
            & TryGetDigest(v, "root", out var root)
            & TryGetProof(v, out var proof);
        var accepted = decoded && MerkleVerifier.VerifyInclusion(leafHash, index, size, proof, root);

        Assert.Equal(!wantErr, accepted);
        if (!wantErr)
        {
            AssertGeneratedInclusionMatches(index, size, leafHash, root, proof);
        }
    }

    [Theory]
    [MemberData(nameof(ConsistencyVectors))]
    public void ConsistencyVector_VerifiesExactlyWhenExpected(string vector)
    {
        using var json = Load(vector);
        var v = json.RootElement;
        var wantErr = v.GetProperty("wantErr").GetBoolean();

        var decoded = TryGetLong(v, "size1", out var size1)
            & TryGetLong(v, "size2", out var size2)
            & TryGetDigest(v, "root1", out var root1)
            & TryGetDigest(v, "root2", out var root2)
            & TryGetProof(v, out var proof);
        var accepted = decoded && MerkleVerifier.VerifyConsistency(size1, size2, root1, root2, proof);

        if (vector == PlaceholderRootVector)
        {
            Assert.False(wantErr);
            Assert.False(decoded);
            Assert.False(accepted);
            return;
        }

        Assert.Equal(!wantErr, accepted);
        if (!wantErr)
        {
            AssertGeneratedConsistencyMatches(size1, size2, root1, root2, proof);
        }
    }

    // Happy paths are trees over the reference leaves, or single-leaf trees: our generator must
    // produce exactly the vector's proof and root.
    private static void AssertGeneratedInclusionMatches(
        long index, long size, Sha256Digest leafHash, Sha256Digest root, IReadOnlyList<Sha256Digest> proof)
    {
        IMerkleHashSource source = size <= MerkleTestTrees.Reference.Size && MerkleProofs.Root(size, MerkleTestTrees.Reference) == root
            ? new RecordingSource(MerkleTestTrees.Reference, size)
            : size == 1 ? new MemoryHashSource([leafHash]) : throw new InvalidOperationException("happy path over an unknown tree");

        Assert.Equal(leafHash, source.GetHash(0, index));
        Assert.Equal(root, MerkleProofs.Root(size, source));
        Assert.Equal(proof, MerkleProofs.Inclusion(index, size, source));
    }

    private static void AssertGeneratedConsistencyMatches(
        long size1, long size2, Sha256Digest root1, Sha256Digest root2, IReadOnlyList<Sha256Digest> proof)
    {
        Assert.InRange(size2, 1, MerkleTestTrees.Reference.Size);
        var source = new RecordingSource(MerkleTestTrees.Reference, size2);

        Assert.Equal(root1, MerkleProofs.Root(size1, source));
        Assert.Equal(root2, MerkleProofs.Root(size2, source));
        Assert.Equal(proof, MerkleProofs.Consistency(size1, size2, source));
    }

    private static bool TryGetLong(JsonElement vector, string name, out long value)
    {
        // leafIdx-sub-@1 vectors carry 2^64 - 1, which no long (and no real tree) holds.
        value = 0;
        return vector.GetProperty(name).TryGetInt64(out value);
    }

    private static bool TryGetDigest(JsonElement vector, string name, out Sha256Digest digest) =>
        Sha256Digest.TryParseBase64(vector.GetProperty(name).GetString(), out digest);

    private static bool TryGetProof(JsonElement vector, out IReadOnlyList<Sha256Digest> proof)
    {
        // A null or absent proof is the empty proof (Go's nil slice).
        var hashes = new List<Sha256Digest>();
        proof = hashes;
        if (!vector.TryGetProperty("proof", out var element) || element.ValueKind == JsonValueKind.Null)
        {
            return true;
        }

        var ok = true;
        foreach (var item in element.EnumerateArray())
        {
            if (Sha256Digest.TryParseBase64(item.GetString(), out var hash))
            {
                hashes.Add(hash);
            }
            else
            {
                ok = false;
            }
        }

        return ok;
    }

    private static JsonDocument Load(string vector) =>
        JsonDocument.Parse(File.ReadAllBytes(Path.Combine(VectorRoot.Value, vector)));

    private static TheoryData<string> Vectors(string kind)
    {
        var folder = Path.Combine(VectorRoot.Value, kind);
        var data = new TheoryData<string>();
        foreach (var file in Directory.GetFiles(folder, "*.json", SearchOption.AllDirectories).Order(StringComparer.Ordinal))
        {
            data.Add(Path.GetRelativePath(VectorRoot.Value, file).Replace('\\', '/'));
        }

        return data;
    }

    // The tests run from the build output; the vectors live in shared/ beside the repository.
    private static string FindVectorRoot()
    {
        for (var dir = new DirectoryInfo(AppContext.BaseDirectory); dir is not null; dir = dir.Parent)
        {
            var candidate = Path.Combine(dir.FullName, "shared", "testdata", "merkle");
            if (Directory.Exists(candidate))
            {
                return candidate;
            }
        }

        throw new DirectoryNotFoundException(
            $"no shared/testdata/merkle folder above {AppContext.BaseDirectory}; clone the shared data beside the repository");
    }
}
