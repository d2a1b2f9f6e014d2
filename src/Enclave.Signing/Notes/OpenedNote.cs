namespace Enclave.Signing.Notes;

/// <summary>A signed note whose signatures from known keys all verified, at least one of them.</summary>
public sealed record OpenedNote
{
    /// <summary>The note text, ending in a newline, without the blank line and the signatures.</summary>
    public required string Text { get; init; }

    /// <summary>Signatures from known keys that verified, one per key (name and key ID), in note order.</summary>
    public required IReadOnlyList<NoteSignature> Verified { get; init; }

    /// <summary>Signatures from unknown keys, not checked and not to be trusted; identical lines appear once.</summary>
    public required IReadOnlyList<NoteSignature> Unverified { get; init; }
}
