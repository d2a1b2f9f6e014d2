namespace Enclave.Intel.Insider;

/// <summary>What an insider signal measured. The first <see cref="InsiderEngine.CountedFeatures"/> are daily counts kept per principal.</summary>
public enum InsiderFeature
{
    /// <summary>Requests (admitted or denied) in the busiest hour of the day.</summary>
    RequestsPerHour,

    /// <summary>Prompt plus completion tokens in the busiest hour of the day.</summary>
    TokensPerHour,

    /// <summary>Requests at an hour of day or day of week the principal (or, while it is new, its role) rarely works.</summary>
    OffHoursRequests,

    /// <summary>Requests denied by policy or quota.</summary>
    PolicyDenials,

    /// <summary>Requests where the egress guard blocked a backend.</summary>
    EgressBlocks,

    /// <summary>Reads of retained prompt and answer content (<c>retention.read</c>).</summary>
    RetentionReads,

    /// <summary>Ledger exports (<c>ledger.exported</c>).</summary>
    LedgerExports,

    /// <summary>API keys created (<c>key.created</c>, counted on the actor).</summary>
    KeysCreated,

    /// <summary>Accounts added, disabled or changed, keys revoked (<c>user.added</c>, <c>user.updated</c>, <c>user.disabled</c>, <c>key.revoked</c>).</summary>
    AccountChanges,

    /// <summary>Airlock imports of this principal that were rejected (<c>import.rejected</c>).</summary>
    ImportRejects,

    /// <summary>Failed authentications with one of this principal's keys (<c>auth.failed</c> with a known <c>keyId</c>).</summary>
    AuthFailures,

    /// <summary>Request labels above the highest label the principal touched in the window (first time at a higher label), or above its clearance.</summary>
    LabelAboveUsual,

    /// <summary>Retention reads plus ledger exports summed over the whole window, against peers' window sums (slow and low).</summary>
    SensitiveReadsOverWindow,

    /// <summary>Two principals who approve each other's imports far more than anyone else's.</summary>
    ApprovalPair,
}
