namespace Enclave.Airlock.Tuf;

/// <summary>
/// Keeps a TUF client's trusted metadata in a directory under the names a TUF client uses: <c>root.json</c>,
/// <c>timestamp.json</c>, <c>snapshot.json</c>, <c>targets.json</c> and <c>ROLE.json</c> for delegated roles
/// (percent-encoded), holding the exact bytes that verified. Each file is replaced atomically (written beside it,
/// flushed to disk, renamed over it); metadata files of roles the state no longer trusts are removed, so the
/// directory always shows what is trusted. The directory is the store's own: only files named like metadata are
/// ever removed.
/// </summary>
public sealed class DirectoryTrustedStateStore : ITrustedStateStore
{
    private static readonly string[] TopLevel = ["root.json", "timestamp.json", "snapshot.json", "targets.json"];

    private readonly string _directory;

    /// <summary>Stores into <paramref name="directory"/>, which must exist.</summary>
    public DirectoryTrustedStateStore(string directory)
    {
        ArgumentException.ThrowIfNullOrEmpty(directory);
        _directory = Path.GetFullPath(directory);
        if (!Directory.Exists(_directory))
        {
            throw new DirectoryNotFoundException($"metadata directory {_directory} does not exist");
        }
    }

    /// <summary>The directory.</summary>
    public string DirectoryPath => _directory;

    /// <summary>
    /// Pins <paramref name="rootJson"/> as the only trusted metadata: writes it as <c>root.json</c> and removes any
    /// other metadata left in the directory. The root must parse and be signed by a threshold of its own keys.
    /// </summary>
    public void Initialize(byte[] rootJson, TufUpdaterOptions? options = null) =>
        Commit(TrustedState.FromRoot(rootJson, options));

    /// <summary>
    /// Loads the trusted state: <c>root.json</c> is required and pinned (a missing or invalid root throws).
    /// A timestamp, snapshot or targets file that does not verify against it (left by an interrupted update, or
    /// altered) is not trusted, nor is anything after it; each such file is named in <paramref name="ignored"/>.
    /// Delegated roles are loaded as cached copies; the updater re-verifies each against its current delegation
    /// before using it.
    /// </summary>
    public TrustedState Load(TufUpdaterOptions options, out IReadOnlyList<string> ignored)
    {
        ArgumentNullException.ThrowIfNull(options);
        var skipped = new List<string>();
        ignored = skipped;
        var root = ReadOrNull("root.json")
            ?? throw new FileNotFoundException($"no trusted root: {Path.Combine(_directory, "root.json")} does not exist (run init first)", Path.Combine(_directory, "root.json"));
        var state = TrustedState.FromRoot(root, options);

        byte[]?[] files = [ReadOrNull("timestamp.json"), ReadOrNull("snapshot.json"), ReadOrNull("targets.json")];
        for (var i = 0; i < files.Length; i++)
        {
            if (files[i] is null)
            {
                break;
            }

            try
            {
                state = TrustedState.Load(root, files[0], i >= 1 ? files[1] : null, i >= 2 ? files[2] : null, options);
            }
            catch (AirlockRejectedException e)
            {
                skipped.Add($"{TopLevel[i + 1]}: {e.Detail}");
                break;
            }
        }

        if (state.Targets is null || state.Snapshot is null)
        {
            return state;
        }

        var delegated = new Dictionary<string, TargetsMetadata>(StringComparer.Ordinal);
        foreach (var (name, role) in DelegatedFiles())
        {
            try
            {
                var bytes = File.ReadAllBytes(Path.Combine(_directory, name));
                delegated[role] = TufMetadataParser.ParseTargets(bytes, role, Math.Max(bytes.LongLength, options.MaxTargetsBytes), options);
            }
            catch (AirlockRejectedException e)
            {
                skipped.Add($"{name}: {e.Detail}");
            }
        }

        return state with { Delegated = delegated };
    }

    /// <inheritdoc />
    public void Commit(TrustedState state)
    {
        ArgumentNullException.ThrowIfNull(state);
        var files = state.ToFiles();
        // Root first: every other file is verified against it when loaded.
        foreach (var (name, bytes) in files.OrderBy(f => f.Key == "root.json" ? 0 : 1).ThenBy(f => f.Key, StringComparer.Ordinal))
        {
            WriteIfChanged(name, bytes.Span);
        }

        foreach (var name in TopLevel.Concat(DelegatedFiles().Select(d => d.Name)))
        {
            if (!files.ContainsKey(name))
            {
                File.Delete(Path.Combine(_directory, name));
            }
        }
    }

    // Files named as a delegated role's metadata would be: ROLE.json with ROLE percent-encoded, not top-level.
    private IEnumerable<(string Name, string Role)> DelegatedFiles()
    {
        foreach (var path in Directory.EnumerateFiles(_directory, "*.json"))
        {
            var name = Path.GetFileName(path);
            if (TopLevel.Contains(name, StringComparer.Ordinal))
            {
                continue;
            }

            var role = Uri.UnescapeDataString(name[..^".json".Length]);
            if (role.Length > 0 && string.Equals(DirectoryMetadataSource.FileName(role, null), name, StringComparison.Ordinal))
            {
                yield return (name, role);
            }
        }
    }

    private byte[]? ReadOrNull(string name)
    {
        try
        {
            return File.ReadAllBytes(Path.Combine(_directory, name));
        }
        catch (FileNotFoundException)
        {
            return null;
        }
    }

    private void WriteIfChanged(string name, ReadOnlySpan<byte> bytes)
    {
        var path = Path.Combine(_directory, name);
        if (ReadOrNull(name) is { } existing && existing.AsSpan().SequenceEqual(bytes))
        {
            return;
        }

        // A temporary name that is never taken for metadata (it does not end in .json).
        var temp = Path.Combine(_directory, $".{name}.{Environment.ProcessId}.tmp");
        try
        {
            using (var file = new FileStream(temp, FileMode.Create, FileAccess.Write, FileShare.None, bufferSize: 0))
            {
                file.Write(bytes);
                file.Flush(flushToDisk: true);
            }

            File.Move(temp, path, overwrite: true);
        }
        catch
        {
            File.Delete(temp);
            throw;
        }
    }
}
