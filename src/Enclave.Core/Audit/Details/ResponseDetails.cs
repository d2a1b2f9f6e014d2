namespace Enclave.Core.Audit;

// Stored responses (/v1/responses).

/// <summary>Details of <c>response.stored</c>.</summary>
public sealed record ResponseStoredDetails : IAuditDetails
{
    public required string ResponseId { get; init; }
    public required string RequestId { get; init; }
    public required long AdmittedIndex { get; init; }
    public required string Model { get; init; }
    public required string Label { get; init; }
    public string? PreviousResponseId { get; init; }
}

/// <summary>Details of <c>response.read</c>.</summary>
public sealed record ResponseReadDetails : IAuditDetails
{
    public required string ResponseId { get; init; }
    public required string Owner { get; init; }
}

/// <summary>Details of <c>response.deleted</c>.</summary>
public sealed record ResponseDeletedDetails : IAuditDetails
{
    public required string ResponseId { get; init; }
    public required string Owner { get; init; }
    public required string RequestId { get; init; }
}

/// <summary>Details of <c>response.cancelled</c>.</summary>
public sealed record ResponseCancelledDetails : IAuditDetails
{
    public required string ResponseId { get; init; }
    public required string Owner { get; init; }
    public required string RequestId { get; init; }
    public required string Status { get; init; }
}

/// <summary>Details of <c>responses.purged</c>.</summary>
public sealed record ResponsesPurgedDetails : IAuditDetails
{
    public required int Count { get; init; }

    /// <summary>The cutoff, round-trip ("O") format.</summary>
    public required string CreatedBefore { get; init; }
    public required int RetentionDays { get; init; }
}
