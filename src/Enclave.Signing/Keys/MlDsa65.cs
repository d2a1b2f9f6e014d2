using Org.BouncyCastle.Crypto.Parameters;
using Org.BouncyCastle.Crypto.Prng;
using Org.BouncyCastle.Crypto.Signers;
using Org.BouncyCastle.Security;

namespace Enclave.Signing.Keys;

/// <summary>
/// Pure ML-DSA-65 (FIPS 204, empty context) through BouncyCastle: the post-quantum TUF key type <c>ml-dsa-65</c>
/// (scheme <c>ml-dsa-65</c>, <c>keyval.public</c> = hex of the 1952-byte public key, <c>sig</c> = hex of the
/// 3309-byte signature over the canonical bytes of <c>signed</c>). TUF registers no ML-DSA key type; this one is
/// the project's own and documented in docs/bundle-format.md.
/// </summary>
public static class MlDsa65
{
    /// <summary>The TUF <c>keytype</c>.</summary>
    public const string KeyType = "ml-dsa-65";

    /// <summary>The TUF <c>scheme</c>.</summary>
    public const string Scheme = "ml-dsa-65";

    /// <summary>The FIPS 204 key-generation seed ξ.</summary>
    public const int SeedSize = 32;

    /// <summary>FIPS 204 ML-DSA-65 public key size.</summary>
    public const int PublicKeySize = 1952;

    /// <summary>FIPS 204 ML-DSA-65 signature size.</summary>
    public const int SignatureSize = 3309;

    /// <summary>The PKCS#8 / X.509 algorithm identifier (NIST, RFC 9881).</summary>
    public const string Oid = "2.16.840.1.101.3.4.3.18";

    /// <summary>Decodes a 1952-byte public key.</summary>
    public static MLDsaPublicKeyParameters PublicKey(byte[] encoded) =>
        MLDsaPublicKeyParameters.FromEncoding(MLDsaParameters.ml_dsa_65, encoded);

    /// <summary>Expands a seed into a private key that exports as the seed-only PKCS#8 form (RFC 9881).</summary>
    public static MLDsaPrivateKeyParameters PrivateKeyFromSeed(byte[] seed) =>
        MLDsaPrivateKeyParameters.FromSeed(MLDsaParameters.ml_dsa_65, seed, MLDsaPrivateKeyParameters.Format.SeedOnly);

    /// <summary>Hedged signing; per-signature randomness from the system's cryptographic generator.</summary>
    public static byte[] Sign(MLDsaPrivateKeyParameters privateKey, byte[] message)
    {
        var signer = new MLDsaSigner(MLDsaParameters.ml_dsa_65, deterministic: false);
        signer.Init(true, new ParametersWithRandom(privateKey, new SecureRandom(new CryptoApiRandomGenerator())));
        signer.BlockUpdate(message, 0, message.Length);
        return signer.GenerateSignature();
    }

    /// <summary>True only for a valid 3309-byte signature of <paramref name="message"/>.</summary>
    public static bool Verify(MLDsaPublicKeyParameters publicKey, byte[] message, byte[] signature)
    {
        if (signature.Length != SignatureSize)
        {
            return false;
        }

        var verifier = new MLDsaSigner(MLDsaParameters.ml_dsa_65, deterministic: false);
        verifier.Init(false, publicKey);
        verifier.BlockUpdate(message, 0, message.Length);
        return verifier.VerifySignature(signature);
    }
}
