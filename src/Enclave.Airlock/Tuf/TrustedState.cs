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
        TufSignatureVerifier.Verify(root, root.Keys, root.Roles["root"], $"its own root keys");
        return new TrustedState { Root = root };
    }
}
