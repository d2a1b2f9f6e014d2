using Enclave.State.Detections;

namespace Enclave.Intel.Detections;

/// <summary>What the live detections are doing: rules live, where the cursor is, how far behind, alerts raised.</summary>
public sealed record DetectionStatus
{
    /// <summary>Whether the detections run (<c>Detections:Enabled</c>).</summary>
    public required bool Enabled { get; init; }

    public bool SigmaEnabled { get; init; }

    public bool InsiderEnabled { get; init; }

    /// <summary>The Sigma rule sets live, one per intel artifact name.</summary>
    public IReadOnlyList<DetectionRuleSetRow> RuleSets { get; init; } = [];

    /// <summary>Rules and correlations live, over all sets.</summary>
    public int LiveRules { get; init; }

    /// <summary>The next ledger index to score (-1 before the pipeline started).</summary>
    public long NextIndex { get; init; }

    /// <summary>The ledger's durable size.</summary>
    public long LedgerSize { get; init; }

    /// <summary>Entries appended but not scored yet.</summary>
    public long Lag { get; init; }

    /// <summary>Entries scored since the start.</summary>
    public long Processed { get; init; }

    /// <summary>Entries replayed at the start to rebuild the baselines (no alerts).</summary>
    public long Replayed { get; init; }

    /// <summary>The detections' own entries (<c>alert.*</c>, <c>detections.*</c>), not scored.</summary>
    public long SkippedOwn { get; init; }

    /// <summary>Entries that are not audit events.</summary>
    public long Unreadable { get; init; }

    public long SigmaAlerts { get; init; }

    public long InsiderAlerts { get; init; }

    /// <summary>Alerts that could not be raised (logged).</summary>
    public long AlertFailures { get; init; }

    /// <summary>Entries the feed's channel dropped (read back from the store).</summary>
    public long FeedDropped { get; init; }

    /// <summary>Entries read from the store rather than the channel.</summary>
    public long FeedFromStore { get; init; }
}
