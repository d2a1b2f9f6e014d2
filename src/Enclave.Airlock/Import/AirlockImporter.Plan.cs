using System.Globalization;
using System.Text;
using System.Text.Json;
using Enclave.Airlock.Bundles;
using Enclave.Airlock.Tuf;
using Enclave.Core;

namespace Enclave.Airlock.Import;

// Stage 1, plan: the TUF workflow over the bundle's metadata and the selector's targets, run inside the bundle reader
// once all metadata is in memory; what the reader then streams into quarantine.
public sealed partial class AirlockImporter
{
    // The bundle's root of the trusted root's version, when it is not the trusted root: the bundle was signed under
    // another root (another repository, or a root re-made instead of rotated). Null when the bundle carries no root of
    // that version or carries the trusted one (then the failure is about the roles, and is reported as it is).
    private string? ForeignRoot(Dictionary<string, byte[]> files, TrustedState trusted)
    {
        var version = trusted.Root.Version;
        if (!files.TryGetValue(version.ToString(CultureInfo.InvariantCulture) + ".root.json", out var bundleRoot))
        {
            return null;
        }

        var trustedDigest = Sha256Digest.Compute(trusted.Root.Bytes.Span);
        var bundleDigest = Sha256Digest.Compute(bundleRoot);
        if (bundleDigest == trustedDigest)
        {
            return null;
        }

        var pin = _store.CurrentPin();
        var pinned = pin is null ? string.Empty : $"; pinned root: sha256 {pin.RootSha256}, version {pin.RootVersion}";
        return $"signed by a root this enclave does not trust: the bundle's root version {version} is sha256 {bundleDigest.ToHex()}, " +
            $"but this enclave trusts root version {version} sha256 {trustedDigest.ToHex()}{pinned}; " +
            "bring a bundle from the repository whose root is pinned, or pin this bundle's root on purpose (enclave airlock trust ROOT.json --force)";
    }

    // Runs inside the bundle reader once all metadata is in memory: the TUF workflow, then the selector's targets.
    private ImportPlan Plan(IReadOnlyDictionary<string, ReadOnlyMemory<byte>> metadata, TrustedState trusted, Func<string, string?>? labelProblem)
    {
        var selector = BundleSelector.Parse(metadata);
        var files = new Dictionary<string, byte[]>(StringComparer.Ordinal);
        foreach (var (name, bytes) in metadata)
        {
            if (!name.StartsWith("metadata/", StringComparison.Ordinal) || name == BundleSelector.EntryName)
            {
                continue;
            }

            var file = name["metadata/".Length..];
            if (!file.Contains('/', StringComparison.Ordinal))
            {
                files[file] = bytes.ToArray();
            }
        }

        var updater = new Updater(trusted, new InMemoryMetadataSource(files), _clock, _options.Tuf);
        try
        {
            updater.Refresh();
        }
        catch (AirlockRejectedException e) when (e.Reason is AirlockRejection.BelowThreshold or AirlockRejection.BadSignature or AirlockRejection.BadRootRotation
            && ForeignRoot(files, trusted) is { } foreign)
        {
            // Not an attack on one role's signatures: the whole bundle comes from a root this enclave never trusted.
            throw new AirlockRejectedException(AirlockRejection.UntrustedRoot, foreign, e);
        }

        var prefix = selector.Prefix;

        // Loads the roles delegated for the artifact's paths, then lists what any trusted role says is under it;
        // each candidate is then resolved by the normal TUF lookup, which decides which role is authoritative.
        updater.FindTarget(prefix + "bundle.json");
        var state = updater.Trusted;
        var candidates = new SortedSet<string>(StringComparer.Ordinal);
        foreach (var role in state.Delegated.Values.Prepend(state.Targets!))
        {
            foreach (var path in role.Targets.Keys)
            {
                if (path.StartsWith(prefix, StringComparison.Ordinal))
                {
                    candidates.Add(path);
                }
            }
        }

        if (candidates.Count == 0)
        {
            throw new ImportRejectedException(ImportRejection.Selector, $"{BundleSelector.EntryName} selects {Describe(selector)}, but no verified targets metadata lists a target under {ArtifactNames.Printable(prefix)}");
        }

        if (candidates.Count > _options.Bundle.MaxEntries)
        {
            throw new ImportRejectedException(ImportRejection.Selector, $"the artifact has {candidates.Count} targets; the limit is {_options.Bundle.MaxEntries}");
        }

        var targets = new List<PlannedTarget>();
        var problems = new List<string>();
        var labels = new SortedSet<string>(StringComparer.Ordinal);
        var tasks = new SortedSet<string>(StringComparer.Ordinal);
        foreach (var path in candidates)
        {
            var target = updater.RequireTarget(path);
            var relative = path[prefix.Length..];
            if (target.Sha256 is not { } sha256)
            {
                problems.Add($"{ArtifactNames.Printable(path)} lists no SHA-256 hash");
                continue;
            }

            if (ArtifactNames.FileProblem(relative) is { } fileProblem)
            {
                problems.Add($"{ArtifactNames.Printable(path)}: {fileProblem}");
                continue;
            }

            var custom = ReadCustom(target, selector, problems);
            if (custom is null)
            {
                continue;
            }

            var isAttestationPath = relative.StartsWith(AttestationsFolder, StringComparison.Ordinal);
            var expectedType = relative switch
            {
                ".attestations/sbom.cdx.json" or ".attestations/sbom.spdx.json" => "sbom",
                ".attestations/provenance.intoto.json" => "provenance",
                _ => isAttestationPath ? null : "content",
            };
            if (custom.Value.Type != expectedType)
            {
                problems.Add($"{ArtifactNames.Printable(path)} has type \"{ArtifactNames.Printable(custom.Value.Type)}\" but its path makes it {(expectedType is null ? "an unknown attestation" : $"type \"{expectedType}\"")}");
                continue;
            }

            labels.Add(custom.Value.Label);
            if (custom.Value.Task is { } task)
            {
                tasks.Add(task);
            }

            targets.Add(new PlannedTarget(target, relative, custom.Value.Type, sha256));
        }

        if (problems.Count > 0)
        {
            throw new ImportRejectedException(ImportRejection.ArtifactMismatch, $"the verified targets of {Describe(selector)} do not describe it consistently: {string.Join("; ", problems.Take(10))}");
        }

        if (labels.Count != 1)
        {
            throw new ImportRejectedException(ImportRejection.LabelMismatch, $"the targets of {Describe(selector)} carry {labels.Count} different labels ({string.Join(", ", labels.Select(l => $"\"{ArtifactNames.Printable(l)}\""))}); all files of an artifact must carry the same label");
        }

        if (labelProblem?.Invoke(labels.Single()) is { } problem)
        {
            throw new ImportRejectedException(ImportRejection.Label, $"label '{ArtifactNames.Printable(labels.Single())}' of {Describe(selector)} is not a valid marking in this enclave's label scheme: {problem}");
        }

        if (tasks.Count > 1)
        {
            throw new ImportRejectedException(ImportRejection.ArtifactMismatch, $"the targets of {Describe(selector)} name different tasks ({string.Join(", ", tasks)})");
        }

        if (!targets.Any(t => t.Type == "content"))
        {
            throw new ImportRejectedException(ImportRejection.Selector, $"{Describe(selector)} has attestations but no content files");
        }

        if (_options.RequireSbom && !targets.Any(t => t.Type == "sbom"))
        {
            throw new ImportRejectedException(ImportRejection.Attestation, $"{Describe(selector)} carries no SBOM, and this enclave requires one");
        }

        if (_options.RequireProvenance && !targets.Any(t => t.Type == "provenance"))
        {
            throw new ImportRejectedException(ImportRejection.Attestation, $"{Describe(selector)} carries no provenance attestation, and this enclave requires one");
        }

        if (_store.FindLiveImport(selector.Kind, selector.Name, selector.Version) is var (liveId, liveState))
        {
            throw new ImportRejectedException(ImportRejection.AlreadyImported, $"{Describe(selector)} was already imported as {liveId} (state {liveState}); versions are immutable, so publish a new version (or reject the pending import first)");
        }

        var expected = targets.ToDictionary(
            t => "targets/" + t.Target.Path,
            t => new ExpectedEntry { Length = t.Target.Length, Sha256 = t.Sha256 },
            StringComparer.Ordinal);
        var roleSigners = RoleSigners(updater.Trusted, targets.Select(t => t.Target));
        var listing = targets.Select(t => t.Target.Role).ToHashSet(StringComparer.Ordinal);
        var signers = roleSigners.Where(r => listing.Contains(r.Role)).SelectMany(r => r.KeyIds).Distinct(StringComparer.Ordinal).Order(StringComparer.Ordinal).ToList();
        return new ImportPlan(selector, updater, targets, labels.Single(), tasks.SingleOrDefault(), signers, roleSigners, expected);
    }

    private static (string Type, string Label, string? Task)? ReadCustom(TargetFile target, BundleSelector selector, List<string> problems)
    {
        var where = ArtifactNames.Printable(target.Path);
        if (target.CustomJson is null)
        {
            problems.Add($"{where} has no custom.enclave object");
            return null;
        }

        using var document = CanonicalJson.Parse(Encoding.UTF8.GetBytes(target.CustomJson));
        if (document.RootElement.ValueKind != JsonValueKind.Object
            || !document.RootElement.TryGetProperty("enclave", out var enclave) || enclave.ValueKind != JsonValueKind.Object)
        {
            problems.Add($"{where} has no custom.enclave object");
            return null;
        }

        string? Field(string name) => enclave.TryGetProperty(name, out var v) && v.ValueKind == JsonValueKind.String ? v.GetString() : null;
        var before = problems.Count;
        foreach (var (field, wanted) in new[] { ("kind", selector.Kind), ("name", selector.Name), ("version", selector.Version) })
        {
            var actual = Field(field);
            if (actual != wanted)
            {
                problems.Add($"{where} says {field} {(actual is null ? "nothing" : $"\"{ArtifactNames.Printable(actual)}\"")}, not \"{ArtifactNames.Printable(wanted)}\"");
            }
        }

        var label = Field("label");
        if (ArtifactNames.LabelProblem(label) is { } labelProblem)
        {
            problems.Add($"{where}: {labelProblem}");
        }

        var type = Field("type");
        if (type is not ("content" or "sbom" or "provenance"))
        {
            problems.Add($"{where} has type {(type is null ? "missing" : $"\"{ArtifactNames.Printable(type)}\"")}; it must be content, sbom or provenance");
        }

        var task = Field("task");
        if (enclave.TryGetProperty("task", out _) && (selector.Kind != "model" || task is not ("chat" or "embedding")))
        {
            problems.Add($"{where} has task {(task is null ? "that is not a string" : $"\"{ArtifactNames.Printable(task)}\"")}; only models have a task, chat or embedding");
        }

        return problems.Count == before ? (type!, label!, task) : null;
    }

    // Every role that took part in verifying the targets, with the keys the verifier counted when it trusted each: the
    // root in force, timestamp, snapshot, top-level targets, then each delegated role on the path to a target (in the
    // order lookup met them). The signers come from the metadata as the updater trusted it, never re-derived here.
    private static IReadOnlyList<ImportRoleSigners> RoleSigners(TrustedState state, IEnumerable<TargetFile> targets)
    {
        var roles = new List<ImportRoleSigners>
        {
            Signed("root", state.Root),
            Signed("timestamp", state.Timestamp),
            Signed("snapshot", state.Snapshot),
            Signed("targets", state.Targets),
        };
        var delegated = new List<string>();
        foreach (var target in targets)
        {
            foreach (var role in target.DelegationChain.Skip(1))
            {
                if (!delegated.Contains(role, StringComparer.Ordinal))
                {
                    delegated.Add(role);
                }
            }
        }

        roles.AddRange(delegated.Select(role => Signed(role, state.Delegated.GetValueOrDefault(role))));
        return roles;

        static ImportRoleSigners Signed(string role, TufMetadata? metadata) =>
            metadata?.VerifiedSigners is { } signers
                ? new ImportRoleSigners { Role = role, Version = metadata.Version, Threshold = signers.Threshold, KeyIds = signers.KeyIds }
                : throw new InvalidOperationException($"the updater trusted no verified {role} metadata for the bundle's targets");
    }

    private sealed record PlannedTarget(TargetFile Target, string RelativePath, string Type, Sha256Digest Sha256);

    private sealed record ImportPlan(
        BundleSelector Selector,
        Updater Updater,
        IReadOnlyList<PlannedTarget> Targets,
        string Label,
        string? Task,
        IReadOnlyList<string> SignerKeyIds,
        IReadOnlyList<ImportRoleSigners> RoleSigners,
        IReadOnlyDictionary<string, ExpectedEntry> Expected);
}
