using System.Security.Cryptography;
using Org.BouncyCastle.Crypto.Parameters;
using Org.BouncyCastle.Math.EC.Rfc8032;
using Org.BouncyCastle.Pkcs;
using Org.BouncyCastle.Security;

namespace Enclave.Signing.Keys;

/// <summary>
/// A private signing key of a TUF repository and its public TUF key object (spec §4.2). Key IDs are computed with the
/// verifier's own canonical JSON (<see cref="TufKey.ComputeKeyId"/>), so what this writes is what it accepts.
/// Private material is wiped on <see cref="Dispose"/>.
/// </summary>
public sealed class RepositoryKey : IDisposable
{
    private const int RsaBits = 3072;
    private const string Ed25519Oid = "1.3.101.112";

    private readonly byte[]? _ed25519Seed;
    private readonly ECDsa? _ecdsa;
    private readonly RSA? _rsa;
    private readonly MLDsaPrivateKeyParameters? _mlDsa;
    private readonly Dictionary<string, object?> _keyObject;

    private RepositoryKey(SigningKeyType type, byte[]? seed, ECDsa? ecdsa, RSA? rsa, MLDsaPrivateKeyParameters? mlDsa = null)
    {
        Type = type;
        _ed25519Seed = seed;
        _ecdsa = ecdsa;
        _rsa = rsa;
        _mlDsa = mlDsa;
        _keyObject = type switch
        {
            SigningKeyType.MlDsa65 => KeyObjectFor(MlDsa65.KeyType, MlDsa65.Scheme, Convert.ToHexStringLower(mlDsa!.GetPublicKeyEncoded())),
            SigningKeyType.Ed25519 => KeyObjectFor("ed25519", "ed25519", Convert.ToHexStringLower(Ed25519Public(seed!))),
            SigningKeyType.EcdsaP256 => KeyObjectFor("ecdsa", "ecdsa-sha2-nistp256", ecdsa!.ExportSubjectPublicKeyInfoPem()),
            _ => KeyObjectFor("rsa", "rsassa-pss-sha256", rsa!.ExportSubjectPublicKeyInfoPem()),
        };
        KeyId = TufKey.ComputeKeyId(_keyObject);
    }

    /// <summary>The algorithm.</summary>
    public SigningKeyType Type { get; }

    /// <summary>SHA-256 hex of the public key object's canonical JSON.</summary>
    public string KeyId { get; }

    /// <summary>The first 12 hex digits of the key ID, for messages.</summary>
    public string ShortId => TufKey.Short(KeyId);

    /// <summary>The public key object (<c>keytype</c>, <c>scheme</c>, <c>keyval.public</c>), as placed in metadata.</summary>
    public IReadOnlyDictionary<string, object?> KeyObject => _keyObject;

    /// <summary>Generates a fresh key with the system's cryptographic random generator.</summary>
    public static RepositoryKey Generate(SigningKeyType type) => type switch
    {
        SigningKeyType.Ed25519 => new RepositoryKey(type, RandomNumberGenerator.GetBytes(Ed25519.SecretKeySize), null, null),
        SigningKeyType.EcdsaP256 => new RepositoryKey(type, null, ECDsa.Create(ECCurve.NamedCurves.nistP256), null),
        SigningKeyType.RsaPss => new RepositoryKey(type, null, null, RSA.Create(RsaBits)),
        SigningKeyType.MlDsa65 => new RepositoryKey(type, null, null, null, MlDsa65.PrivateKeyFromSeed(RandomNumberGenerator.GetBytes(MlDsa65.SeedSize))),
        _ => throw new ArgumentOutOfRangeException(nameof(type)),
    };

    /// <summary>A copy of the public key object, for building metadata.</summary>
    public Dictionary<string, object?> KeyObjectCopy() => new(_keyObject.ToDictionary(
        p => p.Key,
        p => p.Value is Dictionary<string, object?> d ? new Dictionary<string, object?>(d, StringComparer.Ordinal) : p.Value,
        StringComparer.Ordinal), StringComparer.Ordinal);

    /// <summary>Signs <paramref name="data"/> the way <see cref="TufKey"/> verifies it.</summary>
    public byte[] Sign(byte[] data)
    {
        switch (Type)
        {
            case SigningKeyType.Ed25519:
                var signature = new byte[Ed25519.SignatureSize];
                Ed25519.Sign(_ed25519Seed!, 0, data, 0, data.Length, signature, 0);
                return signature;
            case SigningKeyType.EcdsaP256:
                return _ecdsa!.SignData(data, HashAlgorithmName.SHA256, DSASignatureFormat.Rfc3279DerSequence);
            case SigningKeyType.MlDsa65:
                return MlDsa65.Sign(_mlDsa!, data);
            default:
                // RSASignaturePadding.Pss uses a salt as long as the digest (32 bytes), MGF1 with the same hash.
                return _rsa!.SignData(data, HashAlgorithmName.SHA256, RSASignaturePadding.Pss);
        }
    }

    /// <summary>The unencrypted PKCS#8 PrivateKeyInfo (DER). The caller wipes it.</summary>
    internal byte[] ExportPkcs8()
    {
        switch (Type)
        {
            case SigningKeyType.Ed25519:
                {
                    // RFC 8410: PrivateKeyInfo v1 { id-Ed25519, OCTET STRING { OCTET STRING seed } }; v1 (no public
                    // key field) because OpenSSL 3.0 does not read the v2 form.
                    var writer = new System.Formats.Asn1.AsnWriter(System.Formats.Asn1.AsnEncodingRules.DER);
                    using (writer.PushSequence())
                    {
                        writer.WriteInteger(0);
                        using (writer.PushSequence())
                        {
                            writer.WriteObjectIdentifier(Ed25519Oid);
                        }

                        writer.WriteOctetString(CurvePrivateKey(_ed25519Seed!));
                    }

                    return writer.Encode();
                }

            case SigningKeyType.EcdsaP256:
                return _ecdsa!.ExportPkcs8PrivateKey();
            case SigningKeyType.MlDsa65:
                // RFC 9881 PrivateKeyInfo { id-ml-dsa-65, seed [0] } (the 32-byte seed form), as BouncyCastle writes it.
                return PrivateKeyInfoFactory.CreatePrivateKeyInfo(_mlDsa!).GetEncoded();
            default:
                return _rsa!.ExportPkcs8PrivateKey();
        }
    }

    /// <summary>Reads an unencrypted PKCS#8 PrivateKeyInfo of a supported type.</summary>
    internal static RepositoryKey ImportPkcs8(string algorithmOid, ReadOnlySpan<byte> privateKey, byte[] pkcs8, string where)
    {
        try
        {
            switch (algorithmOid)
            {
                case Ed25519Oid:
                    {
                        var reader = new System.Formats.Asn1.AsnReader(privateKey.ToArray(), System.Formats.Asn1.AsnEncodingRules.DER);
                        var seed = reader.ReadOctetString();
                        reader.ThrowIfNotEmpty();
                        if (seed.Length != Ed25519.SecretKeySize)
                        {
                            throw new CryptographicException($"an Ed25519 private key is {Ed25519.SecretKeySize} bytes, got {seed.Length}");
                        }

                        return new RepositoryKey(SigningKeyType.Ed25519, seed, null, null);
                    }

                case "1.2.840.10045.2.1":
                    {
                        var ecdsa = ECDsa.Create();
                        try
                        {
                            ecdsa.ImportPkcs8PrivateKey(pkcs8, out _);
                            var curve = ecdsa.ExportParameters(false).Curve;
                            if (!curve.IsNamed || curve.Oid.Value != "1.2.840.10045.3.1.7")
                            {
                                throw new CryptographicException("the ECDSA key is not on curve P-256");
                            }

                            return new RepositoryKey(SigningKeyType.EcdsaP256, null, ecdsa, null);
                        }
                        catch
                        {
                            ecdsa.Dispose();
                            throw;
                        }
                    }

                case "1.2.840.113549.1.1.1":
                case "1.2.840.113549.1.1.10":
                    {
                        var rsa = RSA.Create();
                        try
                        {
                            rsa.ImportPkcs8PrivateKey(pkcs8, out _);
                            if (rsa.KeySize < 2048)
                            {
                                throw new CryptographicException($"RSA keys shorter than 2048 bits are refused (got {rsa.KeySize})");
                            }

                            return new RepositoryKey(SigningKeyType.RsaPss, null, null, rsa);
                        }
                        catch
                        {
                            rsa.Dispose();
                            throw;
                        }
                    }

                case MlDsa65.Oid:
                    {
                        // Any of RFC 9881's forms (seed, expanded key, both); BouncyCastle checks that they agree.
                        if (PrivateKeyFactory.CreateKey(pkcs8) is not MLDsaPrivateKeyParameters mlDsa || mlDsa.Parameters != MLDsaParameters.ml_dsa_65)
                        {
                            throw new CryptographicException("the key is not an ML-DSA-65 private key");
                        }

                        return new RepositoryKey(SigningKeyType.MlDsa65, null, null, null, mlDsa);
                    }

                default:
                    throw new SigningException(SigningFailure.KeyFileInvalid, $"{where} holds a key of algorithm {algorithmOid}; supported are Ed25519, ECDSA P-256, RSA (PSS) and ML-DSA-65");
            }
        }
        catch (Exception e) when (e is CryptographicException or System.Formats.Asn1.AsnContentException or ArgumentException or InvalidOperationException or Org.BouncyCastle.Crypto.CryptoException or IOException)
        {
            throw new SigningException(SigningFailure.KeyFileInvalid, $"{where} does not hold a valid private key ({e.Message}); the file was altered or damaged", e);
        }
    }

    /// <inheritdoc />
    public void Dispose()
    {
        if (_ed25519Seed is not null)
        {
            CryptographicOperations.ZeroMemory(_ed25519Seed);
        }

        _ecdsa?.Dispose();
        _rsa?.Dispose();
    }

    private static Dictionary<string, object?> KeyObjectFor(string keyType, string scheme, string publicValue) => new(StringComparer.Ordinal)
    {
        ["keytype"] = keyType,
        ["scheme"] = scheme,
        ["keyval"] = new Dictionary<string, object?>(StringComparer.Ordinal) { ["public"] = publicValue },
    };

    private static byte[] Ed25519Public(byte[] seed)
    {
        var pk = new byte[Ed25519.PublicKeySize];
        Ed25519.GeneratePublicKey(seed, 0, pk, 0);
        return pk;
    }

    private static byte[] CurvePrivateKey(byte[] seed)
    {
        var writer = new System.Formats.Asn1.AsnWriter(System.Formats.Asn1.AsnEncodingRules.DER);
        writer.WriteOctetString(seed);
        return writer.Encode();
    }
}
