using Enclave.Policy.Labels;
using Enclave.Retrieval.Index;
using FsCheck;
using FsCheck.Xunit;

namespace Enclave.Retrieval.Tests;

public sealed class IvfIndexTests
{
    private static readonly LabelScheme Scheme = LabelScheme.Default;
    private static readonly SecurityLabel[] Levels = [.. Scheme.Levels.Select(l => Scheme.ParseMarking(l.Name))];

    /// <summary>
    /// Vectors around <paramref name="clusters"/> random centres (the structure real embeddings have: topics), each a
    /// centre plus noise, with random labels.
    /// </summary>
    private static VectorIndex Clustered(int seed, int count, int dimensions, int clusters, Func<Random, SecurityLabel> label, out float[][] centres)
    {
        var random = new Random(seed);
        centres = [.. Enumerable.Range(0, clusters).Select(_ => RandomVector(random, dimensions, 1.0))];
        var index = new VectorIndex(dimensions, count);
        for (var i = 0; i < count; i++)
        {
            var centre = centres[random.Next(clusters)];
            var noise = RandomVector(random, dimensions, 0.35);
            index.Add(i, [.. centre.Zip(noise, (c, n) => c + n)], label(random));
        }

        return index;
    }

    private static float[] RandomVector(Random random, int dimensions, double scale) =>
        [.. Enumerable.Range(0, dimensions).Select(_ => (float)((random.NextDouble() * 2 - 1) * scale))];

    private static IvfOptions Options(int lists, int probes) => new() { Lists = lists, Probes = probes, TrainingSample = 4096, TrainingIterations = 6, BuildThreads = 2 };

    [Fact]
    public void Search_WithEveryListProbed_IsTheExactSearch()
    {
        var exact = Clustered(1, 2000, 32, 20, _ => Scheme.Lowest, out _);
        var ivf = exact.BuildIvf(Options(lists: 16, probes: 16));
        var random = new Random(2);

        for (var q = 0; q < 20; q++)
        {
            var query = RandomVector(random, 32, 1);
            Assert.Equal(exact.Search(query, 10, Scheme.Highest).Select(h => h.Key), ivf.Search(query, 10, Scheme.Highest).Select(h => h.Key));
        }
    }

    [Fact]
    public void Search_OnClusteredVectors_FindsAtLeast95PercentOfTheExactTop10()
    {
        // 20,000 vectors of 64 dimensions in 200 topics; 128 lists, 8 probed (6 % of the vectors scored).
        var exact = Clustered(3, 20_000, 64, 200, _ => Scheme.Lowest, out var centres);
        var ivf = exact.BuildIvf(Options(lists: 128, probes: 8));
        var random = new Random(4);
        int found = 0, wanted = 0;

        for (var q = 0; q < 100; q++)
        {
            // A query near a topic, as a question is near the passages that answer it.
            var centre = centres[random.Next(centres.Length)];
            float[] query = [.. centre.Zip(RandomVector(random, 64, 0.35), (c, n) => c + n)];
            var truth = exact.Search(query, 10, Scheme.Highest).Select(h => h.Key).ToHashSet();
            found += ivf.Search(query, 10, Scheme.Highest).Count(h => truth.Contains(h.Key));
            wanted += truth.Count;
        }

        Assert.True(found >= wanted * 0.95, $"recall@10 {found}/{wanted}");
    }

    [Fact]
    public void Search_ProbesFurther_WhenTheNearestListsHoldNothingTheClearanceAdmits()
    {
        // Only three UNCLASSIFIED vectors among 3,000 SECRET ones: an UNCLASSIFIED caller still gets all three, and never a SECRET one.
        var random = new Random(5);
        var index = new VectorIndex(16, 3003);
        for (var i = 0; i < 3000; i++)
        {
            index.Add(i, RandomVector(random, 16, 1), Scheme.ParseMarking("SECRET"));
        }

        for (var i = 3000; i < 3003; i++)
        {
            index.Add(i, RandomVector(random, 16, 1), Scheme.Lowest);
        }

        var ivf = index.BuildIvf(Options(lists: 64, probes: 1));

        var hits = ivf.Search(RandomVector(random, 16, 1), 3, Scheme.Lowest);

        Assert.Equal([3000L, 3001L, 3002L], hits.Select(h => h.Key).Order());
    }

    [Property(MaxTest = 40)]
    public bool Search_NeverReturnsAVectorAboveTheClearance(PositiveInt seed, byte clearanceLevel, byte probes)
    {
        var index = Clustered(seed.Get, 400, 8, 10, r => Levels[r.Next(Levels.Length)], out _);
        var random = new Random(seed.Get);

        var clearance = Levels[clearanceLevel % Levels.Length];
        var ivf = index.BuildIvf(Options(lists: 16, probes: 1 + (probes % 16)));
        var query = RandomVector(random, 8, 1);
        var exactCleared = index.Search(query, 400, clearance);
        var hits = ivf.Search(query, 400, clearance);

        // Every vector the clearance admits is reachable (the search probes on until it has 'top'), none above it is.
        return hits.Count == exactCleared.Count && hits.Select(h => h.Key).ToHashSet().SetEquals(exactCleared.Select(h => h.Key));
    }

    [Fact]
    public void Build_RefusesSettingsOutOfRange_AndSearchRefusesABadQuery()
    {
        var index = Clustered(6, 100, 8, 4, _ => Scheme.Lowest, out _);

        Assert.Throws<ArgumentOutOfRangeException>(() => index.BuildIvf(new IvfOptions { Lists = 0 }));
        Assert.Throws<ArgumentOutOfRangeException>(() => index.BuildIvf(new IvfOptions { Probes = 0 }));
        var ivf = index.BuildIvf(Options(lists: 8, probes: 2));
        Assert.Throws<ArgumentException>(() => ivf.Search(new float[7], 3, Scheme.Highest));
        Assert.Throws<ArgumentException>(() => ivf.Search(new float[8], 3, Scheme.Highest));
        Assert.Equal(100, ivf.Count);
        Assert.Equal(8, ivf.Lists);
    }
}
