namespace Enclave.Bench.Gateway;

/// <summary>CPU used in a window by each process of the test bed and by everything else, as shares of all cores.</summary>
internal sealed record CpuShares
{
    public required double WallSeconds { get; init; }

    public required IReadOnlyDictionary<string, double> Share { get; init; }

    /// <summary>Processes that are not part of the test bed (neighbours on a shared machine, the kernel's own threads).</summary>
    public required double Others { get; init; }

    public double Of(string role) => Share.TryGetValue(role, out var share) ? share : 0;

    /// <summary>CPU microseconds <paramref name="role"/> spent per request at <paramref name="requestsPerSecond"/>.</summary>
    public double MicrosecondsPerRequest(string role, double requestsPerSecond) =>
        requestsPerSecond <= 0 ? double.NaN : Of(role) * Environment.ProcessorCount * 1e6 / requestsPerSecond;
}
