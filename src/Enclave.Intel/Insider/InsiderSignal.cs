namespace Enclave.Intel.Insider;

/// <summary>One feature of a signal: what was seen, what was expected, and which ledger entries show it.</summary>
public sealed record InsiderFeatureValue
{
    /// <summary>The feature.</summary>
    public required InsiderFeature Feature { get; init; }

    /// <summary>Today's value (a count, a token count, a label rank, a pair's weighted approvals).</summary>
    public required double Value { get; init; }

    /// <summary>The principal's own baseline (median over the window), or null while it has too little history.</summary>
    public double? PrincipalBaseline { get; init; }

    /// <summary>The peer baseline (median of the role and clearance groups, the lower of the two), or null without peers.</summary>
    public double? PeerBaseline { get; init; }

    /// <summary>How unusual (robust z-score, the lower of own and peer; or the first-time and pair scores).</summary>
    public required double Score { get; init; }

    /// <summary>Ledger indices of the events that made the value (the latest, at most <see cref="InsiderOptions.MaxEvidence"/>).</summary>
    public required IReadOnlyList<long> Evidence { get; init; }
}

/// <summary>An alert candidate for one principal: the feature that crossed the threshold first, then every other elevated one.</summary>
public sealed record InsiderSignal
{
    /// <summary>The principal (<c>user:NAME</c>, <c>service:NAME</c>).</summary>
    public required string Principal { get; init; }

    /// <summary>Its role (first role), or null when unknown.</summary>
    public string? Role { get; init; }

    /// <summary>Its clearance banner, or null when unknown.</summary>
    public string? Clearance { get; init; }

    /// <summary>The time of the event that raised it.</summary>
    public required DateTimeOffset Time { get; init; }

    /// <summary>The ledger index of the event that raised it.</summary>
    public required long LedgerIndex { get; init; }

    /// <summary>The ranking score: the highest feature score plus half of the other elevated ones.</summary>
    public required double Score { get; init; }

    /// <summary>The other principal, for <see cref="InsiderFeature.ApprovalPair"/>.</summary>
    public string? Counterpart { get; init; }

    /// <summary>The features, the triggering one first.</summary>
    public required IReadOnlyList<InsiderFeatureValue> Features { get; init; }
}
