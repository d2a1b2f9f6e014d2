namespace Enclave.Bench.Gateway;

/// <summary>One wrk run at one target: throughput and latency under saturation, and who used the CPU.</summary>
internal sealed record ThroughputResult
{
    public required Target Target { get; init; }
    public required int Round { get; init; }
    public required WrkResult Wrk { get; init; }
    public required CpuShares Cpu { get; init; }
    public required StatsDelta Stats { get; init; }
}
