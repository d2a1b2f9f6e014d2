namespace Enclave.Bench.Gateway;

/// <summary>One fixed-rate run: latencies of the measured requests.</summary>
internal sealed record FixedRateResult
{
    public required int Rate { get; init; }

    /// <summary>Requests due in the measured window.</summary>
    public required int Sent { get; init; }

    /// <summary>Requests that did not get a 200 (or no answer within 30 s of the last send).</summary>
    public required int Failed { get; init; }

    /// <summary>From the due time to the last byte of the answer: the latency a client at this rate sees.</summary>
    public required LatencyStats FromDue { get; init; }

    /// <summary>From the actual send to the last byte (leaves out the client's own scheduling lag).</summary>
    public required LatencyStats FromSend { get; init; }

    /// <summary>How late the client sent, after the due time (its own precision; should be tens of µs).</summary>
    public required LatencyStats SendLag { get; init; }
}
