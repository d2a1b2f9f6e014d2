using System.Formats.Tar;
using System.Text.Json;
using Enclave.Airlock.Bundles;
using Enclave.Airlock.Tuf;
using Enclave.Signing.Keys;

namespace Enclave.Airlock.Repository;

/// <summary>
/// Adds one key's signatures to an existing bundle, for threshold signing by several holders: every metadata file in
/// the bundle that the key is authorised for gets its signature (a rotated root counts keys of the previous and of
/// its own version), and the bundle is rewritten with the same targets, each hashed against the metadata while it is
/// copied. Idempotent: a key that already signed everything leaves the bundle untouched.
/// </summary>
public static class BundleSigner
{
    private const int MaxMetadataBytes = 16 * 1024 * 1024;
    private const long MaxTotalMetadataBytes = 64L * 1024 * 1024;
    private const int MaxEntries = 10_000;

    /// <summary>Signs the bundle at <paramref name="bundlePath"/> (a file, or parts <c>.000</c>, <c>.001</c>...) with <paramref name="key"/>.</summary>
    public static BundleSignResult Sign(string bundlePath, RepositoryKey key, TimeProvider time, CancellationToken cancellationToken = default)
    {
        ArgumentException.ThrowIfNullOrEmpty(bundlePath);
        ArgumentNullException.ThrowIfNull(key);
        ArgumentNullException.ThrowIfNull(time);
        var full = Path.GetFullPath(bundlePath);
        var basePath = full.EndsWith(".000", StringComparison.Ordinal) ? full[..^4] : full;
        var split = !File.Exists(full) || full.EndsWith(".000", StringComparison.Ordinal);
        var parts = split ? BundleOutput.ExistingFiles(basePath).Where(p => p != basePath).ToList() : [full];
        long? partSize = split ? (parts.Count > 1 ? new FileInfo(parts[0]).Length : long.MaxValue) : null;

        using var input = OpenInput(full);
        using var reader = new TarReader(input, leaveOpen: true);
        var metadataOrder = new List<string>();
        var files = new Dictionary<string, byte[]>(StringComparer.Ordinal);
        long metadataBytes = 0;
        var entries = 0;
        TarEntry? entry;
        while ((entry = Next(reader, ref entries)) is not null && entry.Name.StartsWith(BundleTar.MetadataFolder, StringComparison.Ordinal))
        {
            var name = entry.Name[BundleTar.MetadataFolder.Length..];
            if (entry.Length > MaxMetadataBytes || (metadataBytes += entry.Length) > MaxTotalMetadataBytes)
            {
                throw Invalid($"metadata entry {entry.Name} is too large");
            }

            var bytes = new byte[entry.Length];
            try
            {
                entry.DataStream?.ReadExactly(bytes);
            }
            catch (EndOfStreamException e)
            {
                throw new TrustRepositoryException(TrustRepositoryError.BundleInvalid, $"bundle invalid: metadata entry {entry.Name} is cut short; nothing was changed", e);
            }
            if (!files.TryAdd(name, bytes))
            {
                throw Invalid($"metadata entry {entry.Name} appears twice");
            }

            metadataOrder.Add(name);
        }

        var (kind, artifactName, version) = ReadSelector(files);
        var state = ParseMetadata(files, bundlePath);
        if (!state.KindRoles.TryGetValue(kind, out var kindRole))
        {
            throw Invalid($"the bundle carries {kind} {artifactName} {version} but no {RepositoryMetadata.KindFile(kind)}");
        }

        var authorised = state.SignedFiles().Where(f => state.AuthorisedKeyIds(f).Contains(key.KeyId)).ToList();
        if (authorised.Count == 0)
        {
            throw new SigningException(SigningFailure.KeyNotAuthorised, $"key {key.ShortId} is not authorised to sign any metadata in {bundlePath} ({string.Join(", ", state.SignedFiles())}); nothing was changed");
        }

        if (!state.Status(authorised).Any(s => s.MissingKeyIds.Contains(key.KeyId)))
        {
            return new BundleSignResult
            {
                Files = split ? parts : [full], KeyId = key.KeyId, Kind = kind, Name = artifactName, Version = version,
                SignedFiles = authorised, Unchanged = true, Signatures = state.Status(),
            };
        }

        var signedFiles = new Dictionary<string, byte[]>(files, StringComparer.Ordinal);
        foreach (var file in authorised)
        {
            signedFiles[file] = TufMetadataBuilder.AddSignatures(files[file], [key]);
        }

        signedFiles["root.json"] = signedFiles[$"{state.Roots.Count}.root.json"];
        var signedState = ParseMetadata(signedFiles, bundlePath);
        var prefix = $"{kind}/{artifactName}/{version}/";
        var expected = kindRole.Targets.Where(t => t.Key.StartsWith(prefix, StringComparison.Ordinal)).ToDictionary(t => t.Key, t => t.Value, StringComparer.Ordinal);
        var seen = new HashSet<string>(StringComparer.Ordinal);

        using var output = new BundleOutput(split ? basePath : full, partSize, replace: true);
        using (var writer = new TarWriter(output.Stream, TarEntryFormat.Pax, leaveOpen: true))
        {
            var mtime = TufMetadataBuilder.WholeSeconds(time.GetUtcNow());
            foreach (var name in metadataOrder)
            {
                BundleTar.WriteMetadata(writer, name, signedFiles[name], mtime);
            }

            for (; entry is not null; entry = Next(reader, ref entries))
            {
                cancellationToken.ThrowIfCancellationRequested();
                if (!entry.Name.StartsWith(BundleTar.TargetsFolder, StringComparison.Ordinal))
                {
                    throw Invalid($"entry {entry.Name} is neither under metadata/ (before the targets) nor under targets/");
                }

                var path = entry.Name[BundleTar.TargetsFolder.Length..];
                if (!expected.TryGetValue(path, out var target) || !seen.Add(path))
                {
                    throw Invalid($"entry {entry.Name} is not a target of {kind} {artifactName} {version} in {RepositoryMetadata.KindFile(kind)}, or appears twice");
                }

                using var content = new HashingReadStream(entry.DataStream ?? Stream.Null, entry.Length, null, leaveOpen: true);
                if (entry.Length != target.Length)
                {
                    throw Invalid($"target {path} is {entry.Length} bytes but its metadata says {target.Length}; the bundle is damaged");
                }

                BundleTar.WriteFile(writer, entry.Name, content, mtime);
                if (content.BytesRead != target.Length || target.Sha256?.ToHex() != content.Sha256Hex())
                {
                    throw Invalid($"target {path} does not match the hash in its metadata; the bundle is damaged");
                }
            }
        }

        var missing = expected.Keys.Where(p => !seen.Contains(p)).ToList();
        if (missing.Count > 0)
        {
            throw Invalid($"the bundle lacks {missing.Count} target(s) of {kind} {artifactName} {version}, e.g. {missing[0]}");
        }

        var status = signedState.Status();
        if (status.All(s => s.IsComplete))
        {
            TrustRepository.VerifyRepository(signedFiles.Where(f => f.Key != BundleTar.SelectorFile).ToDictionary(StringComparer.Ordinal), time, [.. expected.Keys]);
        }

        input.Dispose();
        var written = output.Commit(replace: true);
        return new BundleSignResult
        {
            Files = written, KeyId = key.KeyId, Kind = kind, Name = artifactName, Version = version,
            SignedFiles = authorised, Unchanged = false, Signatures = status,
        };
    }

    private static RepositoryMetadata ParseMetadata(Dictionary<string, byte[]> files, string bundlePath)
    {
        try
        {
            return RepositoryMetadata.FromFiles(files.Where(f => f.Key != BundleTar.SelectorFile).ToDictionary(StringComparer.Ordinal), bundlePath, requireAllKinds: false);
        }
        catch (TrustRepositoryException e) when (e.Error == TrustRepositoryError.RepositoryInvalid)
        {
            throw new TrustRepositoryException(TrustRepositoryError.BundleInvalid, $"bundle invalid: {e.Message}; nothing was changed", e);
        }
    }

    private static Stream OpenInput(string path)
    {
        try
        {
            return SplitPartsStream.Open(path, BundleOutput.MaxParts);
        }
        catch (BundleRejectedException e)
        {
            throw Invalid(e.Detail);
        }
    }

    private static TarEntry? Next(TarReader reader, ref int entries)
    {
        TarEntry? entry;
        try
        {
            entry = reader.GetNextEntry(copyData: false);
        }
        catch (Exception e) when (e is InvalidDataException or FormatException or ArgumentException or EndOfStreamException)
        {
            throw new TrustRepositoryException(TrustRepositoryError.BundleInvalid, $"the bundle is not a valid tar archive ({e.Message})", e);
        }

        if (entry is null)
        {
            return null;
        }

        if (++entries > MaxEntries)
        {
            throw Invalid($"the bundle has more than {MaxEntries} entries");
        }

        if (entry.EntryType is not (TarEntryType.RegularFile or TarEntryType.V7RegularFile))
        {
            throw Invalid($"entry {entry.Name} is a {entry.EntryType}; bundles hold regular files only");
        }

        return entry;
    }

    private static (string Kind, string Name, string Version) ReadSelector(Dictionary<string, byte[]> files)
    {
        if (!files.TryGetValue(BundleTar.SelectorFile, out var bytes))
        {
            throw Invalid($"the bundle has no metadata/{BundleTar.SelectorFile}");
        }

        try
        {
            using var document = JsonDocument.Parse(bytes, new JsonDocumentOptions { MaxDepth = 4 });
            var root = document.RootElement;
            string Field(string name) => root.GetProperty(name).GetString() ?? throw Invalid($"metadata/{BundleTar.SelectorFile} has no {name}");
            if (Field("format") != BundleTar.Format)
            {
                throw Invalid($"metadata/{BundleTar.SelectorFile} says format {Field("format")}, not {BundleTar.Format}");
            }

            return (Field("kind"), Field("name"), Field("version"));
        }
        catch (Exception e) when (e is JsonException or KeyNotFoundException or InvalidOperationException)
        {
            throw new TrustRepositoryException(TrustRepositoryError.BundleInvalid, $"metadata/{BundleTar.SelectorFile} is not a bundle selector ({e.Message})", e);
        }
    }

    private static TrustRepositoryException Invalid(string detail) => new(TrustRepositoryError.BundleInvalid, $"bundle invalid: {detail}; nothing was changed");
}
