using System.Diagnostics;

namespace Enclave.Bench.Gateway.Soak;

/// <summary>
/// Where the CPU went between two samples of the soak: the gateway's share of all cores and its CPU per request and per
/// ledger entry, the bed's own processes' share (client and stub), and the machine's idle and steal shares.
/// </summary>
internal sealed record SoakCpu
{
    public required double Seconds { get; init; }
    public required double GatewayShare { get; init; }

    /// <summary>Gateway CPU µs per request answered in the interval (all kinds); NaN when none was.</summary>
    public required double GatewayUsPerRequest { get; init; }

    /// <summary>Gateway CPU µs per ledger entry appended in the interval; NaN when none was.</summary>
    public required double GatewayUsPerEntry { get; init; }

    public required double BedShare { get; init; }
    public required double Idle { get; init; }
    public required double Steal { get; init; }

    public static SoakCpu Between(SoakSample start, SoakSample end)
    {
        ArgumentNullException.ThrowIfNull(start);
        ArgumentNullException.ThrowIfNull(end);
        var wall = (end.Timestamp - start.Timestamp) / (double)Stopwatch.Frequency;
        var capacity = wall * Environment.ProcessorCount;
        var gateway = end.CpuSeconds - start.CpuSeconds;
        var requests = end.Answered - start.Answered;
        var entries = end.Stats.LedgerSize - start.Stats.LedgerSize;
        var (idle, steal) = MachineCpu.SharesBetween(start.Machine, end.Machine);
        return new SoakCpu
        {
            Seconds = wall,
            GatewayShare = gateway / capacity,
            GatewayUsPerRequest = requests > 0 ? gateway * 1e6 / requests : double.NaN,
            GatewayUsPerEntry = entries > 0 ? gateway * 1e6 / entries : double.NaN,
            BedShare = (end.BedCpuSeconds - start.BedCpuSeconds) / capacity,
            Idle = idle,
            Steal = steal,
        };
    }
}
