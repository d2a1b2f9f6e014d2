namespace Enclave.Core.Audit;

// Authentication, identities and keys, content retention.

/// <summary>Details of <c>auth.failed</c>.</summary>
public sealed record AuthFailedDetails : IAuditDetails
{
    public required string Scheme { get; init; }
    public required string Reason { get; init; }
    public required string Method { get; init; }
    public string? RemoteAddress { get; init; }
    public string? KeyId { get; init; }
    public string? Kid { get; init; }
    public string? Alg { get; init; }
    public string? Iss { get; init; }
    public string? Exception { get; init; }
}

/// <summary>Details of <c>user.added</c>.</summary>
public sealed record UserAddedDetails : IAuditDetails
{
    public required string Name { get; init; }
    public required string Kind { get; init; }
    public required IReadOnlyList<string> Roles { get; init; }
    [WrittenWhenNull] public required string? Clearance { get; init; }
    public string? Purpose { get; init; }
}

/// <summary>Details of <c>user.disabled</c>.</summary>
public sealed record UserDisabledDetails : IAuditDetails
{
    public required string Name { get; init; }
    public required int ActiveKeys { get; init; }
}

/// <summary>Details of <c>user.updated</c>.</summary>
public sealed record UserUpdatedDetails : IAuditDetails
{
    public required string Name { get; init; }
    public required IReadOnlyList<string> Roles { get; init; }
    [WrittenWhenNull] public required string? Clearance { get; init; }
    public required IReadOnlyList<string> PreviousRoles { get; init; }
    [WrittenWhenNull] public required string? PreviousClearance { get; init; }
}

/// <summary>Details of <c>key.created</c>.</summary>
public sealed record KeyCreatedDetails : IAuditDetails
{
    public required string Principal { get; init; }
    public required string Name { get; init; }

    /// <summary>RFC 3339 (<see cref="AuditEvent.FormatTime"/>), or null for a key that does not expire.</summary>
    [WrittenWhenNull] public required string? Expires { get; init; }
    public string? Via { get; init; }
}

/// <summary>Details of <c>key.revoked</c>.</summary>
public sealed record KeyRevokedDetails : IAuditDetails
{
    public required string Principal { get; init; }
    public required string Name { get; init; }
    public string? Via { get; init; }
}

/// <summary>Details of <c>retention.read</c>.</summary>
public sealed record RetentionReadDetails : IAuditDetails
{
    public required string RequestId { get; init; }
}
