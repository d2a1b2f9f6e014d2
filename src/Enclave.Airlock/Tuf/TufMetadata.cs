using Enclave.Signing.Keys;

namespace Enclave.Airlock.Tuf;

/// <summary>Fields every signed TUF metadata file has (spec §4.2), and the bytes it was read from.</summary>
public abstract record TufMetadata
{
    /// <summary><c>root</c>, <c>timestamp</c>, <c>snapshot</c> or <c>targets</c>.</summary>
    public required string Type { get; init; }

    /// <summary>The role name: a top-level name, or a delegated role's name.</summary>
    public required string RoleName { get; init; }

    /// <summary><c>spec_version</c>.</summary>
    public required string SpecVersion { get; init; }

    /// <summary><c>version</c>, at least 1.</summary>
    public required int Version { get; init; }

    /// <summary><c>expires</c>, UTC.</summary>
    public required DateTimeOffset Expires { get; init; }

    /// <summary>The signatures, as listed (duplicates included).</summary>
    public required IReadOnlyList<TufSignature> Signatures { get; init; }

    /// <summary>The file's bytes exactly as received, for persistence.</summary>
    public required ReadOnlyMemory<byte> Bytes { get; init; }

    /// <summary>
    /// The keys whose signatures verified when this metadata was trusted, and the threshold they met: set by the
    /// <see cref="Updater"/> and the trusted-state loaders as they verify it (a root by its own root keys, timestamp,
    /// snapshot and top-level targets by the root's keys for them, a delegated role by the keys its delegating role
    /// lists). Null on metadata only parsed, never verified.
    /// </summary>
    public TufSigners? VerifiedSigners { get; init; }

    internal byte[] CanonicalSigned { get; init; } = [];

    internal byte[] RawSigned { get; init; } = [];

    internal Dictionary<string, object?> Signed { get; init; } = [];

    /// <summary>Whether the metadata has expired at <paramref name="now"/> (expiry is exclusive).</summary>
    public bool IsExpired(DateTimeOffset now) => now >= Expires;
}

/// <summary>One entry of <c>signatures</c>.</summary>
public sealed record TufSignature(string KeyId, string SignatureHex);

/// <summary>A role's authorised key IDs and threshold.</summary>
public sealed record TufRole
{
    /// <summary>Distinct key IDs authorised for the role.</summary>
    public required IReadOnlyList<string> KeyIds { get; init; }

    /// <summary>How many distinct authorised keys must sign.</summary>
    public required int Threshold { get; init; }

    internal bool SameKeysAs(TufRole other) =>
        Threshold == other.Threshold && KeyIds.Count == other.KeyIds.Count && KeyIds.All(other.KeyIds.Contains);
}

/// <summary>Root metadata (spec §4.3).</summary>
public sealed record RootMetadata : TufMetadata
{
    /// <summary>All keys, by key ID.</summary>
    public required IReadOnlyDictionary<string, TufKey> Keys { get; init; }

    /// <summary>The four top-level roles.</summary>
    public required IReadOnlyDictionary<string, TufRole> Roles { get; init; }

    /// <summary>Whether metadata and targets are fetched by version / hash prefix.</summary>
    public required bool ConsistentSnapshot { get; init; }
}

/// <summary>Timestamp metadata (spec §4.6).</summary>
public sealed record TimestampMetadata : TufMetadata
{
    /// <summary><c>meta["snapshot.json"]</c>.</summary>
    public required MetaFile SnapshotMeta { get; init; }
}

/// <summary>Snapshot metadata (spec §4.4).</summary>
public sealed record SnapshotMetadata : TufMetadata
{
    /// <summary><c>meta</c>, keyed by file name (<c>targets.json</c>, <c>ROLE.json</c>).</summary>
    public required IReadOnlyDictionary<string, MetaFile> Meta { get; init; }
}

/// <summary>Targets metadata, top-level or delegated (spec §4.5).</summary>
public sealed record TargetsMetadata : TufMetadata
{
    /// <summary>Target files by path.</summary>
    public required IReadOnlyDictionary<string, TargetFile> Targets { get; init; }

    /// <summary>Delegations, or null.</summary>
    public Delegations? Delegations { get; init; }
}

/// <summary>The version, length and hashes a parent lists for a metadata file.</summary>
public sealed record MetaFile
{
    /// <summary>Version.</summary>
    public required int Version { get; init; }

    /// <summary>Length in bytes, when listed.</summary>
    public long? Length { get; init; }

    /// <summary>Hex digests by algorithm name, when listed.</summary>
    public IReadOnlyDictionary<string, string>? Hashes { get; init; }
}

/// <summary><c>delegations</c> of a targets role.</summary>
public sealed record Delegations
{
    /// <summary>Keys by key ID.</summary>
    public required IReadOnlyDictionary<string, TufKey> Keys { get; init; }

    /// <summary>Delegated roles, in priority order.</summary>
    public required IReadOnlyList<DelegatedRole> Roles { get; init; }
}

/// <summary>One delegated role.</summary>
public sealed record DelegatedRole
{
    /// <summary>Role name.</summary>
    public required string Name { get; init; }

    /// <summary>Keys and threshold.</summary>
    public required TufRole Role { get; init; }

    /// <summary>Whether lookup stops at this role when its paths match.</summary>
    public required bool Terminating { get; init; }

    /// <summary>Path patterns (<c>*</c> and <c>?</c> do not match <c>/</c>), or null.</summary>
    public IReadOnlyList<string>? Paths { get; init; }

    /// <summary>Hex prefixes of SHA-256(path), or null.</summary>
    public IReadOnlyList<string>? PathHashPrefixes { get; init; }

    /// <summary>Whether this role is trusted for <paramref name="targetPath"/>.</summary>
    public bool IsDelegatedPath(string targetPath)
    {
        if (Paths is not null)
        {
            return Paths.Any(p => TufPathPattern.Matches(p, targetPath));
        }

        if (PathHashPrefixes is not null)
        {
            var hash = Enclave.Core.Sha256Digest.Compute(System.Text.Encoding.UTF8.GetBytes(targetPath)).ToHex();
            return PathHashPrefixes.Any(prefix => hash.StartsWith(prefix, StringComparison.OrdinalIgnoreCase));
        }

        return false;
    }
}
