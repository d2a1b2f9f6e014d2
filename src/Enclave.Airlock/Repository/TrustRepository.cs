using Enclave.Airlock.Tuf;
using Enclave.Core;
using Enclave.Signing.Keys;

namespace Enclave.Airlock.Repository;

/// <summary>
/// A TUF repository on the connected side of the airlock: <c>keys/</c> (encrypted private keys and their public
/// TUF key JSON) and <c>metadata/</c> (the root chain <c>N.root.json</c>, <c>root.json</c>, <c>timestamp.json</c>,
/// <c>snapshot.json</c>, <c>targets.json</c> and one delegated targets role per artifact kind). Metadata is built
/// and signed with the verifier's own canonical JSON and key IDs, and every bundle written is checked with the
/// verifier (<see cref="Updater"/>) before it is reported as complete.
/// </summary>
public sealed class TrustRepository
{
    /// <summary>Default lifetime of root, targets and the kind roles at creation, and of a rotated root.</summary>
    public static readonly TimeSpan DefaultRootLifetime = TimeSpan.FromDays(365);

    private const int MaxKeys = 32;
    private const string PostQuantumKeySuffix = "ml-dsa-65";
    private static readonly TimeSpan MaxLifetime = TimeSpan.FromDays(366 * 10);

    private TrustRepository(string directory) => Directory = directory;

    /// <summary>The artifact kinds: model, update, intel, dataset.</summary>
    public static IReadOnlyList<string> Kinds => RepositoryMetadata.Kinds;

    /// <summary>The repository folder (full path).</summary>
    public string Directory { get; }

    /// <summary><c>DIR/metadata</c>.</summary>
    public string MetadataDirectory => Path.Combine(Directory, "metadata");

    /// <summary><c>DIR/keys</c>.</summary>
    public string KeysDirectory => Path.Combine(Directory, "keys");

    /// <summary>Opens an existing repository; its metadata must parse.</summary>
    public static TrustRepository Open(string directory)
    {
        ArgumentException.ThrowIfNullOrEmpty(directory);
        var repository = new TrustRepository(Path.GetFullPath(directory));
        if (!System.IO.Directory.Exists(repository.Directory))
        {
            throw new TrustRepositoryException(TrustRepositoryError.RepositoryInvalid, $"repository {repository.Directory} does not exist; create one with enclave trust init");
        }

        RepositoryMetadata.LoadDirectory(repository.MetadataDirectory);
        return repository;
    }

    /// <summary>
    /// Creates a repository: <paramref name="options"/>.RootKeys root keys (threshold RootThreshold), one key each
    /// for targets, snapshot and timestamp, KindKeys keys for each kind role, all encrypted under
    /// <paramref name="passphrase"/>; and version 1 of every metadata file. Built in a temporary folder and moved
    /// into place, so a failure leaves nothing behind.
    /// </summary>
    public static TrustInitResult Initialize(TrustInitOptions options, Passphrase passphrase, TimeProvider time)
    {
        ArgumentNullException.ThrowIfNull(options);
        ArgumentNullException.ThrowIfNull(passphrase);
        ArgumentNullException.ThrowIfNull(time);
        CheckThreshold("root", options.RootKeys, options.RootThreshold);
        CheckThreshold("kind role", options.KindKeys, options.KindThreshold);
        KeyFile.CheckNewPassphrase(passphrase);
        var now = time.GetUtcNow();
        var expires = CheckExpiry(options.Expires ?? now + DefaultRootLifetime, now, "--expires");

        var target = Path.GetFullPath(options.Directory);
        if (File.Exists(target) || (System.IO.Directory.Exists(target) && System.IO.Directory.EnumerateFileSystemEntries(target).Any()))
        {
            throw new TrustRepositoryException(TrustRepositoryError.OutputExists, $"{target} already exists and is not empty; choose a new folder for the repository");
        }

        var parent = Path.GetDirectoryName(target)!;
        System.IO.Directory.CreateDirectory(parent);
        var staging = Path.Combine(parent, $".{Path.GetFileName(target)}.{Guid.NewGuid():N}.partial");
        var keys = new List<(string Role, string Name, RepositoryKey Key)>();
        try
        {
            if (OperatingSystem.IsWindows())
            {
                System.IO.Directory.CreateDirectory(Path.Combine(staging, "keys"));
            }
            else
            {
                System.IO.Directory.CreateDirectory(Path.Combine(staging, "keys"), UnixFileMode.UserRead | UnixFileMode.UserWrite | UnixFileMode.UserExecute);
            }

            System.IO.Directory.CreateDirectory(Path.Combine(staging, "metadata"));
            for (var i = 1; i <= options.RootKeys; i++)
            {
                keys.Add(("root", $"root-{i}", RepositoryKey.Generate(options.KeyType)));
            }

            foreach (var role in new[] { "targets", "snapshot", "timestamp" })
            {
                keys.Add((role, role, RepositoryKey.Generate(options.KeyType)));
            }

            foreach (var kind in Kinds)
            {
                for (var i = 1; i <= options.KindKeys; i++)
                {
                    keys.Add((kind, options.KindKeys == 1 ? kind : $"{kind}-{i}", RepositoryKey.Generate(options.KeyType)));
                }
            }

            if (options.PostQuantum)
            {
                foreach (var role in new[] { "root", "targets", "snapshot", "timestamp" }.Concat(Kinds))
                {
                    keys.Add((role, $"{role}-{PostQuantumKeySuffix}", RepositoryKey.Generate(SigningKeyType.MlDsa65)));
                }
            }

            var infos = new List<RepositoryKeyInfo>();
            foreach (var (role, name, key) in keys)
            {
                var path = Path.Combine(staging, "keys", name + KeyFile.PrivateExtension);
                KeyFile.Write(path, key, passphrase);
                var final = Path.Combine(target, "keys", name + KeyFile.PrivateExtension);
                infos.Add(new RepositoryKeyInfo { Role = role, KeyId = key.KeyId, Type = key.Type, PrivateKeyPath = final, PublicKeyPath = KeyFile.PublicPath(final) });
            }

            IReadOnlyList<RepositoryKey> Of(string role) => keys.Where(k => k.Role == role).Select(k => k.Key).ToList();
            var files = InitialMetadata(options, Of, expires);
            foreach (var (name, bytes) in files)
            {
                AtomicFile.WriteNew(Path.Combine(staging, "metadata", name), bytes, privateFile: false);
            }

            // The repository must verify with the enclave's own client before anyone pins its root.
            VerifyRepository(new Dictionary<string, byte[]>(files, StringComparer.Ordinal), time, targetPaths: []);

            if (System.IO.Directory.Exists(target))
            {
                System.IO.Directory.Delete(target);
            }

            System.IO.Directory.Move(staging, target);
            var rootPath = Path.Combine(target, "metadata", "1.root.json");
            return new TrustInitResult
            {
                Directory = target,
                RootPath = rootPath,
                RootSha256 = Sha256Digest.Compute(files["1.root.json"]).ToHex(),
                RootExpires = expires,
                Keys = infos,
            };
        }
        finally
        {
            foreach (var (_, _, key) in keys)
            {
                key.Dispose();
            }

            if (System.IO.Directory.Exists(staging))
            {
                System.IO.Directory.Delete(staging, recursive: true);
            }
        }
    }

    /// <summary>
    /// Makes root version N+1 with fresh root keys (other roles keep their keys), signed by a threshold of the old
    /// root keys and by the new root keys (TUF §5.3.4), writes <c>N+1.root.json</c> and <c>root.json</c> (earlier
    /// versions stay: bundles carry the whole chain), and moves the old root keys to <c>keys/retired/</c>.
    /// Refused, with nothing changed, when the available old root keys do not reach the old threshold.
    /// </summary>
    public RootRotationResult RotateRoot(RootRotationOptions options, Passphrase passphrase, TimeProvider time)
    {
        ArgumentNullException.ThrowIfNull(options);
        ArgumentNullException.ThrowIfNull(passphrase);
        ArgumentNullException.ThrowIfNull(time);
        using var repositoryLock = Lock();
        var state = RepositoryMetadata.LoadDirectory(MetadataDirectory);
        var oldRoot = state.Root;
        var oldRole = oldRoot.Roles["root"];
        var count = options.RootKeys ?? oldRole.KeyIds.Count(id => !(oldRoot.Keys.TryGetValue(id, out var k) && k.IsPostQuantum));
        var threshold = options.RootThreshold ?? Math.Min(oldRole.Threshold, count);
        CheckThreshold("root", count, threshold);
        KeyFile.CheckNewPassphrase(passphrase);
        var now = time.GetUtcNow();
        var expires = CheckExpiry(options.Expires ?? now + DefaultRootLifetime, now, "--expires");

        using var ring = options.KeyFiles is null ? KeyRing.FromDirectory(KeysDirectory, passphrase) : KeyRing.FromFiles(options.KeyFiles, passphrase);
        var oldIds = oldRole.KeyIds.ToHashSet(StringComparer.Ordinal);
        ring.RequireAllUseful(oldIds, $"root version {oldRoot.Version}");
        var oldSigners = ring.Signers(oldIds);
        if (oldSigners.Count < oldRole.Threshold)
        {
            throw new TrustRepositoryException(TrustRepositoryError.BelowThreshold, $"root version {oldRoot.Version} needs {oldRole.Threshold} of its root keys to sign the rotation, but only {oldSigners.Count} are available here ({string.Join(", ", oldSigners.Select(k => k.ShortId))}); nothing was changed");
        }

        var newKeys = new List<RepositoryKey>();
        var written = new List<string>();
        try
        {
            for (var i = 0; i < count; i++)
            {
                newKeys.Add(RepositoryKey.Generate(options.KeyType));
            }

            if (options.PostQuantum)
            {
                newKeys.Add(RepositoryKey.Generate(SigningKeyType.MlDsa65));
            }

            var version = oldRoot.Version + 1;
            var signed = TufMetadataBuilder.Signed(state.Files["root.json"]);
            var keysObject = TufFields.Object(signed["keys"], "root.keys");
            var roles = TufFields.Object(signed["roles"], "root.roles");
            var stillUsed = roles.Where(r => r.Key != "root")
                .SelectMany(r => TufFields.Array(TufFields.Object(r.Value, "role")["keyids"], "keyids").OfType<string>())
                .ToHashSet(StringComparer.Ordinal);
            foreach (var id in oldIds.Where(id => !stillUsed.Contains(id)))
            {
                keysObject.Remove(id);
            }

            foreach (var key in newKeys)
            {
                keysObject[key.KeyId] = key.KeyObjectCopy();
            }

            roles["root"] = TufMetadataBuilder.Role(newKeys.Select(k => k.KeyId), threshold);
            signed["version"] = (long)version;
            signed["expires"] = TufMetadataBuilder.Iso(expires);
            var bytes = TufMetadataBuilder.Envelope(signed, [.. oldSigners, .. newKeys]);

            // Check with the verifier's counting that both thresholds hold before anything is written.
            var files = new Dictionary<string, byte[]>(state.Files, StringComparer.Ordinal) { [$"{version}.root.json"] = bytes, ["root.json"] = bytes };
            var status = RepositoryMetadata.FromFiles(files, MetadataDirectory, requireAllKinds: true).Status([$"{version}.root.json"]);
            if (status.Any(s => !s.IsComplete))
            {
                throw new InvalidOperationException($"rotation signed below threshold: {string.Join("; ", status.Select(s => $"{s.SignedBy} {s.Valid}/{s.Threshold}"))}");
            }

            var infos = new List<RepositoryKeyInfo>();
            for (var i = 0; i < newKeys.Count; i++)
            {
                var name = newKeys[i].Type == SigningKeyType.MlDsa65 ? $"root-v{version}-{PostQuantumKeySuffix}" : $"root-v{version}-{i + 1}";
                var path = Path.Combine(KeysDirectory, name + KeyFile.PrivateExtension);
                KeyFile.Write(path, newKeys[i], passphrase);
                written.Add(path);
                written.Add(KeyFile.PublicPath(path));
                infos.Add(new RepositoryKeyInfo { Role = "root", KeyId = newKeys[i].KeyId, Type = newKeys[i].Type, PrivateKeyPath = path, PublicKeyPath = KeyFile.PublicPath(path) });
            }

            var rootPath = Path.Combine(MetadataDirectory, $"{version}.root.json");
            AtomicFile.WriteNew(rootPath, bytes, privateFile: false);
            written.Add(rootPath);
            AtomicFile.Replace(Path.Combine(MetadataDirectory, "root.json"), bytes);
            written.Clear();

            var retired = RetireKeys(oldIds.Where(id => !stillUsed.Contains(id)).ToHashSet(StringComparer.Ordinal));
            return new RootRotationResult { Version = version, RootPath = rootPath, Expires = expires, NewKeys = infos, RetiredKeyFiles = retired, Signatures = status };
        }
        finally
        {
            foreach (var path in written)
            {
                File.Delete(path);
            }

            foreach (var key in newKeys)
            {
                key.Dispose();
            }
        }
    }

    /// <summary>
    /// Adds an artifact to its kind's delegated role (a new version), issues new snapshot and timestamp versions,
    /// signs with the available keys and writes the bundle (see docs/bundle-format.md). Roles whose keys are not all
    /// here are left below threshold for <see cref="BundleSigner"/> to complete; a complete bundle is verified with
    /// the enclave's own client (pinned to root 1) before anything is committed.
    /// </summary>
    public BundleCreateResult CreateBundle(BundleCreateOptions options, Passphrase passphrase, TimeProvider time, IProgress<long>? progress = null, CancellationToken cancellationToken = default)
    {
        ArgumentNullException.ThrowIfNull(options);
        ArgumentNullException.ThrowIfNull(passphrase);
        ArgumentNullException.ThrowIfNull(time);
        return new BundleWriter(this, options, passphrase, time, progress, cancellationToken).Run();
    }

    /// <summary>Holds <c>DIR/.lock</c> so that two writers do not interleave versions.</summary>
    internal IDisposable Lock()
    {
        var path = Path.Combine(Directory, ".lock");
        try
        {
            return new FileStream(path, FileMode.OpenOrCreate, FileAccess.ReadWrite, FileShare.None, 1, FileOptions.DeleteOnClose);
        }
        catch (IOException e)
        {
            throw new TrustRepositoryException(TrustRepositoryError.RepositoryInvalid, $"repository {Directory} is in use by another enclave trust or bundle command ({e.Message}); try again when it has finished", e);
        }
    }

    /// <summary>
    /// Verifies metadata with the enclave's client exactly as an import would: pinned to 1.root.json, walking the
    /// root chain, then timestamp, snapshot, targets, and each target through the delegations.
    /// </summary>
    internal static IReadOnlyList<TargetFile> VerifyRepository(Dictionary<string, byte[]> files, TimeProvider time, IReadOnlyList<string> targetPaths)
    {
        try
        {
            var trusted = TrustedState.FromRoot(files["1.root.json"]);
            var updater = new Updater(trusted, new InMemoryMetadataSource(files), time);
            updater.Refresh();
            return targetPaths.Select(updater.RequireTarget).ToList();
        }
        catch (AirlockRejectedException e)
        {
            throw new TrustRepositoryException(TrustRepositoryError.RepositoryInvalid, $"the result would be rejected by an enclave ({e.Reason}): {e.Detail}; nothing was written", e);
        }
    }

    internal static DateTimeOffset CheckExpiry(DateTimeOffset expires, DateTimeOffset now, string what)
    {
        expires = TufMetadataBuilder.WholeSeconds(expires);
        if (expires <= now)
        {
            throw new TrustRepositoryException(TrustRepositoryError.InvalidArgument, $"{what} {TufMetadataBuilder.Iso(expires)} is not in the future");
        }

        if (expires - now > MaxLifetime)
        {
            throw new TrustRepositoryException(TrustRepositoryError.InvalidArgument, $"{what} {TufMetadataBuilder.Iso(expires)} is more than ten years away");
        }

        return expires;
    }

    private static void CheckThreshold(string what, int keys, int threshold)
    {
        if (keys < 1 || keys > MaxKeys)
        {
            throw new TrustRepositoryException(TrustRepositoryError.InvalidArgument, $"the number of {what} keys must be 1 to {MaxKeys}, got {keys}");
        }

        if (threshold < 1 || threshold > keys)
        {
            throw new TrustRepositoryException(TrustRepositoryError.InvalidArgument, $"the {what} threshold must be 1 to the number of keys ({keys}), got {threshold}");
        }
    }

    private static Dictionary<string, byte[]> InitialMetadata(TrustInitOptions options, Func<string, IReadOnlyList<RepositoryKey>> keysOf, DateTimeOffset expires)
    {
        var files = new Dictionary<string, byte[]>(StringComparer.Ordinal);

        var root = TufMetadataBuilder.Common("root", 1, expires);
        var rootKeys = new Dictionary<string, object?>(StringComparer.Ordinal);
        var roles = new Dictionary<string, object?>(StringComparer.Ordinal);
        foreach (var (role, threshold) in new[] { ("root", options.RootThreshold), ("targets", 1), ("snapshot", 1), ("timestamp", 1) })
        {
            foreach (var key in keysOf(role))
            {
                rootKeys[key.KeyId] = key.KeyObjectCopy();
            }

            roles[role] = TufMetadataBuilder.Role(keysOf(role).Select(k => k.KeyId), threshold);
        }

        root["keys"] = rootKeys;
        root["roles"] = roles;
        root["consistent_snapshot"] = false;
        files["1.root.json"] = TufMetadataBuilder.Envelope(root, keysOf("root"));
        files["root.json"] = files["1.root.json"];

        var delegationKeys = new Dictionary<string, object?>(StringComparer.Ordinal);
        var delegatedRoles = new List<object?>();
        var snapshotMeta = new Dictionary<string, object?>(StringComparer.Ordinal) { ["targets.json"] = TufMetadataBuilder.MetaVersion(1) };
        foreach (var kind in Kinds)
        {
            foreach (var key in keysOf(kind))
            {
                delegationKeys[key.KeyId] = key.KeyObjectCopy();
            }

            var role = TufMetadataBuilder.Role(keysOf(kind).Select(k => k.KeyId), options.KindThreshold);
            role["name"] = kind;
            role["terminating"] = true;
            role["paths"] = new List<object?> { $"{kind}/*", $"{kind}/*/*", $"{kind}/*/*/*", $"{kind}/*/*/*/*" };
            delegatedRoles.Add(role);

            var kindSigned = TufMetadataBuilder.Common("targets", 1, expires);
            kindSigned["targets"] = new Dictionary<string, object?>(StringComparer.Ordinal);
            files[RepositoryMetadata.KindFile(kind)] = TufMetadataBuilder.Envelope(kindSigned, keysOf(kind));
            snapshotMeta[RepositoryMetadata.KindFile(kind)] = TufMetadataBuilder.MetaVersion(1);
        }

        var targets = TufMetadataBuilder.Common("targets", 1, expires);
        targets["targets"] = new Dictionary<string, object?>(StringComparer.Ordinal);
        targets["delegations"] = new Dictionary<string, object?>(StringComparer.Ordinal) { ["keys"] = delegationKeys, ["roles"] = delegatedRoles };
        files["targets.json"] = TufMetadataBuilder.Envelope(targets, keysOf("targets"));

        var snapshot = TufMetadataBuilder.Common("snapshot", 1, expires);
        snapshot["meta"] = snapshotMeta;
        files["snapshot.json"] = TufMetadataBuilder.Envelope(snapshot, keysOf("snapshot"));

        var timestamp = TufMetadataBuilder.Common("timestamp", 1, expires);
        timestamp["meta"] = new Dictionary<string, object?>(StringComparer.Ordinal) { ["snapshot.json"] = TufMetadataBuilder.MetaVersion(1) };
        files["timestamp.json"] = TufMetadataBuilder.Envelope(timestamp, keysOf("timestamp"));
        return files;
    }

    private List<string> RetireKeys(IReadOnlySet<string> keyIds)
    {
        var retiredDirectory = Path.Combine(KeysDirectory, "retired");
        var moved = new List<string>();
        foreach (var file in System.IO.Directory.EnumerateFiles(KeysDirectory, "*" + KeyFile.PrivateExtension).Order(StringComparer.Ordinal).ToList())
        {
            string? id;
            try
            {
                id = KeyFile.ReadPublicKeyId(file);
            }
            catch (SigningException)
            {
                continue;
            }

            if (id is null || !keyIds.Contains(id))
            {
                continue;
            }

            System.IO.Directory.CreateDirectory(retiredDirectory);
            foreach (var path in new[] { file, KeyFile.PublicPath(file) })
            {
                var destination = Path.Combine(retiredDirectory, Path.GetFileName(path));
                File.Move(path, destination, overwrite: false);
                moved.Add(destination);
            }
        }

        return moved;
    }
}
