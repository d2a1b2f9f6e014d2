namespace Enclave.Intel.Insider;

/// <summary>
/// One audit event as the insider engine sees it: the ledger entry's envelope (<c>docs/audit-events.md</c>) with
/// <c>details</c> flattened to a map. Nested objects join their keys with dots and arrays use their index:
/// <c>policy.label</c>, <c>policy.egress.0.action</c>, <c>roles.0</c>; values are the JSON scalars as text
/// (<c>true</c>, <c>403</c>, <c>SECRET</c>).
/// </summary>
public sealed record AuditEvent
{
    private static readonly IReadOnlyDictionary<string, string> NoDetails = new Dictionary<string, string>(0, StringComparer.Ordinal);

    /// <summary>The event type, e.g. <c>request.admitted</c>.</summary>
    public required string Type { get; init; }

    /// <summary>When it happened (UTC).</summary>
    public required DateTimeOffset Time { get; init; }

    /// <summary>Who did it: <c>user:NAME</c>, <c>service:NAME</c>, <c>key:ID</c>, <c>anonymous</c>, <c>system</c>.</summary>
    public required string Actor { get; init; }

    /// <summary>What it was done to.</summary>
    public string Subject { get; init; } = string.Empty;

    /// <summary>The flattened details.</summary>
    public IReadOnlyDictionary<string, string> Details { get; init; } = NoDetails;

    /// <summary>A detail's value, or null when absent.</summary>
    public string? Detail(string key) => Details.TryGetValue(key, out var value) ? value : null;
}
