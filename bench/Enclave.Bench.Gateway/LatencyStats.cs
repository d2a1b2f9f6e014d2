using System.Diagnostics;

namespace Enclave.Bench.Gateway;

/// <summary>Summary of durations measured with <see cref="Stopwatch.GetTimestamp"/> (exact order statistics, no histogram bucketing).</summary>
internal sealed record LatencyStats
{
    public required long Count { get; init; }
    public required double MeanMs { get; init; }
    public required double P50Ms { get; init; }
    public required double P90Ms { get; init; }
    public required double P99Ms { get; init; }
    public required double P999Ms { get; init; }
    public required double MaxMs { get; init; }

    /// <summary>Sorts <paramref name="ticks"/> in place and summarizes it.</summary>
    public static LatencyStats FromTicks(long[] ticks)
    {
        ArgumentNullException.ThrowIfNull(ticks);
        if (ticks.Length == 0)
        {
            return new LatencyStats { Count = 0, MeanMs = double.NaN, P50Ms = double.NaN, P90Ms = double.NaN, P99Ms = double.NaN, P999Ms = double.NaN, MaxMs = double.NaN };
        }

        Array.Sort(ticks);
        double sum = 0;
        foreach (var t in ticks)
        {
            sum += t;
        }

        return new LatencyStats
        {
            Count = ticks.Length,
            MeanMs = ToMs(sum / ticks.Length),
            P50Ms = ToMs(Percentile(ticks, 0.50)),
            P90Ms = ToMs(Percentile(ticks, 0.90)),
            P99Ms = ToMs(Percentile(ticks, 0.99)),
            P999Ms = ToMs(Percentile(ticks, 0.999)),
            MaxMs = ToMs(ticks[^1]),
        };
    }

    public static double ToMs(double ticks) => ticks * 1000.0 / Stopwatch.Frequency;

    // Nearest-rank percentile: the smallest sample with at least q of the samples at or below it.
    private static long Percentile(long[] sorted, double q)
    {
        var rank = (int)Math.Ceiling(q * sorted.Length);
        return sorted[Math.Clamp(rank - 1, 0, sorted.Length - 1)];
    }
}
