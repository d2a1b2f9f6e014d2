namespace Enclave.Bench.Ledger;

/// <summary>How the large ledger was filled.</summary>
internal sealed record FillStats
{
    public required int Writers { get; init; }
    public required TimeSpan CheckpointInterval { get; init; }
    public required double Seconds { get; init; }
    public required double AppendsPerSecond { get; init; }
    public required LatencyStats Latency { get; init; }
    public required int CommitsObserved { get; init; }
    public required RuntimeDelta Runtime { get; init; }
}
