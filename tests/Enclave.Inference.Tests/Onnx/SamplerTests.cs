using Enclave.Inference.Onnx;

namespace Enclave.Inference.Tests.Onnx;

public sealed class SamplerTests
{
    private static readonly float[] Logits = MakeLogits();

    [Theory]
    [InlineData(0.5f)]
    [InlineData(0.9f)]
    [InlineData(0.99f)]
    public void TopP_DrawsOnlyFromTheNucleus_AndReachesAllOfIt(float topP)
    {
        var nucleus = ReferenceNucleus(Logits, temperature: 0.8, topP);
        var sampler = new Sampler(new SamplingOptions { Temperature = 0.8f, TopP = topP }, seed: 1);
        var drawn = new HashSet<int>();
        for (var i = 0; i < 4_000; i++)
        {
            drawn.Add(sampler.Next(Logits));
        }

        Assert.Subset(nucleus, drawn);
        if (nucleus.Count <= 20)
        {
            Assert.Equal(nucleus, drawn);
        }
    }

    [Fact]
    public void TopK_DrawsOnlyTheKBest_IncludingTiesByLowerId()
    {
        float[] logits = [1f, 5f, 3f, 5f, 4f, 0f, 4f];
        var sampler = new Sampler(new SamplingOptions { Temperature = 1f, TopK = 3 }, seed: 7);
        var drawn = new HashSet<int>();
        for (var i = 0; i < 5_000; i++)
        {
            drawn.Add(sampler.Next(logits));
        }

        Assert.Equal(new HashSet<int> { 1, 3, 4 }, drawn);
    }

    [Fact]
    public void SameSeed_SameDraws()
    {
        var options = new SamplingOptions { Temperature = 1.2f, TopP = 0.95f, TopK = 50 };
        var a = new Sampler(options, 99);
        var b = new Sampler(options, 99);
        for (var i = 0; i < 100; i++)
        {
            Assert.Equal(a.Next(Logits), b.Next(Logits));
        }
    }

    [Fact]
    public void Greedy_IsTheFirstMaximum()
    {
        Assert.Equal(1, Sampler.ArgMax([0f, 3f, 3f, -1f]));
        Assert.Equal(1, new Sampler(new SamplingOptions { Temperature = 0f }, 1).Next([0f, 3f, 3f, -1f]));
    }

    private static HashSet<int> ReferenceNucleus(float[] logits, double temperature, double topP)
    {
        var max = logits.Max();
        var weights = logits.Select(l => Math.Exp((l - max) / temperature)).ToArray();
        var total = weights.Sum();
        var order = Enumerable.Range(0, logits.Length).OrderByDescending(i => logits[i]).ThenBy(i => i).ToList();
        var nucleus = new HashSet<int>();
        var cumulative = 0.0;
        foreach (var i in order)
        {
            nucleus.Add(i);
            cumulative += weights[i];
            if (cumulative >= topP * total)
            {
                break;
            }
        }

        return nucleus;
    }

    private static float[] MakeLogits()
    {
#pragma warning disable CA5394 // test data
        var random = new Random(3);
        return Enumerable.Range(0, 1000).Select(_ => (float)(random.NextDouble() * 10)).ToArray();
#pragma warning restore CA5394
    }
}
