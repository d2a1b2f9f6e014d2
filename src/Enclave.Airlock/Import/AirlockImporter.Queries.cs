using System.Text.Json;
using Enclave.Core;

namespace Enclave.Airlock.Import;

// Queries: imports, activated artifacts and models, read back from the airlock store.
public sealed partial class AirlockImporter
{
    /// <summary>One import by ID, or null.</summary>
    public ImportRecord? Get(string id)
    {
        ArgumentNullException.ThrowIfNull(id);
        return Query(id: id).SingleOrDefault();
    }

    /// <summary>Imports that passed verification, newest first; <paramref name="state"/> filters.</summary>
    public IReadOnlyList<ImportRecord> List(ImportState? state = null) => state switch
    {
        null => Query(),
        { } s => Query(state: StateText(s)),
    };

    /// <summary>Activated artifacts (optionally of one kind): the only artifacts the rest of the enclave may see.</summary>
    public IReadOnlyList<ActivatedArtifact> ListActivated(string? kind = null) =>
        Query(state: "activated", kind: kind)
        .Select(r => new ActivatedArtifact
        {
            Kind = r.Kind,
            Name = r.Name,
            Version = r.Version,
            Label = r.Label,
            Task = r.Task,
            ImportId = r.Id,
            Folder = r.Folder!,
            ManifestSha256 = r.ManifestSha256,
            Files = r.Targets,
            SignerKeyIds = r.SignerKeyIds,
            SbomSha256 = r.SbomSha256,
            ProvenanceSha256 = r.ProvenanceSha256,
            Activated = r.Decided!.Value,
        })
        .ToList();

    /// <summary>Activated models, as the server loads them: name, version, label, task and folder.</summary>
    public IReadOnlyList<ActivatedModel> ActivatedModels() =>
        ListActivated("model")
            .Where(a => a.Task is not null)
            .Select(a => new ActivatedModel { Name = a.Name, Version = a.Version, Label = a.Label, Task = a.Task!, Folder = a.Folder, ManifestSha256 = a.ManifestSha256, ImportId = a.ImportId })
            .OrderBy(m => m.Name, StringComparer.Ordinal)
            .ThenBy(m => m.Version, StringComparer.Ordinal)
            .ToList();

    private List<ImportRecord> Query(string? id = null, string? state = null, string? kind = null)
    {
        var records = new List<ImportRecord>();
        foreach (var row in _store.Imports(id, state, kind))
        {
            var prefix = $"{row.Kind}/{row.Name}/{row.Version}/";
            records.Add(new ImportRecord
            {
                Id = row.Id,
                Kind = row.Kind,
                Name = row.Name,
                Version = row.Version,
                Label = row.Label,
                Task = row.Task,
                State = row.State switch
                {
                    "verified" => ImportState.Verified,
                    "rejected" => ImportState.Rejected,
                    _ => ImportState.Activated,
                },
                Importer = row.Importer,
                SignerKeyIds = JsonSerializer.Deserialize(row.SignerKeyIdsJson, ImportJson.Default.IReadOnlyListString) ?? [],
                RoleSigners = row.RoleSignersJson is null ? null : JsonSerializer.Deserialize(row.RoleSignersJson, ImportJson.Default.IReadOnlyListImportRoleSigners) ?? [],
                SbomSha256 = row.SbomSha256 is null ? null : Digest(row.SbomSha256),
                ProvenanceSha256 = row.ProvenanceSha256 is null ? null : Digest(row.ProvenanceSha256),
                ManifestSha256 = Digest(row.ManifestSha256),
                ArchiveBytes = row.ArchiveBytes,
                TufVersions = JsonSerializer.Deserialize(row.TufVersionsJson, ImportJson.Default.IReadOnlyDictionaryStringInt32) ?? new Dictionary<string, int>(),
                Reasons = JsonSerializer.Deserialize(row.ReasonsJson, ImportJson.Default.IReadOnlyListString) ?? [],
                Received = row.Received,
                Verified = row.Verified,
                Decided = row.Decided,
                DecidedBy = row.DecidedBy,
                Folder = row.Folder,
                RequiredApprovals = _options.ApprovalsFor(row.Kind),
                Targets = [.. _store.Targets(row.Id).Select(t => new ImportedTarget { Path = t.Path, RelativePath = t.Path[prefix.Length..], Type = t.Type, Sha256 = Digest(t.Sha256), Length = t.Length })],
                Approvers = _store.Approvers(row.Id),
            });
        }

        return records;
    }

    private string? QuarantineOf(string id) => _store.Quarantine(id);

    /// <summary>
    /// The file of an import's SBOM attestation: in quarantine while it awaits approval, in its folder once activated;
    /// null when it carries none, was rejected, or its quarantine is gone. Read-only use (findings shown to approvers).
    /// </summary>
    public string? SbomFile(string id)
    {
        ArgumentException.ThrowIfNullOrEmpty(id);
        return Get(id) is { } record && record.Targets.FirstOrDefault(t => t.Type == "sbom") is { } sbom ? TargetFile(record, sbom) : null;
    }

    /// <summary>
    /// The file of one of an import's targets, as <see cref="SbomFile"/> finds the SBOM's: in quarantine while it awaits
    /// approval, in its folder once activated; null when it was rejected or the file is gone. Read-only use (the console's
    /// import page shows the provenance and which scanners examined each file).
    /// </summary>
    public string? TargetFile(ImportRecord record, ImportedTarget target)
    {
        ArgumentNullException.ThrowIfNull(record);
        ArgumentNullException.ThrowIfNull(target);
        string? path = record.State switch
        {
            ImportState.Activated when record.Folder is not null => Path.Combine(record.Folder, target.RelativePath.Replace('/', Path.DirectorySeparatorChar)),
            ImportState.Verified when QuarantineOf(record.Id) is { } quarantine => QuarantinedFiles(record.Id, quarantine).GetValueOrDefault(target.Path),
            _ => null,
        };
        return path is not null && File.Exists(path) ? path : null;
    }

    /// <summary>The largest SBOM or provenance attestation an import may carry (<see cref="AirlockImportOptions.MaxAttestationBytes"/>).</summary>
    public long MaxAttestationBytes => _options.MaxAttestationBytes;

    /// <summary>The names of the content scanners that apply to <paramref name="path"/> (by its name or leading bytes).</summary>
    public IReadOnlyList<string> ScannersFor(string path) => _scanners.ScannersFor(path);

    private Dictionary<string, string> QuarantinedFiles(string id, string quarantine)
    {
        var root = Path.GetFullPath(quarantine) + Path.DirectorySeparatorChar;
        var files = new Dictionary<string, string>(StringComparer.Ordinal);
        foreach (var target in _store.Targets(id))
        {
            var full = Path.GetFullPath(Path.Combine(root, target.Quarantined));
            if (full.StartsWith(root, StringComparison.Ordinal))
            {
                files[target.Path] = full;
            }
        }

        return files;
    }

    private static Sha256Digest Digest(string hex) =>
        Sha256Digest.TryParseHex(hex, out var digest) ? digest : throw new InvalidDataException($"the airlock tables hold a malformed digest '{hex}'");

    private static string StateText(ImportState state) => state.ToString().ToLowerInvariant();
}
