namespace Enclave.Signing.Notes;

/// <summary>Why a signed note was rejected.</summary>
public enum NoteRejection
{
    /// <summary>The note does not follow the signed-note format (encoding, layout, a signature line).</summary>
    Malformed,

    /// <summary>The note is larger than <see cref="NoteLimits.MaxNoteBytes"/>.</summary>
    TooLarge,

    /// <summary>The note has more signature lines than <see cref="NoteLimits.MaxSignatures"/>.</summary>
    TooManySignatures,

    /// <summary>No signature is from a known key.</summary>
    NoKnownSignature,

    /// <summary>A signature from a known key failed to verify.</summary>
    BadSignature,

    /// <summary>A signature matches more than one known key (same name and key ID): the key list is ambiguous.</summary>
    AmbiguousKey,
}
