namespace Enclave.Bench.Gateway;

/// <summary>The line a child prints once it listens: its base URL and, for the gateway, the API key to send.</summary>
internal sealed record ChildReady
{
    public required string Url { get; init; }

    public string? ApiKey { get; init; }

    public string? DataDirectory { get; init; }
}
