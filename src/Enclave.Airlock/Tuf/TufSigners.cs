namespace Enclave.Airlock.Tuf;

/// <summary>
/// Who verified one role's metadata: the authorised keys whose signatures verified over its canonical body (one key ID
/// per distinct key, in ordinal order) and the threshold they were held to. A signature by a key the role does not
/// authorise, or one that does not verify, is not here. Set by the verifier on the metadata it trusts
/// (<see cref="TufMetadata.VerifiedSigners"/>), never derived afterwards.
/// </summary>
public sealed record TufSigners
{
    /// <summary>How many distinct authorised keys had to sign.</summary>
    public required int Threshold { get; init; }

    /// <summary>The authorised key IDs whose signatures verified, in ordinal order.</summary>
    public required IReadOnlyList<string> KeyIds { get; init; }

    /// <summary>Same threshold and same key IDs (records compare lists by reference).</summary>
    public bool SameAs(TufSigners? other) =>
        other is not null && Threshold == other.Threshold && KeyIds.SequenceEqual(other.KeyIds, StringComparer.Ordinal);
}
