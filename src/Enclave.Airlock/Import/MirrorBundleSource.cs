using System.Formats.Tar;
using System.IO.Pipelines;
using System.Net;
using System.Text;
using System.Text.Json;
using Enclave.Airlock.Bundles;
using Enclave.Airlock.Tuf;

namespace Enclave.Airlock.Import;

/// <summary>
/// Pulls one artifact from a TUF repository mirror over HTTP(S) as a bundle stream in exactly the bundle format
/// (docs/bundle-format.md), for <see cref="AirlockImporter.ImportAsync(Stream, string, IProgress{long}?, CancellationToken)"/>
/// to verify like a bundle from media. The mirror is laid out as <c>BASE/metadata/FILE</c> and <c>BASE/targets/PATH</c>
/// (<c>BASE/targets/DIR/HASH.NAME</c> under consistent snapshots).
/// </summary>
/// <remarks>
/// Nothing here is trusted or verified: the metadata fetched only decides what to ask for. It is fetched with the
/// TUF client's own bounds (<see cref="HttpMetadataSource"/>: at most the allowed length plus one byte, so that an
/// oversized file reaches the verifier and is refused there): the root chain <c>N.root.json</c> from 1 until the
/// mirror answers 404 (at most <see cref="TufUpdaterOptions.MaxRootRotations"/> past the trusted version),
/// <c>timestamp.json</c>, then snapshot, <c>targets.json</c> and the kind's delegated role named as
/// <c>consistent_snapshot</c> says, bounded by the lengths the parent lists. Each target under
/// <c>KIND/NAME/VERSION/</c> is then streamed from the mirror into the tar with the length the (unverified) metadata
/// gives it: exactly that many bytes, or the stream fails (<see cref="BundleRejection.LengthMismatch"/>, or
/// <see cref="BundleRejection.MissingEntry"/> for a 404). A mirror under an attacker's control can make a pull fail,
/// never pass: the importer checks everything against the pinned root and the enclave's trusted versions.
/// </remarks>
public sealed class MirrorBundleSource : IDisposable
{
    /// <summary>The folder of metadata files under the mirror's base URL.</summary>
    public const string MetadataFolder = "metadata/";

    /// <summary>The folder of target files under the mirror's base URL.</summary>
    public const string TargetsFolder = "targets/";

    private const int PauseWriterBytes = 1024 * 1024;
    private const int MaxUnverifiedJsonDepth = 64;

    private readonly HttpClient _client;
    private readonly bool _ownsClient;
    private readonly TufUpdaterOptions _tuf;
    private readonly TimeSpan _timeout;
    private readonly TimeProvider _time;
    private readonly int _maxTargets;

    /// <summary>
    /// Reads from the mirror at <paramref name="mirrorUrl"/> (absolute http or https), with its own
    /// <see cref="HttpClient"/> unless <paramref name="client"/> is given. <paramref name="timeout"/> (default 30 s)
    /// bounds each metadata file, the wait for each target's response and each chunk of its body.
    /// </summary>
    public MirrorBundleSource(Uri mirrorUrl, HttpClient? client = null, TufUpdaterOptions? tuf = null, TimeSpan? timeout = null, TimeProvider? time = null, int? maxTargets = null)
    {
        ArgumentNullException.ThrowIfNull(mirrorUrl);
        MirrorUrl = TufHttp.DirectoryUrl(mirrorUrl, nameof(mirrorUrl));
        _ownsClient = client is null;
        _client = client ?? TufHttp.CreateClient();
        _tuf = tuf ?? TufUpdaterOptions.Default;
        _timeout = timeout ?? TimeSpan.FromSeconds(30);
        _time = time ?? TimeProvider.System;
        _maxTargets = maxTargets ?? BundleReaderOptions.Default.MaxEntries;
        if (_timeout <= TimeSpan.Zero)
        {
            throw new ArgumentOutOfRangeException(nameof(timeout), "the timeout must be positive");
        }

        ArgumentOutOfRangeException.ThrowIfNegativeOrZero(_maxTargets, nameof(maxTargets));
    }

    /// <summary>The mirror's base URL (ending in '/').</summary>
    public Uri MirrorUrl { get; }

    /// <summary>Where metadata is read: <c>BASE/metadata/</c>.</summary>
    public Uri MetadataUrl => new(MirrorUrl, MetadataFolder);

    /// <summary>Where targets are read: <c>BASE/targets/</c>.</summary>
    public Uri TargetsUrl => new(MirrorUrl, TargetsFolder);

    /// <summary>
    /// Fetches the metadata for (<paramref name="kind"/>, <paramref name="name"/>, <paramref name="version"/>) and
    /// returns the bundle, whose targets stream from the mirror as the bundle is read. A file the mirror does not
    /// have is left out (the importer then says what is missing); an unreachable mirror or an HTTP error other than
    /// 404/403 is a <see cref="MirrorPullException"/>. <paramref name="trustedRootVersion"/> is the enclave's trusted
    /// root version (0 when unknown): new roots are looked for up to <see cref="TufUpdaterOptions.MaxRootRotations"/>
    /// past it, as the TUF client does.
    /// </summary>
    public async Task<MirrorBundle> OpenAsync(string kind, string name, string version, int trustedRootVersion = 0, CancellationToken cancellationToken = default)
    {
        ArgumentException.ThrowIfNullOrEmpty(kind);
        ArgumentException.ThrowIfNullOrEmpty(name);
        ArgumentException.ThrowIfNullOrEmpty(version);
        ArgumentOutOfRangeException.ThrowIfNegative(trustedRootVersion);
        var (metadata, targets, consistent) = await Task.Run(() => FetchMetadata(kind, name, version, trustedRootVersion), cancellationToken).ConfigureAwait(false);

        var selector = JsonSerializer.SerializeToUtf8Bytes(new SortedDictionary<string, string>(StringComparer.Ordinal)
        {
            ["format"] = BundleSelector.Format,
            ["kind"] = kind,
            ["name"] = name,
            ["version"] = version,
        });
        metadata.Add((BundleSelector.EntryName, selector));

        var pipe = new Pipe(new PipeOptions(pauseWriterThreshold: PauseWriterBytes, resumeWriterThreshold: PauseWriterBytes / 2, useSynchronizationContext: false));
        var cancel = new CancellationTokenSource();
        var producer = Task.Run(() => ProduceAsync(pipe.Writer, metadata, targets, consistent, cancel.Token), CancellationToken.None);
        return new MirrorBundle(pipe.Reader, producer, cancel, metadata.Select(m => m.Name).ToList(), targets.Select(t => t.Path).ToList());
    }

    /// <inheritdoc />
    public void Dispose()
    {
        if (_ownsClient)
        {
            _client.Dispose();
        }
    }

    private (List<(string Name, byte[] Bytes)> Metadata, List<TargetFile> Targets, bool Consistent) FetchMetadata(string kind, string name, string version, int trustedRootVersion)
    {
        using var source = new HttpMetadataSource(MetadataUrl, _client, _timeout);
        var metadata = new List<(string Name, byte[] Bytes)>();
        var targets = new List<TargetFile>();

        byte[]? Fetch(string role, int? number, long maxLength)
        {
            try
            {
                var bytes = source.Fetch(role, number, maxLength);
                if (bytes is not null)
                {
                    metadata.Add(("metadata/" + DirectoryMetadataSource.FileName(role, number), bytes));
                }

                return bytes;
            }
            catch (TufFetchException e)
            {
                throw new MirrorPullException(new Uri(MetadataUrl, DirectoryMetadataSource.FileName(role, number)), e.Message, e);
            }
        }

        // The root chain: the versions the enclave already trusts (for a complete chain; gaps are skipped), then new
        // ones until the mirror has no next version, at most as many as one refresh applies.
        byte[]? newestRoot = null;
        for (var v = 1; v <= trustedRootVersion; v++)
        {
            newestRoot = Fetch("root", v, _tuf.MaxRootBytes) ?? newestRoot;
        }

        for (var v = trustedRootVersion + 1; v <= trustedRootVersion + _tuf.MaxRootRotations; v++)
        {
            if (Fetch("root", v, _tuf.MaxRootBytes) is not { } root)
            {
                break;
            }

            newestRoot = root;
        }

        if (newestRoot is not null)
        {
            metadata.Add(("metadata/root.json", newestRoot));
        }

        var consistent = Signed(newestRoot) is { } rootSigned
            && rootSigned.TryGetProperty("consistent_snapshot", out var flag) && flag.ValueKind == JsonValueKind.True;

        // Each file leads to the next through what it (unverified) lists; where that cannot be read, what was fetched
        // so far goes to the importer, whose verification refuses it.
        var timestamp = Signed(Fetch("timestamp", null, _tuf.MaxTimestampBytes));
        if (timestamp is null || Meta(timestamp.Value, "snapshot.json") is not { } snapshotMeta)
        {
            return (metadata, targets, consistent);
        }

        var snapshot = Signed(Fetch("snapshot", consistent ? snapshotMeta.Version : null, snapshotMeta.Length ?? _tuf.MaxSnapshotBytes));
        if (snapshot is null)
        {
            return (metadata, targets, consistent);
        }

        var prefix = $"{kind}/{name}/{version}/";
        var seen = new HashSet<string>(StringComparer.Ordinal);
        foreach (var role in new[] { "targets", kind })
        {
            if (Meta(snapshot.Value, DirectoryMetadataSource.FileName(role, null)) is not { } roleMeta
                || Signed(Fetch(role, consistent ? roleMeta.Version : null, roleMeta.Length ?? _tuf.MaxTargetsBytes)) is not { } signed)
            {
                continue;
            }

            // Top-level targets first: the TUF lookup prefers them too.
            foreach (var target in ListedTargets(signed, prefix, role))
            {
                if (targets.Count < _maxTargets && seen.Add(target.Path))
                {
                    targets.Add(target);
                }
            }
        }

        targets.Sort((a, b) => string.CompareOrdinal(a.Path, b.Path));
        return (metadata, targets, consistent);
    }

    private async Task ProduceAsync(PipeWriter writer, List<(string Name, byte[] Bytes)> metadata, List<TargetFile> targets, bool consistent, CancellationToken cancellationToken)
    {
        try
        {
            var time = _time.GetUtcNow();
            using var urls = new HttpTargetDownloader(TargetsUrl, _client, _timeout);
            await using (var archive = writer.AsStream(leaveOpen: true))
            await using (var tar = new TarWriter(archive, TarEntryFormat.Pax, leaveOpen: true))
            {
                foreach (var (name, bytes) in metadata)
                {
                    await WriteEntryAsync(tar, name, new MemoryStream(bytes, writable: false), time, cancellationToken).ConfigureAwait(false);
                }

                foreach (var target in targets)
                {
                    var url = urls.TargetUrl(target, consistent);
                    await using var content = await OpenTargetAsync(target, url, cancellationToken).ConfigureAwait(false);
                    await WriteEntryAsync(tar, "targets/" + target.Path, content, time, cancellationToken).ConfigureAwait(false);
                }
            }

            await writer.CompleteAsync().ConfigureAwait(false);
        }
        catch (Exception e)
        {
            await writer.CompleteAsync(e).ConfigureAwait(false);
            throw;
        }
    }

    private async Task<MirrorTargetStream> OpenTargetAsync(TargetFile target, Uri url, CancellationToken cancellationToken)
    {
        using var wait = CancellationTokenSource.CreateLinkedTokenSource(cancellationToken);
        wait.CancelAfter(_timeout);
        HttpResponseMessage? response = null;
        try
        {
            response = await _client.GetAsync(url, HttpCompletionOption.ResponseHeadersRead, wait.Token).ConfigureAwait(false);
            if (response.StatusCode is HttpStatusCode.NotFound or HttpStatusCode.Forbidden)
            {
                throw new BundleRejectedException(BundleRejection.MissingEntry, $"the mirror has no target {ArtifactNames.Printable(target.Path)} ({url} answered {(int)response.StatusCode})");
            }

            if (!response.IsSuccessStatusCode)
            {
                throw new MirrorPullException(url, $"{url} answered {(int)response.StatusCode} {response.ReasonPhrase}");
            }

            var body = await response.Content.ReadAsStreamAsync(wait.Token).ConfigureAwait(false);
            var stream = new MirrorTargetStream(response, body, target.Length, "targets/" + target.Path, url, _timeout);
            response = null;
            return stream;
        }
        catch (OperationCanceledException e) when (wait.IsCancellationRequested && !cancellationToken.IsCancellationRequested)
        {
            throw new MirrorPullException(url, $"{url} did not answer within {_timeout.TotalSeconds:0.#} s", e);
        }
        catch (HttpRequestException e)
        {
            throw new MirrorPullException(url, $"{url} could not be fetched: {e.Message}", e);
        }
        finally
        {
            response?.Dispose();
        }
    }

    private static async Task WriteEntryAsync(TarWriter tar, string name, Stream content, DateTimeOffset time, CancellationToken cancellationToken)
    {
        // As the bundle writer writes them: pax, regular file, mode 0644, owner 0/0.
        var entry = new PaxTarEntry(TarEntryType.RegularFile, name, new Dictionary<string, string>(StringComparer.Ordinal))
        {
            ModificationTime = time,
            Mode = UnixFileMode.UserRead | UnixFileMode.UserWrite | UnixFileMode.GroupRead | UnixFileMode.OtherRead,
            Uid = 0,
            Gid = 0,
            DataStream = content,
        };
        await tar.WriteEntryAsync(entry, cancellationToken).ConfigureAwait(false);
    }

    // The "signed" object of unverified metadata, or null when it cannot be read.
    private static JsonElement? Signed(byte[]? bytes)
    {
        if (bytes is null)
        {
            return null;
        }

        try
        {
            using var document = JsonDocument.Parse(bytes, new JsonDocumentOptions { MaxDepth = MaxUnverifiedJsonDepth });
            return document.RootElement.ValueKind == JsonValueKind.Object
                && document.RootElement.TryGetProperty("signed", out var signed) && signed.ValueKind == JsonValueKind.Object
                ? signed.Clone()
                : null;
        }
        catch (JsonException)
        {
            return null;
        }
    }

    // meta[file] of a timestamp or snapshot: its version and optional length.
    private static (int Version, long? Length)? Meta(JsonElement signed, string file)
    {
        if (!signed.TryGetProperty("meta", out var meta) || meta.ValueKind != JsonValueKind.Object
            || !meta.TryGetProperty(file, out var entry) || entry.ValueKind != JsonValueKind.Object
            || !entry.TryGetProperty("version", out var version) || version.ValueKind != JsonValueKind.Number
            || !version.TryGetInt32(out var number) || number < 1)
        {
            return null;
        }

        long? length = entry.TryGetProperty("length", out var l) && l.ValueKind == JsonValueKind.Number && l.TryGetInt64(out var n) && n >= 0 ? n : null;
        return (number, length);
    }

    private static IEnumerable<TargetFile> ListedTargets(JsonElement signed, string prefix, string role)
    {
        if (!signed.TryGetProperty("targets", out var listed) || listed.ValueKind != JsonValueKind.Object)
        {
            yield break;
        }

        foreach (var property in listed.EnumerateObject())
        {
            var value = property.Value;
            if (!property.Name.StartsWith(prefix, StringComparison.Ordinal) || value.ValueKind != JsonValueKind.Object
                || !value.TryGetProperty("length", out var length) || length.ValueKind != JsonValueKind.Number || !length.TryGetInt64(out var bytes) || bytes < 0
                || !value.TryGetProperty("hashes", out var hashes) || hashes.ValueKind != JsonValueKind.Object)
            {
                continue;
            }

            var digests = new Dictionary<string, string>(StringComparer.Ordinal);
            foreach (var hash in hashes.EnumerateObject())
            {
                if (hash.Value.ValueKind == JsonValueKind.String && hash.Value.GetString() is { Length: > 0 } digest)
                {
                    digests[hash.Name] = digest;
                }
            }

            if (digests.Count > 0 && Encoding.UTF8.GetByteCount(property.Name) <= BundleReaderOptions.Default.MaxNameBytes)
            {
                yield return new TargetFile { Path = property.Name, Length = bytes, Hashes = digests, Role = role };
            }
        }
    }
}
