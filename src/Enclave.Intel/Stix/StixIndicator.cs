namespace Enclave.Intel.Stix;

/// <summary>A STIX 2.1 <c>indicator</c> object, the newest version of its id in the bundle.</summary>
public sealed record StixIndicator
{
    public required string Id { get; init; }
    public string? Name { get; init; }
    public required string Pattern { get; init; }
    public required string PatternType { get; init; }
    public required DateTimeOffset ValidFrom { get; init; }
    public DateTimeOffset? ValidUntil { get; init; }
    public bool Revoked { get; init; }

    /// <summary>0-100, when the producer gave one.</summary>
    public int? Confidence { get; init; }
    public required DateTimeOffset Created { get; init; }
    public required DateTimeOffset Modified { get; init; }

    /// <summary>Live at <paramref name="now"/>: not revoked, <c>valid_from &lt;= now &lt; valid_until</c>.</summary>
    public bool IsLiveAt(DateTimeOffset now) => !Revoked && ValidFrom <= now && (ValidUntil is null || now < ValidUntil);
}
