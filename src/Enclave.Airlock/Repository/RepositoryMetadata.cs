using Enclave.Airlock.Tuf;
using Enclave.Signing.Keys;

namespace Enclave.Airlock.Repository;

/// <summary>
/// A repository's metadata files by TUF file name (<c>3.root.json</c>, <c>root.json</c>, <c>timestamp.json</c>,
/// <c>snapshot.json</c>, <c>targets.json</c>, <c>model.json</c>...), parsed with the verifier's own parser. Signatures
/// are not required to reach their thresholds here (a bundle may still be collecting them); <see cref="Status"/>
/// counts them with the verifier's own counting.
/// </summary>
internal sealed class RepositoryMetadata
{
    /// <summary>The artifact kinds; each is a delegated targets role of the top-level targets.</summary>
    public static readonly IReadOnlyList<string> Kinds = ["model", "update", "intel", "dataset"];

    private static readonly TufUpdaterOptions ParseOptions = TufUpdaterOptions.Default;

    private RepositoryMetadata(Dictionary<string, byte[]> files, List<RootMetadata> roots, TimestampMetadata timestamp, SnapshotMetadata snapshot, TargetsMetadata targets, Dictionary<string, TargetsMetadata> kinds)
    {
        Files = files;
        Roots = roots;
        Timestamp = timestamp;
        Snapshot = snapshot;
        Targets = targets;
        KindRoles = kinds;
    }

    /// <summary>Raw files by name.</summary>
    public Dictionary<string, byte[]> Files { get; }

    /// <summary>Root versions 1..N in order.</summary>
    public IReadOnlyList<RootMetadata> Roots { get; }

    public RootMetadata Root => Roots[^1];

    public TimestampMetadata Timestamp { get; }

    public SnapshotMetadata Snapshot { get; }

    public TargetsMetadata Targets { get; }

    /// <summary>Delegated kind roles present in <see cref="Files"/>.</summary>
    public IReadOnlyDictionary<string, TargetsMetadata> KindRoles { get; }

    public static string KindFile(string kind) => DirectoryMetadataSource.FileName(kind, null);

    /// <summary>Reads a repository's <c>metadata/</c> folder.</summary>
    public static RepositoryMetadata LoadDirectory(string metadataDirectory)
    {
        if (!Directory.Exists(metadataDirectory))
        {
            throw new TrustRepositoryException(TrustRepositoryError.RepositoryInvalid, $"{metadataDirectory} does not exist; create a repository with enclave trust init");
        }

        var files = new Dictionary<string, byte[]>(StringComparer.Ordinal);
        foreach (var path in Directory.EnumerateFiles(metadataDirectory, "*.json"))
        {
            files[Path.GetFileName(path)] = File.ReadAllBytes(path);
        }

        return FromFiles(files, metadataDirectory, requireAllKinds: true);
    }

    /// <summary>Parses a set of metadata files (the repository's, or a bundle's).</summary>
    public static RepositoryMetadata FromFiles(Dictionary<string, byte[]> files, string where, bool requireAllKinds)
    {
        try
        {
            var roots = new List<RootMetadata>();
            for (var version = 1; files.TryGetValue(DirectoryMetadataSource.FileName("root", version), out var bytes); version++)
            {
                if (version > ParseOptions.MaxRootRotations * 32)
                {
                    throw Invalid(where, "has too many root versions");
                }

                var root = TufMetadataParser.ParseRoot(bytes, ParseOptions);
                if (root.Version != version)
                {
                    throw Invalid(where, $"{version}.root.json says version {root.Version}");
                }

                roots.Add(root);
            }

            if (roots.Count == 0)
            {
                throw Invalid(where, "has no 1.root.json");
            }

            if (!files.TryGetValue("root.json", out var newest) || !newest.AsSpan().SequenceEqual(files[$"{roots.Count}.root.json"]))
            {
                throw Invalid(where, $"root.json is missing or differs from {roots.Count}.root.json, the newest root");
            }

            var timestamp = TufMetadataParser.ParseTimestamp(Require(files, "timestamp.json", where), ParseOptions);
            var snapshot = TufMetadataParser.ParseSnapshot(Require(files, "snapshot.json", where), ParseOptions.MaxSnapshotBytes, ParseOptions);
            var targets = TufMetadataParser.ParseTargets(Require(files, "targets.json", where), "targets", ParseOptions.MaxTargetsBytes, ParseOptions);
            var kinds = new Dictionary<string, TargetsMetadata>(StringComparer.Ordinal);
            foreach (var kind in Kinds)
            {
                if (files.TryGetValue(KindFile(kind), out var kindBytes))
                {
                    kinds[kind] = TufMetadataParser.ParseTargets(kindBytes, kind, ParseOptions.MaxTargetsBytes, ParseOptions);
                }
                else if (requireAllKinds)
                {
                    throw Invalid(where, $"has no {KindFile(kind)}");
                }
            }

            return new RepositoryMetadata(files, roots, timestamp, snapshot, targets, kinds);
        }
        catch (AirlockRejectedException e)
        {
            throw new TrustRepositoryException(TrustRepositoryError.RepositoryInvalid, $"metadata in {where} is invalid: {e.Detail}", e);
        }
    }

    /// <summary>The delegation of <paramref name="kind"/> in the top-level targets.</summary>
    public DelegatedRole Delegation(string kind) =>
        Targets.Delegations?.Roles.FirstOrDefault(r => r.Name == kind)
        ?? throw new TrustRepositoryException(TrustRepositoryError.RepositoryInvalid, $"targets.json delegates no role \"{kind}\"");

    /// <summary>Key IDs authorised to sign <paramref name="file"/> (a file name in <see cref="Files"/>).</summary>
    public IReadOnlySet<string> AuthorisedKeyIds(string file)
    {
        var ids = new HashSet<string>(StringComparer.Ordinal);
        foreach (var (_, keys, role, _) in Signers(file))
        {
            ids.UnionWith(role.KeyIds.Where(keys.ContainsKey));
        }

        return ids;
    }

    /// <summary>Signature counts of <paramref name="files"/> (default: every file present).</summary>
    public IReadOnlyList<RoleSignatureStatus> Status(IEnumerable<string>? files = null)
    {
        var result = new List<RoleSignatureStatus>();
        foreach (var file in files ?? SignedFiles())
        {
            foreach (var (metadata, keys, role, signedBy) in Signers(file))
            {
                var count = TufSignatureVerifier.CountValid(metadata, keys, role);
                var valid = new HashSet<string>(StringComparer.Ordinal);
                foreach (var signature in metadata.Signatures)
                {
                    if (keys.TryGetValue(signature.KeyId, out var key) && role.KeyIds.Contains(signature.KeyId) && Verifies(key, metadata, signature))
                    {
                        valid.Add(signature.KeyId);
                    }
                }

                result.Add(new RoleSignatureStatus
                {
                    File = file,
                    SignedBy = signedBy,
                    Version = metadata.Version,
                    Valid = count.Valid,
                    Threshold = count.Threshold,
                    MissingKeyIds = role.KeyIds.Where(id => !valid.Contains(id)).ToList(),
                });
            }
        }

        return result;
    }

    /// <summary>The signed files in bundle order: root chain, timestamp, snapshot, targets, kind roles.</summary>
    public IEnumerable<string> SignedFiles()
    {
        for (var v = 1; v <= Roots.Count; v++)
        {
            yield return $"{v}.root.json";
        }

        yield return "timestamp.json";
        yield return "snapshot.json";
        yield return "targets.json";
        foreach (var kind in Kinds.Where(KindRoles.ContainsKey))
        {
            yield return KindFile(kind);
        }
    }

    /// <summary>The parsed form of a file name.</summary>
    public TufMetadata Parsed(string file) => file switch
    {
        "timestamp.json" => Timestamp,
        "snapshot.json" => Snapshot,
        "targets.json" => Targets,
        "root.json" => Root,
        _ when file.EndsWith(".root.json", StringComparison.Ordinal) => Roots[int.Parse(file.AsSpan(0, file.IndexOf('.', StringComparison.Ordinal)), System.Globalization.CultureInfo.InvariantCulture) - 1],
        _ => KindRoles.Values.FirstOrDefault(k => KindFile(k.RoleName) == file)
            ?? throw new ArgumentException($"{file} is not a metadata file of this repository", nameof(file)),
    };

    /// <summary>Who must sign <paramref name="file"/>: one entry, or two for a rotated root (old and new root keys).</summary>
    private IEnumerable<(TufMetadata Metadata, IReadOnlyDictionary<string, TufKey> Keys, TufRole Role, string SignedBy)> Signers(string file)
    {
        var metadata = Parsed(file);
        switch (metadata)
        {
            case RootMetadata root:
                if (root.Version > 1)
                {
                    var previous = Roots[root.Version - 2];
                    yield return (root, previous.Keys, previous.Roles["root"], $"root v{previous.Version}");
                }

                yield return (root, root.Keys, root.Roles["root"], $"root v{root.Version}");
                break;
            case TimestampMetadata or SnapshotMetadata:
                yield return (metadata, Root.Keys, Root.Roles[metadata.Type], metadata.Type);
                break;
            case TargetsMetadata when metadata.RoleName == "targets":
                yield return (metadata, Root.Keys, Root.Roles["targets"], "targets");
                break;
            default:
                var delegation = Delegation(metadata.RoleName);
                yield return (metadata, Targets.Delegations!.Keys, delegation.Role, metadata.RoleName);
                break;
        }
    }

    private static bool Verifies(TufKey key, TufMetadata metadata, TufSignature signature)
    {
        try
        {
            return key.Verify(metadata.CanonicalSigned, Convert.FromHexString(signature.SignatureHex));
        }
        catch (FormatException)
        {
            return false;
        }
    }

    private static byte[] Require(Dictionary<string, byte[]> files, string name, string where) =>
        files.TryGetValue(name, out var bytes) ? bytes : throw Invalid(where, $"has no {name}");

    private static TrustRepositoryException Invalid(string where, string what) =>
        new(TrustRepositoryError.RepositoryInvalid, $"metadata in {where} {what}");
}
