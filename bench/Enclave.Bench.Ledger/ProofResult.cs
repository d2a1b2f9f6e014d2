namespace Enclave.Bench.Ledger;

/// <summary>Fill of a large ledger and proof timings against it.</summary>
internal sealed record ProofResult
{
    public required long TreeSize { get; init; }

    /// <summary>Null when an existing ledger was reused.</summary>
    public FillStats? Fill { get; init; }

    public required double RootFromTilesMs { get; init; }
    public required LatencyStats Inclusion { get; init; }
    public required double InclusionMeanHashes { get; init; }
    /// <summary>The same proofs from tiles without the shared interior cache (how LedgerReader served them before it had one).</summary>
    public required LatencyStats InclusionWithoutInteriorCache { get; init; }
    public required LatencyStats InclusionVerify { get; init; }
    public required int InclusionVerified { get; init; }
    public required LatencyStats Consistency { get; init; }
    public required double ConsistencyMeanHashes { get; init; }
    public required int ConsistencyVerified { get; init; }
    public required double DatabaseMegabytes { get; init; }
}
