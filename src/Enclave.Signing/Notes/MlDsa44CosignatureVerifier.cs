using System.Buffers.Binary;
using System.Text;
using Org.BouncyCastle.Crypto.Parameters;

namespace Enclave.Signing.Notes;

/// <summary>
/// Verifies timestamped ML-DSA-44 checkpoint cosignatures (signature type 0x06, c2sp.org/tlog-cosignature).
/// The note text must be a checkpoint; anything else fails verification. Thread-safe.
/// </summary>
internal sealed class MlDsa44CosignatureVerifier : INoteVerifier
{
    private readonly MLDsaPublicKeyParameters _publicKey;
    private readonly byte[] _nameUtf8;

    private MlDsa44CosignatureVerifier(string name, uint keyId, MLDsaPublicKeyParameters publicKey, string verifierKey)
    {
        Name = name;
        KeyId = keyId;
        _publicKey = publicKey;
        _nameUtf8 = Encoding.UTF8.GetBytes(name);
        VerifierKey = verifierKey;
    }

    /// <inheritdoc/>
    public string Name { get; }

    /// <inheritdoc/>
    public uint KeyId { get; }

    /// <summary>The vkey text of this key.</summary>
    public string VerifierKey { get; }

    /// <summary>Creates a verifier for a 1312-byte public key; null when the name or key cannot be used.</summary>
    public static MlDsa44CosignatureVerifier? Create(string name, ReadOnlySpan<byte> publicKey)
    {
        if (publicKey.Length != MlDsa44.PublicKeySize || Encoding.UTF8.GetByteCount(name) > MlDsa44.MaxNameBytes)
        {
            return null;
        }

        var keyId = KeyText.ComputeKeyId(name, KeyText.MlDsa44CosignatureType, publicKey);
        var verifierKey = KeyText.FormatVerifierKey(name, keyId, KeyText.MlDsa44CosignatureType, publicKey);
        return new MlDsa44CosignatureVerifier(name, keyId, MlDsa44.PublicKey(publicKey.ToArray()), verifierKey);
    }

    /// <inheritdoc/>
    public bool Verify(ReadOnlySpan<byte> noteText, ReadOnlySpan<byte> signature)
    {
        if (signature.Length != MlDsa44.TimestampedSignatureSize)
        {
            return false;
        }

        var timestamp = BinaryPrimitives.ReadUInt64BigEndian(signature);
        if (timestamp > long.MaxValue || !CheckpointHeader.TryParse(noteText, out var checkpoint, out _))
        {
            return false;
        }

        var message = MlDsa44.CosignedMessage(_nameUtf8, timestamp, checkpoint);
        return MlDsa44.Verify(_publicKey, message, signature[sizeof(ulong)..]);
    }

    /// <inheritdoc/>
    public override string ToString() => VerifierKey;
}
