using System.Text.Json.Nodes;

namespace Enclave.Core.Audit;

// Vulnerability data, detections, threat intelligence and alerts (Enclave.Intel).

/// <summary>Details of <c>vulns.loaded</c>.</summary>
public sealed record VulnsLoadedDetails : IAuditDetails
{
    public required string ImportId { get; init; }
    public required string Name { get; init; }
    public required string Version { get; init; }
    public required VulnsLoadedOsv Osv { get; init; }
    public required int Kev { get; init; }
    public required int Vex { get; init; }
    public required int Problems { get; init; }
    public required IReadOnlyList<string> ProblemSamples { get; init; }

    /// <summary>The newest OSV record's <c>modified</c> time (<see cref="AuditEvent.FormatTime"/>); omitted without OSV records.</summary>
    public string? NewestModified { get; init; }
}

/// <summary>The OSV records of <see cref="VulnsLoadedDetails.Osv"/>.</summary>
public sealed record VulnsLoadedOsv
{
    public required int Records { get; init; }
    public required int Added { get; init; }
    public required int Replaced { get; init; }
    public required int KeptNewer { get; init; }
}

/// <summary>Details of <c>vulns.rejected</c>.</summary>
public sealed record VulnsRejectedDetails : IAuditDetails
{
    public required string ImportId { get; init; }
    public required string Name { get; init; }
    public required string Version { get; init; }
    public required string Reason { get; init; }
    public required string Error { get; init; }
}

/// <summary>Details of <c>vulns.sbom-added</c>.</summary>
public sealed record VulnsSbomAddedDetails : IAuditDetails
{
    public required string InventoryId { get; init; }
    public required string Format { get; init; }
    public required string SpecVersion { get; init; }
    public required int Components { get; init; }
    public required string Sha256 { get; init; }
}

/// <summary>Details of <c>vex.decided</c>.</summary>
public sealed record VexDecidedDetails : IAuditDetails
{
    [WrittenWhenNull] public required string? Artifact { get; init; }
    public required string Component { get; init; }
    public required string Advisory { get; init; }
    public required string Status { get; init; }
    [WrittenWhenNull] public required string? Justification { get; init; }
    [WrittenWhenNull] public required string? Statement { get; init; }
    public string? Via { get; init; }
}

/// <summary>Details of <c>vulns.approval-blocked</c>.</summary>
public sealed record VulnsApprovalBlockedDetails : IAuditDetails
{
    public required string ImportId { get; init; }
    public required IReadOnlyList<string> Kev { get; init; }
    public required int Findings { get; init; }
    public string? Via { get; init; }
}

/// <summary>Details of <c>detections.loaded</c>.</summary>
public sealed record DetectionsLoadedDetails : IAuditDetails
{
    public required string ImportId { get; init; }
    public required string Name { get; init; }
    public required string Version { get; init; }
    public required int Files { get; init; }
    public required int Rules { get; init; }
    public required int Correlations { get; init; }
    public required int Filters { get; init; }
    public required int Skipped { get; init; }
    public required IReadOnlyList<DetectionsSkippedSample> SkippedSamples { get; init; }
}

/// <summary>One of <see cref="DetectionsLoadedDetails.SkippedSamples"/>.</summary>
public sealed record DetectionsSkippedSample
{
    public required string Source { get; init; }
    [WrittenWhenNull] public required string? Id { get; init; }
    public required string Reason { get; init; }
    public required string Detail { get; init; }
}

/// <summary>Details of <c>intel.loaded</c>.</summary>
public sealed record IntelLoadedDetails : IAuditDetails
{
    public required string ImportId { get; init; }
    public required string Name { get; init; }
    public required string Version { get; init; }
    public required IReadOnlyList<string> Sources { get; init; }
    public required int Indicators { get; init; }
    public required int Live { get; init; }
    public required int NotEvaluable { get; init; }
    public required int Skipped { get; init; }
    public required int Added { get; init; }
    public required int Replaced { get; init; }
    public required int KeptNewer { get; init; }
    public required IReadOnlyList<string> NotEvaluableSamples { get; init; }
}

/// <summary>Details of <c>intel.rejected</c>.</summary>
public sealed record IntelRejectedDetails : IAuditDetails
{
    public required string ImportId { get; init; }
    public required string Name { get; init; }
    public required string Version { get; init; }
    public required string Reason { get; init; }
    public required string Error { get; init; }
}

/// <summary>Details of <c>intel.hunted</c>.</summary>
public sealed record IntelHuntedDetails : IAuditDetails
{
    public required string Trigger { get; init; }
    public required long From { get; init; }
    public required long To { get; init; }
    public required long Entries { get; init; }
    public required long Hits { get; init; }
    public required int Alerts { get; init; }
}

/// <summary>Details of <c>alert.raised</c>.</summary>
public sealed record AlertRaisedDetails : IAuditDetails
{
    public required string AlertId { get; init; }
    public required string Kind { get; init; }
    public required string Severity { get; init; }
    public required string Title { get; init; }
    public required string Subject { get; init; }

    /// <summary><c>{summary, ledgerIndices, facts}</c>, as the alert stores it.</summary>
    public required JsonObject Evidence { get; init; }
    public string? DedupKey { get; init; }
}

/// <summary>Details of <c>alert.acknowledged</c>.</summary>
public sealed record AlertAcknowledgedDetails : IAuditDetails
{
    public required string AlertId { get; init; }
    public required long RaisedIndex { get; init; }
    public required string From { get; init; }
    public string? Note { get; init; }
    public string? Via { get; init; }
}

/// <summary>Details of <c>alert.resolved</c>.</summary>
public sealed record AlertResolvedDetails : IAuditDetails
{
    public required string AlertId { get; init; }
    public required long RaisedIndex { get; init; }
    public required string From { get; init; }
    public required string Resolution { get; init; }
    [WrittenWhenNull] public required string? Reason { get; init; }
    public string? Via { get; init; }
}
