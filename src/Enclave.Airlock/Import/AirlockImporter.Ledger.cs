using Enclave.Core.Audit;

namespace Enclave.Airlock.Import;

// Ledger entries: every stage's audit event and its details.
public sealed partial class AirlockImporter
{
    private async Task<long> AppendAsync<TDetails>(string actor, string subject, TDetails details, CancellationToken cancellationToken)
        where TDetails : class, IAuditDetails
    {
        return await _ledger.AppendAsync(AuditEvent.Create(_clock.GetUtcNow(), actor, subject, details), cancellationToken).ConfigureAwait(false);
    }

    // For entries written on a failure path: the original failure is what the caller must see.
    private async Task TryAppendAsync<TDetails>(string actor, string subject, TDetails details)
        where TDetails : class, IAuditDetails
    {
        try
        {
            await AppendAsync(actor, subject, details, CancellationToken.None).ConfigureAwait(false);
        }
        catch (Exception e) when (e is not OutOfMemoryException)
        {
            // The ledger itself may be what failed; the caller gets the original error either way.
            AirlockLog.FailureEntryNotWritten(_logger, e, AuditEventTypes.Find(typeof(TDetails))?.Name ?? typeof(TDetails).Name, subject);
        }
    }

    private static ImportVerifiedDetails VerifiedDetails(ImportRecord record, string? via) => new()
    {
        Kind = record.Kind,
        Name = record.Name,
        Version = record.Version,
        Label = record.Label,
        Task = record.Task,
        ManifestSha256 = record.ManifestSha256.ToHex(),
        TargetCount = record.Targets.Count,
        SignerKeyIds = record.SignerKeyIds,
        SbomSha256 = record.SbomSha256?.ToHex(),
        ProvenanceSha256 = record.ProvenanceSha256?.ToHex(),
        ArchiveBytes = record.ArchiveBytes,
        TufVersions = record.TufVersions,
        RequiredApprovals = record.RequiredApprovals,
        Targets = record.Targets.Count <= MaxTargetsInLedgerEntry && record.Targets.Sum(t => t.Path.Length) < 16 * 1024
            ? [.. record.Targets.Select(t => new ImportVerifiedTarget { Path = t.Path, Type = t.Type, Sha256 = t.Sha256.ToHex(), Length = t.Length })]
            : null,
        Via = via,
    };

    private static ImportApprovedDetails ApprovedDetails(ImportRecord record, int approvals, string? via) => new()
    {
        ManifestSha256 = record.ManifestSha256.ToHex(),
        Approvals = approvals,
        RequiredApprovals = record.RequiredApprovals,
        Via = via,
    };

    private static ImportActivatedDetails ActivatedDetails(ImportRecord record, string? via) => new()
    {
        Kind = record.Kind,
        Name = record.Name,
        Version = record.Version,
        Label = record.Label,
        Task = record.Task,
        ManifestSha256 = record.ManifestSha256.ToHex(),
        Approvers = record.Approvers,
        Folder = $"{ArtifactsFolderName}/{record.Kind}/{record.Name}/{record.Version}",
        Via = via,
    };

    private static ImportRejectedDetails RejectedDetails(Exception e, BundleSelector? selector, string? via)
    {
        var (stage, reason, detail, findings) = e switch
        {
            ImportRejectedException rejected => (
                Stage(rejected.Reason),
                rejected.Code,
                Short(rejected.Detail),
                rejected.Findings.Count > 0 ? (IReadOnlyList<string>)[.. rejected.Findings.Take(MaxFindingsInLedgerEntry).Select(f => Short(f, 500))] : null),
            OperationCanceledException => ("import", "cancelled", "the import was cancelled", null),
            _ => ("storage", "internal-error", Short($"{e.GetType().Name}: {e.Message}"), null),
        };
        return new ImportRejectedDetails
        {
            Stage = stage,
            Reason = reason,
            Detail = detail,
            Findings = findings,
            Kind = selector?.Kind,
            Name = selector?.Name,
            Version = selector?.Version,
            Via = via,
        };
    }

    private static string Stage(ImportRejection reason) => reason switch
    {
        ImportRejection.Tuf or ImportRejection.NotPinned => "tuf",
        ImportRejection.Bundle => "bundle",
        ImportRejection.ContentScan or ImportRejection.Attestation or ImportRejection.ModelTask or ImportRejection.Intel or ImportRejection.Dataset => "scan",
        _ => "selector",
    };

    private static string Short(string text, int max = 2000) => ArtifactNames.Printable(text, max);

    private static string Describe(BundleSelector selector) =>
        $"{selector.Kind} {ArtifactNames.Printable(selector.Name)} {ArtifactNames.Printable(selector.Version)}";
}
