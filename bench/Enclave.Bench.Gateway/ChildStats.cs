namespace Enclave.Bench.Gateway;

/// <summary>
/// Counters a child process reports when its parent asks (<c>stats</c> on its stdin): what it allocated, how often
/// it collected, and for the gateway how many ledger entries it has appended.
/// </summary>
internal sealed record ChildStats
{
    public required long AllocatedBytes { get; init; }
    public required int Gen0 { get; init; }
    public required int Gen1 { get; init; }
    public required int Gen2 { get; init; }
    public required double GcPauseMs { get; init; }
    public required int ThreadPoolThreads { get; init; }
    public required bool ServerGc { get; init; }

    /// <summary>The GC heap after the last collection (<see cref="GCMemoryInfo.HeapSizeBytes"/>).</summary>
    public long HeapBytes { get; init; }

    /// <summary>The gateway's ledger size; -1 for the stub and the forwarder.</summary>
    public long LedgerSize { get; init; } = -1;

    public static ChildStats Take(long ledgerSize = -1) => new()
    {
        AllocatedBytes = GC.GetTotalAllocatedBytes(precise: false),
        Gen0 = GC.CollectionCount(0),
        Gen1 = GC.CollectionCount(1),
        Gen2 = GC.CollectionCount(2),
        GcPauseMs = GC.GetTotalPauseDuration().TotalMilliseconds,
        ThreadPoolThreads = ThreadPool.ThreadCount,
        ServerGc = System.Runtime.GCSettings.IsServerGC,
        HeapBytes = GC.GetGCMemoryInfo().HeapSizeBytes,
        LedgerSize = ledgerSize,
    };
}
