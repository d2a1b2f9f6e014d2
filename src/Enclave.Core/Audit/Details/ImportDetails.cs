using System.Text.Json.Serialization;

namespace Enclave.Core.Audit;

// The airlock's events; their fields are snake_case, as first written.

/// <summary>Details of <c>import.trust-pinned</c>.</summary>
public sealed record ImportTrustPinnedDetails : IAuditDetails
{
    [JsonPropertyName("root_sha256")] public required string RootSha256 { get; init; }
    [JsonPropertyName("root_version")] public required long RootVersion { get; init; }
    public required bool Forced { get; init; }
    [JsonPropertyName("replaced_sha256")] public string? ReplacedSha256 { get; init; }
}

/// <summary>Details of <c>import.trust-pin-failed</c>.</summary>
public sealed record ImportTrustPinFailedDetails : IAuditDetails
{
    [JsonPropertyName("root_sha256")] public required string RootSha256 { get; init; }
    public required string Error { get; init; }
}

/// <summary>Details of <c>import.received</c>.</summary>
public sealed record ImportReceivedDetails : IAuditDetails
{
    public required string Source { get; init; }
    public string? Via { get; init; }
}

/// <summary>Details of <c>import.verified</c>.</summary>
public sealed record ImportVerifiedDetails : IAuditDetails
{
    public required string Kind { get; init; }
    public required string Name { get; init; }
    public required string Version { get; init; }
    public required string Label { get; init; }
    [WrittenWhenNull] public required string? Task { get; init; }
    [JsonPropertyName("manifest_sha256")] public required string ManifestSha256 { get; init; }
    [JsonPropertyName("target_count")] public required int TargetCount { get; init; }

    /// <summary>Every target, when there are few enough (the entry has a size limit); omitted otherwise.</summary>
    public IReadOnlyList<ImportVerifiedTarget>? Targets { get; init; }
    [JsonPropertyName("signer_key_ids")] public required IReadOnlyList<string> SignerKeyIds { get; init; }
    [JsonPropertyName("sbom_sha256"), WrittenWhenNull] public required string? SbomSha256 { get; init; }
    [JsonPropertyName("provenance_sha256"), WrittenWhenNull] public required string? ProvenanceSha256 { get; init; }
    [JsonPropertyName("archive_bytes")] public required long ArchiveBytes { get; init; }

    /// <summary>The TUF metadata versions verified, by role.</summary>
    [JsonPropertyName("tuf_versions")] public required IReadOnlyDictionary<string, int> TufVersions { get; init; }
    [JsonPropertyName("required_approvals")] public required int RequiredApprovals { get; init; }
    public string? Via { get; init; }
}

/// <summary>One target of <see cref="ImportVerifiedDetails.Targets"/>.</summary>
public sealed record ImportVerifiedTarget
{
    public required string Path { get; init; }
    public required string Type { get; init; }
    public required string Sha256 { get; init; }
    public required long Length { get; init; }
}

/// <summary>Details of <c>import.rejected</c>.</summary>
public sealed record ImportRejectedDetails : IAuditDetails
{
    public required string Stage { get; init; }
    public required string Reason { get; init; }
    public required string Detail { get; init; }

    /// <summary>The scanners' findings, when there were any.</summary>
    public IReadOnlyList<string>? Findings { get; init; }
    public string? Kind { get; init; }
    public string? Name { get; init; }
    public string? Version { get; init; }
    [JsonPropertyName("manifest_sha256")] public string? ManifestSha256 { get; init; }
    public string? Via { get; init; }
}

/// <summary>Details of <c>import.approval-refused</c>.</summary>
public sealed record ImportApprovalRefusedDetails : IAuditDetails
{
    public required string Reason { get; init; }
    public string? Via { get; init; }
}

/// <summary>Details of <c>import.approved</c>.</summary>
public sealed record ImportApprovedDetails : IAuditDetails
{
    [JsonPropertyName("manifest_sha256")] public required string ManifestSha256 { get; init; }
    public required int Approvals { get; init; }
    [JsonPropertyName("required_approvals")] public required int RequiredApprovals { get; init; }
    public string? Via { get; init; }
}

/// <summary>Details of <c>import.approval-failed</c>.</summary>
public sealed record ImportApprovalFailedDetails : IAuditDetails
{
    public required string Error { get; init; }
}

/// <summary>Details of <c>import.activated</c>.</summary>
public sealed record ImportActivatedDetails : IAuditDetails
{
    public required string Kind { get; init; }
    public required string Name { get; init; }
    public required string Version { get; init; }
    public required string Label { get; init; }
    [WrittenWhenNull] public required string? Task { get; init; }
    [JsonPropertyName("manifest_sha256")] public required string ManifestSha256 { get; init; }
    public required IReadOnlyList<string> Approvers { get; init; }
    public required string Folder { get; init; }
    public string? Via { get; init; }
}

/// <summary>Details of <c>import.activation-failed</c>.</summary>
public sealed record ImportActivationFailedDetails : IAuditDetails
{
    public required string Error { get; init; }
    public required string Detail { get; init; }
}

/// <summary>Details of <c>import.hook-failed</c>.</summary>
public sealed record ImportHookFailedDetails : IAuditDetails
{
    public required string Hook { get; init; }
    public required string Kind { get; init; }
    public required string Error { get; init; }
}
