namespace Enclave.Core.Audit;

// Upgrades: activated update bundles installed as Enclave releases.

/// <summary>Details of <c>upgrade.staged</c>.</summary>
public sealed record UpgradeStagedDetails : IAuditDetails
{
    public required string Version { get; init; }
    public required string ImportId { get; init; }
    public required string Name { get; init; }
    public required int Files { get; init; }
    public required long Bytes { get; init; }
    [WrittenWhenNull] public required string? Running { get; init; }

    /// <summary><c>fresh</c>, <c>stale</c>, <c>no-data</c>, or null when no vulnerability data is loaded.</summary>
    [WrittenWhenNull] public required string? Data { get; init; }
    [WrittenWhenNull] public required IReadOnlyList<string>? Resolves { get; init; }
    [WrittenWhenNull] public required IReadOnlyList<string>? Introduces { get; init; }
}

/// <summary>Details of <c>upgrade.applied</c>.</summary>
public sealed record UpgradeAppliedDetails : IAuditDetails
{
    [WrittenWhenNull] public required string? From { get; init; }
    public required string To { get; init; }
    [WrittenWhenNull] public required string? ImportId { get; init; }
    public required string InstallRoot { get; init; }
    [WrittenWhenNull] public required IReadOnlyList<string>? Resolves { get; init; }
}

/// <summary>Details of <c>upgrade.rolled_back</c>.</summary>
public sealed record UpgradeRolledBackDetails : IAuditDetails
{
    [WrittenWhenNull] public required string? From { get; init; }
    public required string To { get; init; }
    [WrittenWhenNull] public required string? ImportId { get; init; }
    public required string InstallRoot { get; init; }
}

/// <summary>Details of <c>upgrade.failed</c>.</summary>
public sealed record UpgradeFailedDetails : IAuditDetails
{
    public required string Step { get; init; }
    [WrittenWhenNull] public required string? Version { get; init; }
    public required string Reason { get; init; }
    public required string Error { get; init; }
    [WrittenWhenNull] public required string? Current { get; init; }
}
