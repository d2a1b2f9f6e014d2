using System.Text.Json.Nodes;
using Enclave.Core.Audit;

namespace Enclave.Airlock.Import;

// Ledger entries: every stage's audit event and its details.
public sealed partial class AirlockImporter
{
    private async Task<long> AppendAsync(AuditEventType type, string actor, string subject, JsonObject details, CancellationToken cancellationToken)
    {
        return await _ledger.AppendAsync(AuditEvent.Create(type, _clock.GetUtcNow(), actor, subject, details), cancellationToken).ConfigureAwait(false);
    }

    // For entries written on a failure path: the original failure is what the caller must see.
    private async Task TryAppendAsync(AuditEventType type, string actor, string subject, JsonObject details)
    {
        try
        {
            await AppendAsync(type, actor, subject, details, CancellationToken.None).ConfigureAwait(false);
        }
        catch (Exception e) when (e is not OutOfMemoryException)
        {
            // The ledger itself may be what failed; the caller gets the original error either way.
            AirlockLog.FailureEntryNotWritten(_logger, e, type.Name, subject);
        }
    }

    private static JsonObject VerifiedDetails(ImportRecord record)
    {
        var details = new JsonObject
        {
            ["kind"] = record.Kind,
            ["name"] = record.Name,
            ["version"] = record.Version,
            ["label"] = record.Label,
            ["task"] = record.Task,
            ["manifest_sha256"] = record.ManifestSha256.ToHex(),
            ["target_count"] = record.Targets.Count,
            ["signer_key_ids"] = new JsonArray([.. record.SignerKeyIds.Select(k => (JsonNode?)k)]),
            ["sbom_sha256"] = record.SbomSha256?.ToHex(),
            ["provenance_sha256"] = record.ProvenanceSha256?.ToHex(),
            ["archive_bytes"] = record.ArchiveBytes,
            ["tuf_versions"] = new JsonObject([.. record.TufVersions.OrderBy(v => v.Key, StringComparer.Ordinal).Select(v => KeyValuePair.Create(v.Key, (JsonNode?)v.Value))]),
            ["required_approvals"] = record.RequiredApprovals,
        };
        if (record.Targets.Count <= MaxTargetsInLedgerEntry && record.Targets.Sum(t => t.Path.Length) < 16 * 1024)
        {
            details["targets"] = new JsonArray([.. record.Targets.Select(t => (JsonNode?)new JsonObject
            {
                ["path"] = t.Path,
                ["type"] = t.Type,
                ["sha256"] = t.Sha256.ToHex(),
                ["length"] = t.Length,
            })]);
        }

        return details;
    }

    private static JsonObject ApprovedDetails(ImportRecord record, int approvals, string? via)
    {
        var details = new JsonObject
        {
            ["manifest_sha256"] = record.ManifestSha256.ToHex(),
            ["approvals"] = approvals,
            ["required_approvals"] = record.RequiredApprovals,
        };
        if (via is not null)
        {
            details["via"] = via;
        }

        return details;
    }

    private static JsonObject Via(JsonObject details, string? via)
    {
        if (via is not null)
        {
            details["via"] = via;
        }

        return details;
    }

    private static JsonObject ActivatedDetails(ImportRecord record) => new()
    {
        ["kind"] = record.Kind,
        ["name"] = record.Name,
        ["version"] = record.Version,
        ["label"] = record.Label,
        ["task"] = record.Task,
        ["manifest_sha256"] = record.ManifestSha256.ToHex(),
        ["approvers"] = new JsonArray([.. record.Approvers.Select(a => (JsonNode?)a)]),
        ["folder"] = $"{ArtifactsFolderName}/{record.Kind}/{record.Name}/{record.Version}",
    };

    private static JsonObject RejectedDetails(Exception e, BundleSelector? selector)
    {
        var details = new JsonObject();
        switch (e)
        {
            case ImportRejectedException rejected:
                details["stage"] = Stage(rejected.Reason);
                details["reason"] = rejected.Code;
                details["detail"] = Short(rejected.Detail);
                if (rejected.Findings.Count > 0)
                {
                    details["findings"] = new JsonArray([.. rejected.Findings.Take(MaxFindingsInLedgerEntry).Select(f => (JsonNode?)Short(f, 500))]);
                }

                break;
            case OperationCanceledException:
                details["stage"] = "import";
                details["reason"] = "cancelled";
                details["detail"] = "the import was cancelled";
                break;
            default:
                details["stage"] = "storage";
                details["reason"] = "internal-error";
                details["detail"] = Short($"{e.GetType().Name}: {e.Message}");
                break;
        }

        if (selector is not null)
        {
            details["kind"] = selector.Kind;
            details["name"] = selector.Name;
            details["version"] = selector.Version;
        }

        return details;
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
