namespace Enclave.State.Usage;

/// <summary>
/// The usage rollup's latency histogram: <see cref="Count"/> fixed, log-spaced buckets, the same in every rollup row, so
/// that histograms add up (a minute's into its hour's and day's, one principal's into a model's) and percentiles can be
/// read over any range and group from the sums alone. Bucket <c>i</c> holds the latencies above the bound of bucket
/// <c>i - 1</c> up to and including <see cref="UpperBoundMs"/>(<c>i</c>) = 2^((i - 4) / 2) ms: bucket 0 everything up
/// to 0.25 ms, then a factor of √2 per bucket (about 41%), bucket 42 up to 524,288 ms (8.7 minutes); the last bucket
/// holds everything longer. A percentile read from it lies in the bucket of the exact value (interpolated on the log
/// scale inside the bucket, never above the largest latency seen).
/// </summary>
public static class LatencyHistogram
{
    /// <summary>Buckets in a histogram (the last one unbounded).</summary>
    public const int Count = 44;

    /// <summary>The inclusive upper bound of bucket <paramref name="index"/> in milliseconds (infinity for the last).</summary>
    public static double UpperBoundMs(int index)
    {
        ArgumentOutOfRangeException.ThrowIfNegative(index);
        ArgumentOutOfRangeException.ThrowIfGreaterThanOrEqual(index, Count);
        return index == Count - 1 ? double.PositiveInfinity : Math.Pow(2, (index - 4) / 2.0);
    }

    /// <summary>The exclusive lower bound of bucket <paramref name="index"/> in milliseconds (0 for the first).</summary>
    public static double LowerBoundMs(int index) => index == 0 ? 0 : UpperBoundMs(index - 1);

    /// <summary>The bucket that holds a latency of <paramref name="latencyMs"/> (negative or not a number: bucket 0).</summary>
    public static int BucketOf(double latencyMs)
    {
        if (!(latencyMs > UpperBoundMs(0)))
        {
            return 0;
        }

        // 2·log2(ms) + 4 is the bucket's index when ms is its upper bound; a latency just above a bound goes to the next.
        // The tolerance keeps a latency equal to a bound (1 ms, 2 ms, ...) in its own bucket despite rounding in Log2.
        var position = (2 * Math.Log2(latencyMs)) + 4;
        var index = (int)Math.Ceiling(position - 1e-9);
        return Math.Clamp(index, 1, Count - 1);
    }

    /// <summary>
    /// The <paramref name="quantile"/> (0 to 1, e.g. 0.95) of the latencies counted in <paramref name="counts"/>: the
    /// nearest-rank value's bucket, interpolated on the log scale by its rank within that bucket, and at most
    /// <paramref name="maxMs"/> (the largest latency seen, which also bounds the last bucket). Null when nothing was counted.
    /// </summary>
    public static double? Percentile(IReadOnlyList<long> counts, double quantile, double maxMs)
    {
        ArgumentNullException.ThrowIfNull(counts);
        ArgumentOutOfRangeException.ThrowIfLessThan(quantile, 0);
        ArgumentOutOfRangeException.ThrowIfGreaterThan(quantile, 1);
        long total = 0;
        foreach (var c in counts)
        {
            total += c;
        }

        if (total == 0)
        {
            return null;
        }

        // Nearest rank: the smallest latency with at least ceil(q·n) latencies at or below it.
        var rank = Math.Max(1, (long)Math.Ceiling(quantile * total));
        long before = 0;
        for (var i = 0; i < counts.Count; i++)
        {
            if (counts[i] == 0 || before + counts[i] < rank)
            {
                before += counts[i];
                continue;
            }

            var fraction = (double)(rank - before) / counts[i];
            var lower = LowerBoundMs(i);
            var upper = i == Count - 1 ? Math.Max(maxMs, lower) : UpperBoundMs(i);
            var estimate = lower <= 0 ? upper * fraction : lower * Math.Pow(upper / lower, fraction);
            return maxMs > 0 ? Math.Min(estimate, maxMs) : estimate;
        }

        return maxMs;
    }

    /// <summary>The element-wise sum of two histograms (an empty list is all zeros).</summary>
    public static IReadOnlyList<long> Add(IReadOnlyList<long> a, IReadOnlyList<long> b)
    {
        ArgumentNullException.ThrowIfNull(a);
        ArgumentNullException.ThrowIfNull(b);
        if (b.Count == 0)
        {
            return a;
        }

        if (a.Count == 0)
        {
            return b;
        }

        var sum = new long[Count];
        for (var i = 0; i < Count; i++)
        {
            sum[i] = a[i] + b[i];
        }

        return sum;
    }

    /// <summary>Column name of bucket <paramref name="index"/> in <c>usage_buckets</c> (<c>latency_h00</c> to <c>latency_h43</c>).</summary>
    internal static string Column(int index) => "latency_h" + index.ToString("00", System.Globalization.CultureInfo.InvariantCulture);
}
