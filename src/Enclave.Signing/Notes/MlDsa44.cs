using System.Buffers.Binary;
using Enclave.Core;
using Org.BouncyCastle.Crypto.Parameters;
using Org.BouncyCastle.Crypto.Prng;
using Org.BouncyCastle.Crypto.Signers;
using Org.BouncyCastle.Security;

namespace Enclave.Signing.Notes;

/// <summary>
/// Pure ML-DSA-44 (FIPS 204, empty context) through BouncyCastle, and the c2sp.org/tlog-cosignature
/// <c>cosigned_message</c> it signs.
/// </summary>
internal static class MlDsa44
{
    public const int SeedSize = 32;
    public const int PublicKeySize = 1312;
    public const int SignatureSize = 2420;

    /// <summary>Size of <c>timestamped_signature</c>: u64 timestamp || ML-DSA-44 signature.</summary>
    public const int TimestampedSignatureSize = sizeof(ulong) + SignatureSize;

    /// <summary>The longest cosigner name (opaque cosigner_name&lt;1..2^8-1&gt;).</summary>
    public const int MaxNameBytes = 255;

    private static readonly byte[] Label = "subtree/v1\n\0"u8.ToArray();

    /// <summary>Expands a 32-byte seed (FIPS 204 ξ) into a private key.</summary>
    public static MLDsaPrivateKeyParameters PrivateKeyFromSeed(byte[] seed) =>
        MLDsaPrivateKeyParameters.FromSeed(MLDsaParameters.ml_dsa_44, seed);

    /// <summary>Decodes a 1312-byte public key.</summary>
    public static MLDsaPublicKeyParameters PublicKey(byte[] encoded) =>
        MLDsaPublicKeyParameters.FromEncoding(MLDsaParameters.ml_dsa_44, encoded);

    /// <summary>Hedged signing; the per-signature randomness comes from <see cref="System.Security.Cryptography.RandomNumberGenerator"/>.</summary>
    public static byte[] Sign(MLDsaPrivateKeyParameters privateKey, ReadOnlySpan<byte> message)
    {
        var signer = new MLDsaSigner(MLDsaParameters.ml_dsa_44, deterministic: false);
        signer.Init(true, new ParametersWithRandom(privateKey, new SecureRandom(new CryptoApiRandomGenerator())));
        signer.BlockUpdate(message);
        return signer.GenerateSignature();
    }

    /// <summary>True only for a valid 2420-byte signature of <paramref name="message"/>.</summary>
    public static bool Verify(MLDsaPublicKeyParameters publicKey, ReadOnlySpan<byte> message, ReadOnlySpan<byte> signature)
    {
        if (signature.Length != SignatureSize)
        {
            return false;
        }

        var verifier = new MLDsaSigner(MLDsaParameters.ml_dsa_44, deterministic: false);
        verifier.Init(false, publicKey);
        verifier.BlockUpdate(message);
        return verifier.VerifySignature(signature.ToArray());
    }

    /// <summary>
    /// The TLS-encoded <c>cosigned_message</c> of c2sp.org/tlog-cosignature for a checkpoint (start = 0,
    /// end = tree size): label, cosigner_name&lt;1..255&gt;, u64 timestamp, log_origin&lt;1..255&gt;, u64 start,
    /// u64 end, 32-byte hash.
    /// </summary>
    public static byte[] CosignedMessage(ReadOnlySpan<byte> cosignerName, ulong timestamp, CheckpointHeader checkpoint)
    {
        var origin = checkpoint.Origin;
        if (cosignerName.IsEmpty || cosignerName.Length > MaxNameBytes || origin.Length == 0 || origin.Length > MaxNameBytes)
        {
            throw new ArgumentException("cosigner name and log origin must be 1 to 255 bytes");
        }

        var message = new byte[Label.Length + 1 + cosignerName.Length + 8 + 1 + origin.Length + 8 + 8 + Sha256Digest.Size];
        var span = message.AsSpan();
        Label.CopyTo(span);
        span = span[Label.Length..];
        span[0] = (byte)cosignerName.Length;
        cosignerName.CopyTo(span[1..]);
        span = span[(1 + cosignerName.Length)..];
        BinaryPrimitives.WriteUInt64BigEndian(span, timestamp);
        span = span[8..];
        span[0] = (byte)origin.Length;
        origin.CopyTo(span[1..]);
        span = span[(1 + origin.Length)..];
        BinaryPrimitives.WriteUInt64BigEndian(span, 0); // start: a checkpoint is the subtree [0, size)
        BinaryPrimitives.WriteUInt64BigEndian(span[8..], checkpoint.Size);
        checkpoint.RootHash.CopyTo(span[16..]);
        return message;
    }
}
