namespace Enclave.Airlock.Tuf;

/// <summary>Why the airlock refused metadata or a bundle. Operators and tests match on these values.</summary>
public enum AirlockRejection
{
    /// <summary>A signature by an authorised key did not verify (tampered body or wrong key).</summary>
    BadSignature,

    /// <summary>Fewer distinct authorised keys signed than the role's threshold requires.</summary>
    BelowThreshold,

    /// <summary>Root, snapshot, targets or delegated metadata has expired.</summary>
    Expired,

    /// <summary>
    /// The bundle was signed under a different root than the one this enclave trusts (another repository, or a root
    /// re-made instead of rotated): its root of the trusted version differs from the trusted root, so none of its
    /// signatures can count.
    /// </summary>
    UntrustedRoot,

    /// <summary>A role's version is older than the trusted version.</summary>
    Rollback,

    /// <summary>The timestamp is expired: the source serves stale metadata (freeze attack).</summary>
    Freeze,

    /// <summary>A role's version is not the version its parent metadata lists (mix-and-match attack).</summary>
    MixAndMatch,

    /// <summary>A new root is not version N+1, or not signed by thresholds of both the old and the new root.</summary>
    BadRootRotation,

    /// <summary>A delegated role listed a target outside the paths delegated to it, or a delegation is invalid.</summary>
    DelegationViolation,

    /// <summary>Metadata length differs from the length its parent lists.</summary>
    LengthMismatch,

    /// <summary>Metadata hash differs from the hash its parent lists.</summary>
    HashMismatch,

    /// <summary>Metadata is not valid JSON or violates the TUF schema.</summary>
    Malformed,

    /// <summary>Metadata is not canonical JSON, or was signed over a non-canonical encoding.</summary>
    NonCanonical,

    /// <summary>Metadata exceeds the configured size bound.</summary>
    Oversized,

    /// <summary>A role is required but missing from the source or from its parent's listing.</summary>
    UnknownRole,

    /// <summary>No trusted targets metadata lists the requested target path.</summary>
    UnknownTarget,

    /// <summary>A configured bound (root rotations, delegations, depth) was exceeded.</summary>
    LimitExceeded,

    /// <summary>
    /// The enclave requires a post-quantum signature (<see cref="TufUpdaterOptions.RequirePostQuantumSignature"/>)
    /// and a role's metadata carries no valid <c>ml-dsa-65</c> signature by a key authorised for that role.
    /// </summary>
    MissingPostQuantumSignature,
}
