using Enclave.Policy.Labels;
using Enclave.Retrieval.Index;
using FsCheck.Xunit;

namespace Enclave.Retrieval.Tests;

public sealed class VectorIndexTests
{
    private static readonly LabelScheme Scheme = LabelScheme.Default;
    private static readonly SecurityLabel[] Levels = [.. Scheme.Levels.Select(l => Scheme.ParseMarking(l.Name))];

    private static float[] RandomVector(Random random, int dimensions) =>
        [.. Enumerable.Range(0, dimensions).Select(_ => (float)(random.NextDouble() * 2 - 1))];

    private static double Cosine(float[] a, float[] b) =>
        a.Zip(b, (x, y) => (double)x * y).Sum() / Math.Sqrt(a.Sum(x => (double)x * x) * b.Sum(x => (double)x * x));

    [Fact]
    public void Search_ReturnsTheExactTopK_AsBruteForceDoes()
    {
        var random = new Random(7);
        var index = new VectorIndex(48, initialCapacity: 4);
        var vectors = Enumerable.Range(0, 500).Select(_ => RandomVector(random, 48)).ToArray();
        for (int i = 0; i < vectors.Length; i++)
        {
            index.Add(i, vectors[i], Scheme.Lowest);
        }

        float[] query = RandomVector(random, 48);
        IReadOnlyList<SearchHit> hits = index.Search(query, 10, Scheme.Highest);

        long[] expected = [.. Enumerable.Range(0, vectors.Length).OrderByDescending(i => Cosine(query, vectors[i])).Take(10).Select(i => (long)i)];
        Assert.Equal(expected, hits.Select(h => h.Key));
        Assert.All(hits, h => Assert.Equal(Cosine(query, vectors[h.Key]), h.Score, 1e-5));
    }

    [Fact]
    public void Search_NeverScoresAChunkAboveTheClearance_EvenTheBestMatch()
    {
        var index = new VectorIndex(3);
        index.Add(1, [1, 0, 0], Scheme.ParseMarking("SECRET"));
        index.Add(2, [0.6f, 0.8f, 0], Scheme.ParseMarking("UNCLASSIFIED"));
        index.Add(3, [0, 0, 1], Scheme.ParseMarking("UNCLASSIFIED"));

        IReadOnlyList<SearchHit> hits = index.Search([1, 0, 0], 3, Scheme.ParseMarking("UNCLASSIFIED"));

        Assert.Equal([2L, 3L], hits.Select(h => h.Key));
        Assert.Equal([1L, 2L, 3L], index.Search([1, 0, 0], 3, Scheme.ParseMarking("SECRET")).Select(h => h.Key));
    }

    [Property(MaxTest = 200)]
    public bool Search_ReturnsOnlyChunksTheClearanceDominates_AndAllTheTopOnes(int seed, byte clearanceLevel, byte top)
    {
        var random = new Random(seed);
        var index = new VectorIndex(8);
        var labels = new Dictionary<long, SecurityLabel>();
        var vectors = new Dictionary<long, float[]>();
        int count = random.Next(0, 60);
        for (long key = 0; key < count; key++)
        {
            labels[key] = Levels[random.Next(Levels.Length)];
            vectors[key] = RandomVector(random, 8);
            index.Add(key, vectors[key], labels[key]);
        }

        SecurityLabel clearance = Levels[clearanceLevel % Levels.Length];
        int k = (top % 20) + 1;
        float[] query = RandomVector(random, 8);
        IReadOnlyList<SearchHit> hits = index.Search(query, k, clearance);

        int visible = labels.Count(l => clearance.Dominates(l.Value));
        return hits.All(h => clearance.Dominates(labels[h.Key]))
            && hits.Count == Math.Min(k, visible)
            && hits.Zip(hits.Skip(1)).All(p => p.First.Score >= p.Second.Score);
    }

    [Fact]
    public void Add_RefusesAVectorOfTheWrongLengthOrZero()
    {
        var index = new VectorIndex(4);

        Assert.Throws<ArgumentException>(() => index.Add(1, [1, 2, 3], Scheme.Lowest));
        Assert.Throws<ArgumentException>(() => index.Add(1, [0, 0, 0, 0], Scheme.Lowest));
        Assert.Throws<ArgumentException>(() => index.Add(1, [float.NaN, 0, 0, 1], Scheme.Lowest));
        Assert.Throws<ArgumentException>(() => index.Search([1, 2, 3], 1, Scheme.Highest));
    }
}
