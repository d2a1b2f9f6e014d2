namespace Enclave.Bench.Gateway;

/// <summary>The line a child prints once it listens: its base URL and, for the gateway, the API key to send.</summary>
internal sealed record ChildReady
{
    public required string Url { get; init; }

    public string? ApiKey { get; init; }

    public string? DataDirectory { get; init; }

    /// <summary>The soak gateway's further principals' keys by name (importer, approvers, the quota-limited user).</summary>
    public IReadOnlyDictionary<string, string>? Keys { get; init; }
}
