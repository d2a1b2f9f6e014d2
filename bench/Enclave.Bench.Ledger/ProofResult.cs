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
    /// <summary>The same proofs a second time through the same reader: every tile's interior row held.</summary>
    public required LatencyStats InclusionWarm { get; init; }
    /// <summary>Process CPU time per proof of each pass (all threads; the proofs run on one).</summary>
    public required double InclusionCpuMicroseconds { get; init; }
    public required double InclusionWarmCpuMicroseconds { get; init; }
    public required double InclusionWithoutInteriorCacheCpuMicroseconds { get; init; }
    /// <summary>Tiles read from storage per proof without the interior cache, and with a warm one.</summary>
    public required double TileReadsWithoutInteriorCache { get; init; }
    public required double TileReadsWarm { get; init; }
    public required LatencyStats InclusionVerify { get; init; }
    public required int InclusionVerified { get; init; }
    public required LatencyStats Consistency { get; init; }
    public required double ConsistencyMeanHashes { get; init; }
    public required int ConsistencyVerified { get; init; }
    public required double DatabaseMegabytes { get; init; }
}
