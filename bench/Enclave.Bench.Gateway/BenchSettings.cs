namespace Enclave.Bench.Gateway;

/// <summary>Settings shared by every run of the benchmark.</summary>
internal sealed record BenchSettings
{
    /// <summary>Where the gateway's data directory (ledger, key store) is created: a directory on the disk being measured.</summary>
    public required string Root { get; init; }

    /// <summary>The targets to load, in order.</summary>
    public required IReadOnlyList<Target> Targets { get; init; }

    /// <summary>Unmeasured load before each measured window (tiered JIT and connection pools need it).</summary>
    public required TimeSpan Warmup { get; init; }

    /// <summary>Measured seconds of each wrk run.</summary>
    public required TimeSpan Duration { get; init; }

    public required int WrkThreads { get; init; }

    public required int WrkConnections { get; init; }

    public required string WrkPath { get; init; }

    /// <summary>Offered request rates (requests/s) for the fixed-rate latency runs.</summary>
    public required IReadOnlyList<int> Rates { get; init; }

    /// <summary>Unmeasured seconds at the fixed rate before each measured window (same schedule, not recorded).</summary>
    public required TimeSpan RateWarmup { get; init; }

    /// <summary>Measured seconds of each fixed-rate run.</summary>
    public required TimeSpan RateDuration { get; init; }

    /// <summary>How many times each measurement is repeated (targets are interleaved within a round).</summary>
    public int Repeat { get; init; } = 1;

    /// <summary>
    /// Extra environment variables for the gateway process only, for A/B runs of runtime and library switches
    /// (<c>OTEL_SDK_DISABLED=true</c>, <c>DOTNET_gcServer=1</c>...) that leave the stub and the forwarder as they are.
    /// </summary>
    public IReadOnlyDictionary<string, string> GatewayEnvironment { get; init; } = new Dictionary<string, string>();

    /// <summary>The gateway ledger's checkpoint interval; zero (as <c>enclave serve</c> opens it) signs one per commit.</summary>
    public TimeSpan GatewayCheckpointInterval { get; init; }

    /// <summary>Further arguments for the gateway child process (the soak benchmark's principals and quota).</summary>
    public IReadOnlyList<string> GatewayArguments { get; init; } = [];

    /// <summary>
    /// An existing data directory for the gateway (one <c>prefill</c> grew) instead of a fresh one under
    /// <see cref="Root"/>; it is used in place and never deleted. Null: a fresh directory.
    /// </summary>
    public string? GatewayData { get; init; }

    /// <summary>Keep the gateway's data directory after the run.</summary>
    public bool Keep { get; init; }

    /// <summary>The model the stub serves and the requests ask for.</summary>
    public const string Model = "bench-chat";

    public const string Origin = "bench.enclave.local/ledger";
}
