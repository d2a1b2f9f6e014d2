using System.Diagnostics;

namespace Enclave.Bench.Gateway;

/// <summary>CPU seconds used so far by each process of the test bed, and by the whole machine, at one instant.</summary>
internal sealed record CpuSample
{
    public required long Timestamp { get; init; }

    /// <summary>CPU seconds per role: <c>load</c> (wrk, or this process for the fixed-rate client), <c>stub</c>, <c>forwarder</c>, <c>gateway</c>, <c>bench</c>.</summary>
    public required IReadOnlyDictionary<string, double> Seconds { get; init; }

    public required double MachineBusySeconds { get; init; }

    /// <summary>What each role used between <paramref name="start"/> and <paramref name="end"/>, as shares of all cores.</summary>
    public static CpuShares Between(CpuSample start, CpuSample end)
    {
        ArgumentNullException.ThrowIfNull(start);
        ArgumentNullException.ThrowIfNull(end);
        var wall = (end.Timestamp - start.Timestamp) / (double)Stopwatch.Frequency;
        var capacity = wall * Environment.ProcessorCount;
        var shares = new Dictionary<string, double>(StringComparer.Ordinal);
        double ours = 0;
        foreach (var (role, seconds) in end.Seconds)
        {
            if (seconds < 0 || !start.Seconds.TryGetValue(role, out var before) || before < 0)
            {
                continue;
            }

            shares[role] = (seconds - before) / capacity;
            ours += seconds - before;
        }

        var machine = end.MachineBusySeconds - start.MachineBusySeconds;
        return new CpuShares
        {
            WallSeconds = wall,
            Share = shares,
            Others = start.MachineBusySeconds < 0 ? double.NaN : Math.Max(0, machine - ours) / capacity,
        };
    }
}
