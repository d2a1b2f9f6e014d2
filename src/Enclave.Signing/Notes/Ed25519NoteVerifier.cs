using Org.BouncyCastle.Math.EC.Rfc8032;

namespace Enclave.Signing.Notes;

/// <summary>Verifies Ed25519 note signatures (signature type 0x01, c2sp.org/signed-note). Thread-safe.</summary>
internal sealed class Ed25519NoteVerifier : INoteVerifier
{
    private readonly Ed25519.PublicPoint _point;

    private Ed25519NoteVerifier(string name, uint keyId, Ed25519.PublicPoint point, string verifierKey)
    {
        Name = name;
        KeyId = keyId;
        _point = point;
        VerifierKey = verifierKey;
    }

    /// <inheritdoc/>
    public string Name { get; }

    /// <inheritdoc/>
    public uint KeyId { get; }

    /// <summary>The vkey text of this key.</summary>
    public string VerifierKey { get; }

    /// <summary>
    /// Creates a verifier for a 32-byte public key, or returns null when the bytes are not a point of prime order
    /// (a small-order or mixed-order key would let anyone forge signatures).
    /// </summary>
    public static Ed25519NoteVerifier? Create(string name, ReadOnlySpan<byte> publicKey)
    {
        if (publicKey.Length != Ed25519.PublicKeySize)
        {
            return null;
        }

        var point = Ed25519.ValidatePublicKeyFullExport(publicKey);
        if (point is null)
        {
            return null;
        }

        var keyId = KeyText.ComputeKeyId(name, KeyText.Ed25519Type, publicKey);
        return new Ed25519NoteVerifier(name, keyId, point, KeyText.FormatVerifierKey(name, keyId, KeyText.Ed25519Type, publicKey));
    }

    /// <inheritdoc/>
    public bool Verify(ReadOnlySpan<byte> noteText, ReadOnlySpan<byte> signature)
    {
        return signature.Length == Ed25519.SignatureSize && Ed25519.Verify(signature, _point, noteText);
    }

    /// <inheritdoc/>
    public override string ToString() => VerifierKey;
}
