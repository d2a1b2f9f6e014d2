using Enclave.State.Usage;

namespace Enclave.State.Tests;

/// <summary>The usage rollup's fixed latency buckets and the percentiles read from them, with known latencies.</summary>
public sealed class LatencyHistogramTests
{
    [Fact]
    public void Buckets_AreLogSpacedByRootTwo_From0point25Ms_WithTheLastUnbounded()
    {
        Assert.Equal(0.25, LatencyHistogram.UpperBoundMs(0));
        Assert.Equal(1, LatencyHistogram.UpperBoundMs(4));
        Assert.Equal(1000 * 1.024, LatencyHistogram.UpperBoundMs(24), 9);
        Assert.Equal(524_288, LatencyHistogram.UpperBoundMs(LatencyHistogram.Count - 2));
        Assert.Equal(double.PositiveInfinity, LatencyHistogram.UpperBoundMs(LatencyHistogram.Count - 1));
        for (var i = 1; i < LatencyHistogram.Count - 1; i++)
        {
            Assert.Equal(Math.Sqrt(2), LatencyHistogram.UpperBoundMs(i) / LatencyHistogram.UpperBoundMs(i - 1), 9);
        }
    }

    [Theory]
    [InlineData(0, 0)]
    [InlineData(-3, 0)]
    [InlineData(double.NaN, 0)]
    [InlineData(0.25, 0)]
    [InlineData(0.2501, 1)]
    [InlineData(1, 4)]
    [InlineData(1.0001, 5)]
    [InlineData(2, 6)]
    [InlineData(64, 16)]
    [InlineData(65, 17)]
    [InlineData(524_288, LatencyHistogram.Count - 2)]
    [InlineData(524_289, LatencyHistogram.Count - 1)]
    [InlineData(double.PositiveInfinity, LatencyHistogram.Count - 1)]
    public void BucketOf_PutsALatencyOnABoundInThatBucket_AndJustAboveInTheNext(double latencyMs, int bucket) =>
        Assert.Equal(bucket, LatencyHistogram.BucketOf(latencyMs));

    [Fact]
    public void Percentiles_OfKnownLatencies_OnBucketBounds_AreExact()
    {
        // 50 requests of 1 ms, 45 of 8 ms, 5 of 64 ms.
        var counts = Histogram([.. Enumerable.Repeat(1.0, 50), .. Enumerable.Repeat(8.0, 45), .. Enumerable.Repeat(64.0, 5)]);

        Assert.Equal(1, LatencyHistogram.Percentile(counts, 0.50, 64));
        Assert.Equal(8, LatencyHistogram.Percentile(counts, 0.95, 64));
        Assert.Equal(64, LatencyHistogram.Percentile(counts, 1.0, 64));
        // p99 is the 99th of 100: the fourth of the five in (45.25, 64], read on the log scale inside that bucket.
        var p99 = LatencyHistogram.Percentile(counts, 0.99, 64)!.Value;
        Assert.Equal(45.254833995939 * Math.Pow(Math.Sqrt(2), 0.8), p99, 6);
    }

    [Fact]
    public void Percentiles_LieInTheBucketOfTheExactNearestRankValue_AndNeverAboveTheMaximum()
    {
        var random = new Random(20261207);
        for (var run = 0; run < 200; run++)
        {
            // Log-uniform latencies from 0.1 ms to 10 minutes, a different count each run.
            var latencies = Enumerable.Range(0, 1 + random.Next(500)).Select(_ => Math.Pow(10, -1 + (random.NextDouble() * 5.8))).ToArray();
            var counts = Histogram(latencies);
            var max = latencies.Max();
            Array.Sort(latencies);
            foreach (var q in new[] { 0.5, 0.95, 0.99 })
            {
                var exact = latencies[(int)Math.Ceiling(q * latencies.Length) - 1];
                var estimate = LatencyHistogram.Percentile(counts, q, max)!.Value;
                var bucket = LatencyHistogram.BucketOf(exact);
                Assert.InRange(estimate, LatencyHistogram.LowerBoundMs(bucket), Math.Min(LatencyHistogram.UpperBoundMs(bucket), max));
            }
        }
    }

    [Fact]
    public void Percentile_OfNothing_IsNull_AndHistogramsAddBucketByBucket()
    {
        Assert.Null(LatencyHistogram.Percentile([], 0.5, 0));
        Assert.Null(LatencyHistogram.Percentile(new long[LatencyHistogram.Count], 0.5, 0));

        var a = Histogram([1, 1, 8]);
        var b = Histogram([8, 64]);
        var sum = LatencyHistogram.Add(a, b);
        Assert.Equal(Histogram([1, 1, 8, 8, 64]), sum);
        Assert.Same(a, LatencyHistogram.Add(a, []));
        Assert.Same(b, LatencyHistogram.Add([], b));
    }

    private static long[] Histogram(IEnumerable<double> latencies)
    {
        var counts = new long[LatencyHistogram.Count];
        foreach (var latency in latencies)
        {
            counts[LatencyHistogram.BucketOf(latency)]++;
        }

        return counts;
    }
}
