namespace Enclave.Airlock.Tuf;

/// <summary>Bounds on everything the updater reads from an untrusted source.</summary>
public sealed record TufUpdaterOptions
{
    /// <summary>Largest root metadata accepted, in bytes.</summary>
    public long MaxRootBytes { get; init; } = 512 * 1024;

    /// <summary>Largest timestamp metadata accepted, in bytes.</summary>
    public long MaxTimestampBytes { get; init; } = 16 * 1024;

    /// <summary>Largest snapshot metadata accepted when the timestamp lists no length.</summary>
    public long MaxSnapshotBytes { get; init; } = 2 * 1024 * 1024;

    /// <summary>Largest targets (top-level or delegated) metadata accepted when the snapshot lists no length.</summary>
    public long MaxTargetsBytes { get; init; } = 5 * 1024 * 1024;

    /// <summary>Most root versions applied in one refresh.</summary>
    public int MaxRootRotations { get; init; } = 32;

    /// <summary>Most delegated roles visited in one target lookup.</summary>
    public int MaxDelegations { get; init; } = 32;

    /// <summary>Deepest delegation chain followed below the top-level targets role.</summary>
    public int MaxDelegationDepth { get; init; } = 8;

    /// <summary>Deepest JSON nesting accepted.</summary>
    public int MaxJsonDepth { get; init; } = 32;

    /// <summary>Most signatures examined on one metadata file.</summary>
    public int MaxSignatures { get; init; } = 64;

    /// <summary>Most keys in one root or delegations object.</summary>
    public int MaxKeys { get; init; } = 256;

    /// <summary>Most entries in a snapshot <c>meta</c> or a targets <c>targets</c> object.</summary>
    public int MaxEntries { get; init; } = 100_000;

    /// <summary>Reject keys whose ID is not the SHA-256 of their canonical JSON (spec §4.2).</summary>
    public bool RequireKeyIdMatchesKey { get; init; } = true;

    /// <summary>
    /// Reject a delegated role outright when it lists a target outside the paths delegated to it, rather than
    /// silently ignoring that target as the spec's lookup would.
    /// </summary>
    public bool RejectTargetsOutsideDelegatedPaths { get; init; } = true;

    /// <summary>
    /// Commit (to the store and <see cref="Updater.Trusted"/>) after every verified step of a refresh (each new
    /// root version, then timestamp, snapshot and targets) as the TUF client workflow persists each role, instead
    /// of once when the whole refresh verified. Off for the airlock, whose imports are all-or-nothing; on for
    /// <c>enclave tuf-client</c>, which the tuf-conformance suite checks role by role.
    /// </summary>
    public bool CommitEachStep { get; init; }

    /// <summary>
    /// Require, besides each role's threshold, at least one valid <c>ml-dsa-65</c> (FIPS 204) signature by a key
    /// authorised for that role, on every root (by the trusted and the new root's keys on rotation), timestamp,
    /// snapshot, targets and delegated role; otherwise <see cref="AirlockRejection.MissingPostQuantumSignature"/>.
    /// Off by default: ML-DSA-65 signatures then count toward thresholds like any other key's. Turn it on only
    /// once the pinned root lists ML-DSA-65 keys (<c>enclave trust init --post-quantum</c>).
    /// </summary>
    public bool RequirePostQuantumSignature { get; init; }

    /// <summary>Defaults.</summary>
    public static TufUpdaterOptions Default { get; } = new();
}
