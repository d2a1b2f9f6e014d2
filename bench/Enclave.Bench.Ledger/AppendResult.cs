namespace Enclave.Bench.Ledger;

/// <summary>One append-throughput run.</summary>
internal sealed record AppendResult
{
    public required int Writers { get; init; }
    public required TimeSpan CheckpointInterval { get; init; }
    public required double Seconds { get; init; }
    public required long Appends { get; init; }
    public required double AppendsPerSecond { get; init; }
    public required LatencyStats Latency { get; init; }

    /// <summary>Group commits observed in the window (a lower bound; see <see cref="WriterLog.DistinctSizes"/>).</summary>
    public required int CommitsObserved { get; init; }

    public double MeanBatch => CommitsObserved == 0 ? double.NaN : Appends / (double)CommitsObserved;

    public required RuntimeDelta Runtime { get; init; }

    /// <summary>Entries in the ledger at the end, warm-up included.</summary>
    public required long TreeSize { get; init; }
}
