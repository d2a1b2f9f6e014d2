namespace Enclave.Inference.Upstream;

/// <summary>A snapshot of one backend, for <c>/readyz</c>, the admin API and metrics.</summary>
public sealed record UpstreamBackendStatus
{
    public required string Name { get; init; }

    public required UpstreamHealth Health { get; init; }

    /// <summary>Requests in flight (streams count until they end).</summary>
    public required int Outstanding { get; init; }

    /// <summary>When the last health check finished; null before the first.</summary>
    public DateTimeOffset? LastHealthCheck { get; init; }

    public required IReadOnlyList<string> Models { get; init; }

    public required UpstreamLabels Labels { get; init; }
}
