namespace Enclave.Signing.Notes;

/// <summary>Checks one signature line of a C2SP signed note for a known key.</summary>
public interface INoteVerifier
{
    /// <summary>Key name the signature line must carry.</summary>
    string Name { get; }

    /// <summary>Key ID the signature must start with.</summary>
    uint KeyId { get; }

    /// <summary>True only when <paramref name="signature"/> (without the key ID) is valid for the note text.</summary>
    bool Verify(ReadOnlySpan<byte> noteText, ReadOnlySpan<byte> signature);
}
