namespace Enclave.Signing.Notes;

/// <summary>Produces one signature line of a C2SP signed note (c2sp.org/signed-note).</summary>
public interface INoteSigner
{
    /// <summary>Key name: non-empty, no Unicode spaces, no '+'.</summary>
    string Name { get; }

    /// <summary>The 32-bit key ID that prefixes the signature (big-endian on the wire).</summary>
    uint KeyId { get; }

    /// <summary>Signs the note text (which ends in a newline) and returns the signature bytes, without the key ID.</summary>
    byte[] Sign(ReadOnlySpan<byte> noteText);
}
