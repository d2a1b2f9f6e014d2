using System.Globalization;
using System.Text;
using System.Text.Json;
using Enclave.Airlock.Bundles;
using Enclave.Airlock.Tuf;
using Enclave.Core;
using Enclave.Core.Artifacts;
using Enclave.State.Airlock;

namespace Enclave.Airlock.Import;

// Stage 2, verify: after the targets are in quarantine, the scanners, attestations and model task, then the record
// committed.
public sealed partial class AirlockImporter
{
    // After the archive was read: scanners, attestations and the model task, then the record to commit.
    private ImportRecord Verify(string id, string actor, DateTimeOffset received, ImportPlan plan, BundleContents contents, CancellationToken cancellationToken)
    {
        var quarantined = contents.Targets.ToDictionary(t => t.Name["targets/".Length..], t => t.Path, StringComparer.Ordinal);
        var results = _scanners.Scan(contents.Targets.Select(t => t.Path), cancellationToken);
        var findings = results.SelectMany(r => r.Findings).Select(f => Untangle(f, contents)).ToList();
        if (findings.Count > 0)
        {
            throw new ImportRejectedException(
                ImportRejection.ContentScan,
                $"the content scanners refused {Describe(plan.Selector)}: {string.Join("; ", findings.Take(5))}{(findings.Count > 5 ? $" (and {findings.Count - 5} more)" : "")}",
                findings: findings);
        }

        var content = plan.Targets.Where(t => t.Type == "content").Select(t => t.Sha256).ToHashSet();
        foreach (var target in plan.Targets)
        {
            var path = quarantined[target.Target.Path];
            if (target.Type == "sbom")
            {
                AttestationValidator.CheckSbom(path, target.Target.Path, _options.MaxAttestationBytes);
            }
            else if (target.Type == "provenance")
            {
                AttestationValidator.CheckProvenance(path, target.Target.Path, _options.MaxAttestationBytes, content);
            }
        }

        var task = plan.Task;
        if (plan.Selector.Kind == "model" && task is null)
        {
            var model = plan.Targets.FirstOrDefault(t => t.RelativePath == "model.onnx");
            var gguf = model is null ? plan.Targets.FirstOrDefault(t => t.RelativePath.EndsWith(".gguf", StringComparison.OrdinalIgnoreCase)) : null;
            task = model is not null ? OnnxTaskDetector.Detect(quarantined[model.Target.Path], _options.MaxOnnxFields)
                : gguf is not null ? GgufTaskDetector.Detect(quarantined[gguf.Target.Path], _options.Scan)
                : null;
            if (task is null)
            {
                var why = model is not null ? "the outputs of its model.onnx are neither 'logits' (chat) nor 'last_hidden_state' (embedding)"
                    : gguf is not null ? $"the metadata of {gguf.RelativePath} shows neither an embedding pooling type or encoder architecture nor a chat template"
                    : "it has no model.onnx or GGUF file";
                throw new ImportRejectedException(ImportRejection.ModelTask, $"{Describe(plan.Selector)} does not say its task (custom.enclave.task chat or embedding), and {why}");
            }
        }

        var imported = plan.Targets
            .Select(t => new ImportedTarget { Path = t.Target.Path, RelativePath = t.RelativePath, Type = t.Type, Sha256 = t.Sha256, Length = t.Target.Length })
            .ToList();
        var trusted = plan.Updater.Trusted;
        return new ImportRecord
        {
            Id = id,
            Kind = plan.Selector.Kind,
            Name = plan.Selector.Name,
            Version = plan.Selector.Version,
            Label = plan.Label,
            Task = task,
            State = ImportState.Verified,
            Importer = actor,
            Targets = imported,
            SignerKeyIds = plan.SignerKeyIds,
            RoleSigners = plan.RoleSigners,
            SbomSha256 = imported.FirstOrDefault(t => t.Type == "sbom")?.Sha256,
            ProvenanceSha256 = imported.FirstOrDefault(t => t.Type == "provenance")?.Sha256,
            ManifestSha256 = Manifest(imported),
            ArchiveBytes = contents.ArchiveBytes,
            TufVersions = TufVersions(trusted),
            Approvers = [],
            RequiredApprovals = _options.ApprovalsFor(plan.Selector.Kind),
            Reasons = [],
            Received = received,
            Verified = _clock.GetUtcNow(),
        };
    }

    private static string Untangle(string finding, BundleContents contents)
    {
        foreach (var target in contents.Targets)
        {
            finding = finding.Replace(target.Path, target.Name, StringComparison.Ordinal);
        }

        return finding.Replace(contents.QuarantineDirectory, "quarantine", StringComparison.Ordinal);
    }

    private static Sha256Digest Manifest(IEnumerable<ImportedTarget> targets)
    {
        var builder = new StringBuilder();
        foreach (var target in targets.OrderBy(t => t.Path, StringComparer.Ordinal))
        {
            builder.Append(target.Path).Append(' ').Append(target.Sha256.ToHex()).Append(' ')
                .Append(target.Length.ToString(CultureInfo.InvariantCulture)).Append('\n');
        }

        return Sha256Digest.Compute(Encoding.UTF8.GetBytes(builder.ToString()));
    }

    private static Dictionary<string, int> TufVersions(TrustedState state)
    {
        var versions = new Dictionary<string, int>(StringComparer.Ordinal) { ["root"] = state.Root.Version };
        if (state.Timestamp is not null)
        {
            versions["timestamp"] = state.Timestamp.Version;
        }

        if (state.Snapshot is not null)
        {
            versions["snapshot"] = state.Snapshot.Version;
        }

        if (state.Targets is not null)
        {
            versions["targets"] = state.Targets.Version;
        }

        foreach (var (role, metadata) in state.Delegated)
        {
            versions[role] = metadata.Version;
        }

        return versions;
    }

    private static void InsertImport(IAirlockTransaction transaction, ImportRecord record, BundleContents contents)
    {
        var quarantined = contents.Targets.ToDictionary(t => t.Name, t => Path.GetRelativePath(contents.QuarantineDirectory, t.Path), StringComparer.Ordinal);
        transaction.InsertImport(
            new ImportRow
            {
                Id = record.Id,
                Kind = record.Kind,
                Name = record.Name,
                Version = record.Version,
                Label = record.Label,
                Task = record.Task,
                State = "verified",
                Importer = record.Importer,
                SignerKeyIdsJson = JsonSerializer.Serialize(record.SignerKeyIds, ImportJson.Default.IReadOnlyListString),
                RoleSignersJson = record.RoleSigners is null ? null : JsonSerializer.Serialize(record.RoleSigners, ImportJson.Default.IReadOnlyListImportRoleSigners),
                SbomSha256 = record.SbomSha256?.ToHex(),
                ProvenanceSha256 = record.ProvenanceSha256?.ToHex(),
                ManifestSha256 = record.ManifestSha256.ToHex(),
                ArchiveBytes = record.ArchiveBytes,
                TufVersionsJson = JsonSerializer.Serialize(record.TufVersions, ImportJson.Default.IReadOnlyDictionaryStringInt32),
                Quarantine = contents.QuarantineDirectory,
                ReasonsJson = "[]",
                Received = record.Received,
                Verified = record.Verified,
            },
            record.Targets.Select(t => new ImportTargetRow(t.Path, t.Type, t.Sha256.ToHex(), t.Length, quarantined["targets/" + t.Path])));
    }

    /// <summary>
    /// Adds a check every verified import must pass before it is recorded (e.g. digests listed by live threat
    /// intelligence); a refusal rejects the import with reason <c>intel</c>, state unchanged.
    /// </summary>
    public void AddAdmissionCheck(IImportAdmissionCheck check)
    {
        ArgumentNullException.ThrowIfNull(check);
        lock (_admissionChecks)
        {
            _admissionChecks.Add(check);
        }
    }

    private async Task CheckAdmissionAsync(ImportRecord record, BundleContents contents, long receivedIndex, CancellationToken cancellationToken)
    {
        IImportAdmissionCheck[] checks;
        lock (_admissionChecks)
        {
            checks = [.. _admissionChecks];
        }

        if (checks.Length == 0)
        {
            return;
        }

        var candidate = new ImportCandidate
        {
            ImportId = record.Id,
            Kind = record.Kind,
            Name = record.Name,
            Version = record.Version,
            ArtifactDigest = record.ManifestSha256,
            Files = [.. record.Targets.Select(t => new ArtifactFile(t.RelativePath, t.Sha256, t.Length))],
            Label = record.Label,
            OpenFile = relative => OpenQuarantined(record, contents, relative),
            Importer = record.Importer,
            ReceivedIndex = receivedIndex,
        };
        foreach (var check in checks)
        {
            if (await check.CheckAsync(candidate, cancellationToken).ConfigureAwait(false) is { } refusal)
            {
                var reason = refusal.Reason == "dataset" ? ImportRejection.Dataset : ImportRejection.Intel;
                throw new ImportRejectedException(reason, refusal.Detail, findings: refusal.Findings);
            }
        }
    }

    // A verified target's quarantined copy, opened read-only by its path inside the artifact.
    private static FileStream OpenQuarantined(ImportRecord record, BundleContents contents, string relative)
    {
        var target = record.Targets.FirstOrDefault(t => t.RelativePath == relative)
            ?? throw new FileNotFoundException($"{relative} is not a target of {record.Kind} {record.Name} {record.Version}");
        var name = "targets/" + target.Path;
        var file = contents.Targets.FirstOrDefault(t => t.Name == name) ?? throw new FileNotFoundException($"{relative} is not in quarantine");
        return new FileStream(file.Path, FileMode.Open, FileAccess.Read, FileShare.Read);
    }
}
