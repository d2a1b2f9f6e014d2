namespace Enclave.Intel.Alerts;

/// <summary>An alert and where it is in its lifecycle, with the ledger entries that raised and last changed it.</summary>
public sealed record Alert
{
    /// <summary><c>alert_</c> and 16 hex digits.</summary>
    public required string Id { get; init; }

    public required AlertKind Kind { get; init; }

    public required AlertSeverity Severity { get; init; }

    public required string Title { get; init; }

    /// <summary>What it concerns (<c>import:ID</c>, <c>model:NAME</c>, …).</summary>
    public required string Subject { get; init; }

    public required AlertEvidence Evidence { get; init; }

    /// <summary>The deduplication key it was raised with, if any.</summary>
    public string? DeduplicationKey { get; init; }

    public required AlertState State { get; init; }

    /// <summary>When it was raised.</summary>
    public required DateTimeOffset Raised { get; init; }

    /// <summary>Who raised it (a ledger actor).</summary>
    public required string RaisedBy { get; init; }

    /// <summary>The ledger index of its <c>alert.raised</c> entry.</summary>
    public required long RaisedIndex { get; init; }

    /// <summary>When its state last changed (null while open).</summary>
    public DateTimeOffset? Updated { get; init; }

    /// <summary>Who last changed its state.</summary>
    public string? UpdatedBy { get; init; }

    /// <summary>The ledger index of the entry that last changed its state.</summary>
    public long? UpdatedIndex { get; init; }

    /// <summary>The note of an acknowledgement or the reason of a resolution.</summary>
    public string? Reason { get; init; }
}
