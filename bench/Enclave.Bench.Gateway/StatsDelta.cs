namespace Enclave.Bench.Gateway;

/// <summary>What a child's counters moved by over a run, per request where that is meaningful.</summary>
internal sealed record StatsDelta
{
    public required double AllocatedPerRequest { get; init; }
    public required int Gen0 { get; init; }
    public required int Gen1 { get; init; }
    public required int Gen2 { get; init; }
    public required double GcPauseMs { get; init; }

    /// <summary>Ledger entries appended per request (the gateway appends two: admitted and completed); NaN for the others.</summary>
    public required double LedgerEntriesPerRequest { get; init; }

    public required bool ServerGc { get; init; }

    public static StatsDelta Between(ChildStats start, ChildStats end, long requests)
    {
        ArgumentNullException.ThrowIfNull(start);
        ArgumentNullException.ThrowIfNull(end);
        var n = Math.Max(1, requests);
        return new StatsDelta
        {
            AllocatedPerRequest = (end.AllocatedBytes - start.AllocatedBytes) / (double)n,
            Gen0 = end.Gen0 - start.Gen0,
            Gen1 = end.Gen1 - start.Gen1,
            Gen2 = end.Gen2 - start.Gen2,
            GcPauseMs = end.GcPauseMs - start.GcPauseMs,
            LedgerEntriesPerRequest = start.LedgerSize < 0 ? double.NaN : (end.LedgerSize - start.LedgerSize) / (double)n,
            ServerGc = end.ServerGc,
        };
    }
}
