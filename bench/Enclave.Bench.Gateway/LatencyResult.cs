namespace Enclave.Bench.Gateway;

/// <summary>One fixed-rate run at one target: latency at a given offered load, and who used the CPU.</summary>
internal sealed record LatencyResult
{
    public required Target Target { get; init; }
    public required int Round { get; init; }
    public required FixedRateResult Load { get; init; }
    public required CpuShares Cpu { get; init; }
    public required StatsDelta Stats { get; init; }
}
