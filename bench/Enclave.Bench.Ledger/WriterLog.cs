namespace Enclave.Bench.Ledger;

/// <summary>One writer's samples: append latency in Stopwatch ticks and the ledger size it saw right after the append returned.</summary>
internal sealed class WriterLog(int capacity)
{
    public List<long> Latencies { get; } = new(capacity);

    public List<long> SizesSeen { get; } = new(capacity);

    public void Add(long latencyTicks, long sizeSeen)
    {
        Latencies.Add(latencyTicks);
        SizesSeen.Add(sizeSeen);
    }

    /// <summary>All writers' latencies in one array (for exact percentiles).</summary>
    public static long[] MergeLatencies(IReadOnlyList<WriterLog> logs)
    {
        var all = new long[logs.Sum(l => l.Latencies.Count)];
        var offset = 0;
        foreach (var log in logs)
        {
            log.Latencies.CopyTo(all, offset);
            offset += log.Latencies.Count;
        }

        return all;
    }

    /// <summary>
    /// Distinct ledger sizes seen after appends. Every group commit publishes a new size before it completes its
    /// callers, so this counts the commits that at least one of their own callers observed: a lower bound on the
    /// number of commits, exact with one writer, and in practice exact when a batch has many callers.
    /// </summary>
    public static int DistinctSizes(IReadOnlyList<WriterLog> logs)
    {
        var seen = new HashSet<long>();
        foreach (var log in logs)
        {
            seen.UnionWith(log.SizesSeen);
        }

        return seen.Count;
    }
}
