namespace Enclave.Signing.Notes;

/// <summary>One signature line of a signed note.</summary>
public sealed record NoteSignature
{
    /// <summary>The key name on the line.</summary>
    public required string Name { get; init; }

    /// <summary>The key ID: the first four bytes of the decoded signature, big-endian.</summary>
    public required uint KeyId { get; init; }

    /// <summary>The base64 text of the line, <c>base64(key ID || signature)</c>, exactly as it appeared.</summary>
    public required string Base64 { get; init; }
}
