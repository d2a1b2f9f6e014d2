namespace Enclave.Airlock.Tuf;

/// <summary>
/// The last trusted version of every role. Immutable: the <see cref="Updater"/> builds a new state and commits
/// it only after a whole update verifies, so a failure leaves the previous state exactly as it was.
/// </summary>
public sealed record TrustedState
{
    /// <summary>The trusted root.</summary>
    public required RootMetadata Root { get; init; }

    /// <summary>The trusted timestamp, if any.</summary>
    public TimestampMetadata? Timestamp { get; init; }

    /// <summary>The trusted snapshot, if any.</summary>
    public SnapshotMetadata? Snapshot { get; init; }

    /// <summary>The trusted top-level targets, if any.</summary>
    public TargetsMetadata? Targets { get; init; }

    /// <summary>Trusted delegated targets roles, by name.</summary>
    public IReadOnlyDictionary<string, TargetsMetadata> Delegated { get; init; } = new Dictionary<string, TargetsMetadata>(StringComparer.Ordinal);

    /// <summary>
    /// Pins <paramref name="rootJson"/> as the trusted root (installed out of band). It must be signed by a
    /// threshold of its own root keys; its expiry is not checked here (an updater checks the newest root).
    /// </summary>
    public static TrustedState FromRoot(byte[] rootJson, TufUpdaterOptions? options = null)
    {
        ArgumentNullException.ThrowIfNull(rootJson);
        var root = TufMetadataParser.ParseRoot(rootJson, options ?? TufUpdaterOptions.Default);
        root = root with { VerifiedSigners = TufSignatureVerifier.Verify(root, root.Keys, root.Roles["root"], $"its own root keys") };
        return new TrustedState { Root = root };
    }

    /// <summary>
    /// Every trusted file by the name a TUF client stores it under (<c>root.json</c>, <c>timestamp.json</c>,
    /// <c>snapshot.json</c>, <c>targets.json</c>, <c>ROLE.json</c>), with the exact bytes that were verified.
    /// </summary>
    public IReadOnlyDictionary<string, ReadOnlyMemory<byte>> ToFiles()
    {
        var files = new Dictionary<string, ReadOnlyMemory<byte>>(StringComparer.Ordinal) { ["root.json"] = Root.Bytes };
        if (Timestamp is not null)
        {
            files["timestamp.json"] = Timestamp.Bytes;
        }

        if (Snapshot is not null)
        {
            files["snapshot.json"] = Snapshot.Bytes;
        }

        if (Targets is not null)
        {
            files["targets.json"] = Targets.Bytes;
        }

        foreach (var (name, metadata) in Delegated)
        {
            files[DirectoryMetadataSource.FileName(name, null)] = metadata.Bytes;
        }

        return files;
    }

    /// <summary>
    /// Reloads a persisted state written by <see cref="ToFiles"/>. The root is pinned as in <see cref="FromRoot"/>;
    /// timestamp, snapshot and targets must verify against it (expiry is not checked: the next refresh does).
    /// Delegated roles are not reloaded; they are fetched and verified again on the next lookup.
    /// </summary>
    public static TrustedState Load(byte[] root, byte[]? timestamp, byte[]? snapshot, byte[]? targets, TufUpdaterOptions? options = null)
    {
        options ??= TufUpdaterOptions.Default;
        var state = FromRoot(root, options);
        var roles = state.Root.Roles;
        TimestampMetadata? ts = null;
        SnapshotMetadata? sn = null;
        TargetsMetadata? tg = null;
        if (timestamp is not null)
        {
            ts = TufMetadataParser.ParseTimestamp(timestamp, options);
            ts = ts with { VerifiedSigners = TufSignatureVerifier.Verify(ts, state.Root.Keys, roles["timestamp"], "the trusted root's timestamp keys") };
        }

        if (snapshot is not null)
        {
            sn = TufMetadataParser.ParseSnapshot(snapshot, Math.Max(snapshot.LongLength, options.MaxSnapshotBytes), options);
            sn = sn with { VerifiedSigners = TufSignatureVerifier.Verify(sn, state.Root.Keys, roles["snapshot"], "the trusted root's snapshot keys") };
        }

        if (targets is not null)
        {
            tg = TufMetadataParser.ParseTargets(targets, "targets", Math.Max(targets.LongLength, options.MaxTargetsBytes), options);
            tg = tg with { VerifiedSigners = TufSignatureVerifier.Verify(tg, state.Root.Keys, roles["targets"], "the trusted root's targets keys") };
        }

        return state with { Timestamp = ts, Snapshot = sn, Targets = tg };
    }
}
