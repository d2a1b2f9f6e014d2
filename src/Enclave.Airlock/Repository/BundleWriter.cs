using System.Formats.Tar;
using Enclave.Airlock.Tuf;
using Enclave.Signing.Keys;

namespace Enclave.Airlock.Repository;

/// <summary>One <see cref="TrustRepository.CreateBundle"/> run.</summary>
internal sealed class BundleWriter(
    TrustRepository repository,
    BundleCreateOptions options,
    Passphrase passphrase,
    TimeProvider time,
    IProgress<long>? progress,
    CancellationToken cancellationToken)
{
    /// <summary>Default lifetime of the metadata a bundle carries (how long it stays importable).</summary>
    public static readonly TimeSpan DefaultLifetime = TimeSpan.FromDays(90);

    private const int CopyBufferSize = 1024 * 1024;
    private long _done;

    public BundleCreateResult Run()
    {
        ArtifactNames.CheckKind(options.Kind);
        ArtifactNames.CheckSegment(options.Name, "--name");
        ArtifactNames.CheckSegment(options.Version, "--version");
        ArtifactNames.CheckLabel(options.Label);
        if (options.Task is not null && (options.Kind != "model" || options.Task is not ("chat" or "embedding")))
        {
            throw new TrustRepositoryException(TrustRepositoryError.InvalidArgument, options.Kind != "model"
                ? $"--task applies to models only, not to {options.Kind}"
                : $"--task \"{options.Task}\" is not chat or embedding");
        }

        var now = time.GetUtcNow();
        var expires = TrustRepository.CheckExpiry(options.Expires ?? now + DefaultLifetime, now, "--expires");
        var files = CollectFiles();
        using var output = new BundleOutput(options.Output, options.SplitSize);
        if (options.SplitSize is { } split && files.Sum(f => f.Length) / split >= BundleOutput.MaxParts)
        {
            throw new TrustRepositoryException(TrustRepositoryError.InvalidArgument, $"with --split-size {split} the bundle needs more than {BundleOutput.MaxParts} parts, more than an enclave accepts; choose a larger --split-size");
        }

        // First pass: hash every file (streamed), so the metadata can precede the targets in the archive.
        var total = files.Sum(f => f.Length) * 2;
        foreach (var file in files)
        {
            file.Sha256 = Hash(file);
        }

        using var repositoryLock = repository.Lock();
        var state = RepositoryMetadata.LoadDirectory(repository.MetadataDirectory);
        var warnings = new List<string>();
        if (state.Root.IsExpired(now))
        {
            throw new TrustRepositoryException(TrustRepositoryError.RepositoryInvalid, $"root version {state.Root.Version} expired at {TufMetadataBuilder.Iso(state.Root.Expires)}; an enclave would refuse the bundle. Issue a new root with enclave trust rotate");
        }

        if (state.Root.Expires < expires)
        {
            warnings.Add($"root version {state.Root.Version} expires at {TufMetadataBuilder.Iso(state.Root.Expires)}, before this bundle's metadata ({TufMetadataBuilder.Iso(expires)}); rotate the root in time");
        }

        var kindFile = RepositoryMetadata.KindFile(options.Kind);
        var newFiles = new Dictionary<string, byte[]>(StringComparer.Ordinal);
        var toSign = new Dictionary<string, Dictionary<string, object?>>(StringComparer.Ordinal);

        // The kind role: a new version listing the artifact's targets beside everything published before.
        var kindSigned = TufMetadataBuilder.Signed(state.Files[kindFile]);
        var kindVersion = state.KindRoles[options.Kind].Version + 1;
        var targets = TufFields.Object(kindSigned["targets"], $"{options.Kind}.targets");
        var prefix = $"{options.Kind}/{options.Name}/{options.Version}/";
        var entries = files.ToDictionary(f => f.TargetPath, TargetEntry, StringComparer.Ordinal);
        var previous = targets.Where(t => t.Key.StartsWith(prefix, StringComparison.Ordinal)).ToDictionary(t => t.Key, t => t.Value, StringComparer.Ordinal);
        if (previous.Count > 0)
        {
            var same = previous.Count == entries.Count && previous.All(p => entries.TryGetValue(p.Key, out var e)
                && TufJson.Canonicalize(p.Value).AsSpan().SequenceEqual(TufJson.Canonicalize(e)));
            if (!same)
            {
                throw new TrustRepositoryException(TrustRepositoryError.AlreadyPublished, $"{options.Kind} {options.Name} {options.Version} is already published with other content (in {kindFile} version {kindVersion - 1}); publish it under a new --version. Nothing was written");
            }

            warnings.Add($"{options.Kind} {options.Name} {options.Version} was already published with the same content; it is bundled again");
        }

        foreach (var (path, entry) in entries)
        {
            targets[path] = entry;
        }

        Bump(kindSigned, kindVersion, expires);
        toSign[kindFile] = kindSigned;

        // targets.json only delegates; it is re-issued when it would expire before the bundle does.
        var targetsVersion = state.Targets.Version;
        if (state.Targets.Expires < expires)
        {
            var targetsSigned = TufMetadataBuilder.Signed(state.Files["targets.json"]);
            targetsVersion++;
            var targetsExpires = now + TrustRepository.DefaultRootLifetime > expires ? now + TrustRepository.DefaultRootLifetime : expires;
            Bump(targetsSigned, targetsVersion, TufMetadataBuilder.WholeSeconds(targetsExpires));
            toSign["targets.json"] = targetsSigned;
        }

        var snapshotSigned = TufMetadataBuilder.Signed(state.Files["snapshot.json"]);
        var meta = TufFields.Object(snapshotSigned["meta"], "snapshot.meta");
        meta[kindFile] = TufMetadataBuilder.MetaVersion(kindVersion);
        meta["targets.json"] = TufMetadataBuilder.MetaVersion(targetsVersion);
        var snapshotVersion = state.Snapshot.Version + 1;
        Bump(snapshotSigned, snapshotVersion, expires);
        toSign["snapshot.json"] = snapshotSigned;

        var timestampSigned = TufMetadataBuilder.Signed(state.Files["timestamp.json"]);
        timestampSigned["meta"] = new Dictionary<string, object?>(StringComparer.Ordinal) { ["snapshot.json"] = TufMetadataBuilder.MetaVersion(snapshotVersion) };
        Bump(timestampSigned, state.Timestamp.Version + 1, expires);
        toSign["timestamp.json"] = timestampSigned;

        using (var ring = options.KeyFiles is null ? KeyRing.FromDirectory(repository.KeysDirectory, passphrase) : KeyRing.FromFiles(options.KeyFiles, passphrase))
        {
            var authorised = toSign.Keys.ToDictionary(f => f, state.AuthorisedKeyIds, StringComparer.Ordinal);
            ring.RequireAllUseful(authorised.Values.SelectMany(s => s).ToHashSet(StringComparer.Ordinal), string.Join(", ", toSign.Keys));
            foreach (var (file, signed) in toSign)
            {
                newFiles[file] = TufMetadataBuilder.Envelope(signed, ring.Signers(authorised[file]));
            }
        }

        // The bundle's metadata: the root chain, the top-level roles and the artifact's kind role.
        var bundleFiles = new Dictionary<string, byte[]>(StringComparer.Ordinal);
        foreach (var (name, bytes) in state.Files.Where(f => f.Key.EndsWith("root.json", StringComparison.Ordinal)))
        {
            bundleFiles[name] = bytes;
        }

        foreach (var name in new[] { "timestamp.json", "snapshot.json", "targets.json", kindFile })
        {
            bundleFiles[name] = newFiles.TryGetValue(name, out var fresh) ? fresh : state.Files[name];
        }

        var bundleState = RepositoryMetadata.FromFiles(bundleFiles, "the new bundle", requireAllKinds: false);
        var status = bundleState.Status();
        if (status.All(s => s.IsComplete))
        {
            var verified = TrustRepository.VerifyRepository(bundleFiles, time, [.. files.Select(f => f.TargetPath)]);
            foreach (var (target, file) in verified.Zip(files))
            {
                if (target.Length != file.Length || target.Sha256?.ToHex() != file.Sha256)
                {
                    throw new InvalidOperationException($"verified target {target.Path} does not match the file written");
                }
            }
        }

        var selector = TufJsonFormat.Serialize(new Dictionary<string, object?>(StringComparer.Ordinal)
        {
            ["format"] = BundleTar.Format,
            ["kind"] = options.Kind,
            ["name"] = options.Name,
            ["version"] = options.Version,
        });

        // Second pass: the archive, each file hashed again while it is copied; a file that changed aborts.
        var mtime = TufMetadataBuilder.WholeSeconds(now);
        using (var writer = new TarWriter(output.Stream, TarEntryFormat.Pax, leaveOpen: true))
        {
            foreach (var name in BundleOrder(bundleState, kindFile))
            {
                BundleTar.WriteMetadata(writer, name, bundleFiles[name], mtime);
            }

            BundleTar.WriteMetadata(writer, BundleTar.SelectorFile, selector, mtime);
            foreach (var file in files)
            {
                cancellationToken.ThrowIfCancellationRequested();
                using var content = new HashingReadStream(OpenSource(file.Source), file.Length, Report);
                BundleTar.WriteFile(writer, BundleTar.TargetsFolder + file.TargetPath, content, mtime);
                if (content.BytesRead != file.Length || content.Sha256Hex() != file.Sha256)
                {
                    throw new TrustRepositoryException(TrustRepositoryError.SourceChanged, $"{file.Source} changed while the bundle was written; nothing was written, run the command again when it is stable");
                }
            }
        }

        // Commit: the repository first (kind role, targets, snapshot, then timestamp), then the bundle file(s).
        foreach (var name in new[] { kindFile, "targets.json", "snapshot.json", "timestamp.json" }.Where(newFiles.ContainsKey))
        {
            AtomicFile.Replace(Path.Combine(repository.MetadataDirectory, name), newFiles[name]);
        }

        var bytesWritten = output.Length;
        var written = output.Commit();
        progress?.Report(total);
        return new BundleCreateResult
        {
            Files = written,
            Bytes = bytesWritten,
            Targets = files.Select(f => new BundleTarget { Path = f.TargetPath, Length = f.Length, Sha256 = f.Sha256!, Type = f.Type }).ToList(),
            RoleVersion = kindVersion,
            Expires = expires,
            Signatures = status,
            Warnings = warnings,
        };

        void Report(int n)
        {
            _done += n;
            progress?.Report(_done);
        }
    }

    /// <summary>Metadata entries in bundle order: root chain, root.json, timestamp, snapshot, targets, kind role.</summary>
    internal static IEnumerable<string> BundleOrder(RepositoryMetadata state, string kindFile)
    {
        for (var v = 1; v <= state.Roots.Count; v++)
        {
            yield return $"{v}.root.json";
        }

        yield return "root.json";
        yield return "timestamp.json";
        yield return "snapshot.json";
        yield return "targets.json";
        yield return kindFile;
    }

    private static void Bump(Dictionary<string, object?> signed, int version, DateTimeOffset expires)
    {
        signed["version"] = (long)version;
        signed["expires"] = TufMetadataBuilder.Iso(expires);
    }

    private Dictionary<string, object?> TargetEntry(SourceFile file)
    {
        var enclave = new Dictionary<string, object?>(StringComparer.Ordinal)
        {
            ["kind"] = options.Kind,
            ["name"] = options.Name,
            ["version"] = options.Version,
            ["label"] = options.Label,
            ["type"] = file.Type,
        };
        if (options.Task is not null)
        {
            enclave["task"] = options.Task;
        }

        return new Dictionary<string, object?>(StringComparer.Ordinal)
        {
            ["length"] = file.Length,
            ["hashes"] = new Dictionary<string, object?>(StringComparer.Ordinal) { ["sha256"] = file.Sha256 },
            ["custom"] = new Dictionary<string, object?>(StringComparer.Ordinal) { ["enclave"] = enclave },
        };
    }

    private List<SourceFile> CollectFiles()
    {
        if (options.Sources.Count == 0)
        {
            throw new TrustRepositoryException(TrustRepositoryError.InvalidArgument, "no SOURCE given: name the files or folders that make up the artifact");
        }

        var byRelative = new Dictionary<string, SourceFile>(StringComparer.Ordinal);
        void Add(string relative, string source, string type)
        {
            var path = ArtifactNames.TargetPath(options.Kind, options.Name, options.Version, relative);
            var file = new SourceFile { Source = source, TargetPath = path, Type = type, Length = new FileInfo(source).Length };
            if (!byRelative.TryAdd(relative, file))
            {
                throw new TrustRepositoryException(TrustRepositoryError.InvalidArgument, $"{source} and {byRelative[relative].Source} would both become {path}; rename one or pass the folders separately");
            }
        }

        foreach (var source in options.Sources.Select(Path.GetFullPath))
        {
            if (File.Exists(source))
            {
                RefuseLink(source);
                Add(ArtifactNames.CheckRelative([Path.GetFileName(source)], source), source, "content");
            }
            else if (Directory.Exists(source))
            {
                RefuseLink(source);
                var any = false;
                foreach (var entry in Directory.EnumerateFileSystemEntries(source, "*", new EnumerationOptions { RecurseSubdirectories = true, AttributesToSkip = 0, IgnoreInaccessible = false }))
                {
                    RefuseLink(entry);
                    if (Directory.Exists(entry))
                    {
                        continue;
                    }

                    var relative = Path.GetRelativePath(source, entry).Split(Path.DirectorySeparatorChar);
                    Add(ArtifactNames.CheckRelative(relative, entry), entry, "content");
                    any = true;
                }

                if (!any)
                {
                    throw new TrustRepositoryException(TrustRepositoryError.InvalidArgument, $"folder {source} holds no files");
                }
            }
            else
            {
                throw new FileNotFoundException($"SOURCE {source} not found", source);
            }
        }

        if (options.Sbom is not null)
        {
            var name = AttestationValidator.CheckSbom(options.Sbom);
            Add($"{ArtifactNames.AttestationsFolder}/{name}", Path.GetFullPath(options.Sbom), "sbom");
        }

        if (options.Provenance is not null)
        {
            AttestationValidator.CheckProvenance(options.Provenance);
            Add($"{ArtifactNames.AttestationsFolder}/provenance.intoto.json", Path.GetFullPath(options.Provenance), "provenance");
        }

        return [.. byRelative.Values.OrderBy(f => f.TargetPath, StringComparer.Ordinal)];
    }

    private static void RefuseLink(string path)
    {
        var info = new FileInfo(path);
        if (info.LinkTarget is not null)
        {
            throw new TrustRepositoryException(TrustRepositoryError.InvalidArgument, $"{path} is a symbolic link; bundles carry regular files only, copy the file it points to");
        }
    }

    private string Hash(SourceFile file)
    {
        using var stream = new HashingReadStream(OpenSource(file.Source), file.Length, n =>
        {
            _done += n;
            progress?.Report(_done);
        });
        var buffer = new byte[CopyBufferSize];
        while (stream.Read(buffer) > 0)
        {
            cancellationToken.ThrowIfCancellationRequested();
        }

        if (stream.BytesRead != file.Length || new FileInfo(file.Source).Length != file.Length)
        {
            throw new TrustRepositoryException(TrustRepositoryError.SourceChanged, $"{file.Source} changed size while it was read; nothing was written, run the command again when it is stable");
        }

        return stream.Sha256Hex();
    }

    private static FileStream OpenSource(string path) =>
        new(path, FileMode.Open, FileAccess.Read, FileShare.Read, bufferSize: 1, FileOptions.SequentialScan);

    private sealed class SourceFile
    {
        public required string Source { get; init; }

        public required string TargetPath { get; init; }

        public required string Type { get; init; }

        public required long Length { get; init; }

        public string? Sha256 { get; set; }
    }
}
