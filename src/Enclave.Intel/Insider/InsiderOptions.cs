namespace Enclave.Intel.Insider;

/// <summary>Bounds and thresholds of the insider engine. Memory is bounded by <see cref="MaxPrincipals"/> times a fixed per-principal size.</summary>
public sealed record InsiderOptions
{
    /// <summary>Days in the rolling baseline window (1..90).</summary>
    public int WindowDays { get; init; } = 28;

    /// <summary>Days of history a principal needs before its own baseline counts (before that: peers only).</summary>
    public int MinHistoryDays { get; init; } = 7;

    /// <summary>Principal-days a peer group needs before its baseline counts.</summary>
    public int MinPeerSamples { get; init; } = 20;

    /// <summary>Score at which a feature raises a signal.</summary>
    public double Threshold { get; init; } = 4;

    /// <summary>A feature raises again the same day only when its score grew by this factor.</summary>
    public double RaiseAgainFactor { get; init; } = 1.5;

    /// <summary>Principals tracked at once; beyond it the least recently seen eighth is forgotten.</summary>
    public int MaxPrincipals { get; init; } = 100_000;

    /// <summary>Peer groups (roles plus clearances) tracked at once; further groups are not tracked.</summary>
    public int MaxPeerGroups { get; init; } = 256;

    /// <summary>Approver-importer pairs tracked at once; beyond it the weakest half is forgotten.</summary>
    public int MaxApprovalPairs { get; init; } = 100_000;

    /// <summary>Imports in flight whose importer is remembered (for approvals); beyond it the map is cleared.</summary>
    public int MaxOpenImports { get; init; } = 100_000;

    /// <summary>API keys whose principal is remembered (for failed authentications).</summary>
    public int MaxKeys { get; init; } = 1_000_000;

    /// <summary>Ledger indices kept as evidence per feature and day.</summary>
    public int MaxEvidence { get; init; } = 16;

    /// <summary>Half-life of approval pair counts, in days.</summary>
    public double ApprovalHalfLifeDays { get; init; } = 14;

    /// <summary>Label banners from lowest to highest (a banner's part before <c>//</c> is compared, case-insensitively).</summary>
    public IReadOnlyList<string> LabelOrder { get; init; } = ["UNCLASSIFIED", "CONFIDENTIAL", "SECRET", "TOP SECRET"];

    internal void Validate()
    {
        if (WindowDays is < 2 or > 90 || MinHistoryDays < 1 || MinHistoryDays > WindowDays || MinPeerSamples < 1 || Threshold <= 0
            || RaiseAgainFactor < 1 || MaxPrincipals < 1 || MaxPeerGroups < 1 || MaxApprovalPairs < 2 || MaxOpenImports < 1 || MaxKeys < 1
            || MaxEvidence is < 1 or > 1024 || ApprovalHalfLifeDays <= 0 || LabelOrder.Count is 0 or > 64)
        {
            throw new ArgumentOutOfRangeException(nameof(InsiderOptions), "insider options out of range: WindowDays 2..90, MinHistoryDays 1..WindowDays, MaxEvidence 1..1024, LabelOrder 1..64 banners, the rest positive");
        }
    }
}
