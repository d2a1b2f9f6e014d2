namespace Enclave.Bench.Ledger;

/// <summary>Settings shared by every benchmark of a run.</summary>
internal sealed record BenchSettings
{
    /// <summary>Where scratch ledgers are created: a directory on the disk being measured.</summary>
    public required string Root { get; init; }

    public required TimeSpan Warmup { get; init; }

    public required TimeSpan Duration { get; init; }

    /// <summary>Keep the scratch ledgers after the run (to inspect them or reuse one with <c>proofs --ledger</c>).</summary>
    public bool Keep { get; init; }

    /// <summary>Sign checkpoints with ML-DSA-44 as well as Ed25519.</summary>
    public bool PostQuantum { get; init; }

    public int Seed { get; init; } = 20_260_101;

    public const string Origin = "bench.enclave.local/ledger";
}
