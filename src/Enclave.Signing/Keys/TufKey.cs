using System.Security.Cryptography;
using Enclave.Core;
using Org.BouncyCastle.Crypto.Parameters;
using Org.BouncyCastle.Math.EC.Rfc8032;

namespace Enclave.Signing.Keys;

/// <summary>
/// A public key from root or delegations metadata (spec §4.2): ed25519 (hex), ecdsa-sha2-nistp256 (PEM, DER
/// signatures), rsassa-pss-sha256 (PEM, salt length 32 or the maximum) or rsa-pkcs1v15-sha256 (PEM; the
/// securesystemslib scheme that tuf-conformance's repository signs with), or ml-dsa-65 (hex of the FIPS 204 public
/// key; pure ML-DSA-65 with an empty context, this project's post-quantum key type, which TUF does not register).
/// Keys of other types parse but never verify. The airlock's TUF client verifies metadata signatures with it; the
/// trust repository's <see cref="RepositoryKey"/> computes its key IDs with <see cref="ComputeKeyId"/>, so what the
/// repository writes is what the client accepts. A malformed key is a <see cref="SigningException"/> with reason
/// <see cref="SigningFailure.Malformed"/>, which the airlock turns into its own rejection.
/// </summary>
public sealed record TufKey
{
    /// <summary>The key ID: SHA-256 hex of the key object's canonical JSON.</summary>
    public required string KeyId { get; init; }

    /// <summary><c>ed25519</c>, <c>ecdsa</c>, <c>ecdsa-sha2-nistp256</c> or <c>rsa</c>.</summary>
    public required string KeyType { get; init; }

    /// <summary><c>ed25519</c>, <c>ecdsa-sha2-nistp256</c>, <c>rsassa-pss-sha256</c> or <c>rsa-pkcs1v15-sha256</c>.</summary>
    public required string Scheme { get; init; }

    /// <summary><c>keyval.public</c> as it appears in the metadata.</summary>
    public required string PublicValue { get; init; }

    /// <summary>Whether this implementation can verify signatures by this key.</summary>
    public bool IsSupported => Kind != KeyKind.Unsupported;

    /// <summary>Whether this is a post-quantum (<c>ml-dsa-65</c>) key.</summary>
    public bool IsPostQuantum => Kind == KeyKind.MlDsa65;

    /// <summary>What makes two key entries the same key, whatever IDs they are listed under.</summary>
    public string Identity => $"{Scheme}\n{PublicValue.Trim()}";

    private KeyKind Kind { get; init; }

    private byte[] Ed25519PublicKey { get; init; } = [];

    private MLDsaPublicKeyParameters? MlDsa65PublicKey { get; init; }

    private enum KeyKind
    {
        Unsupported,
        Ed25519,
        EcdsaP256,
        RsaPss,
        RsaPkcs1,
        MlDsa65,
    }

    /// <summary>Parses a key object; checks that <paramref name="keyId"/> is its canonical hash when required.</summary>
    public static TufKey Parse(string keyId, object? value, bool requireKeyIdMatch, string where)
    {
        var obj = FieldObject(value, where);
        var keyType = FieldString(obj, "keytype", where);
        var scheme = FieldString(obj, "scheme", where);
        var keyval = FieldObject(FieldRequired(obj, "keyval", where), where + ".keyval");
        var publicValue = FieldString(keyval, "public", where + ".keyval");

        if (requireKeyIdMatch)
        {
            var actual = ComputeKeyId(obj);
            if (!string.Equals(actual, keyId, StringComparison.Ordinal) && !string.Equals(LegacyKeyId(obj), keyId, StringComparison.Ordinal))
            {
                throw new SigningException(SigningFailure.Malformed, $"malformed metadata: {where} has key ID {Short(keyId)} but the key hashes to {Short(actual)}; key IDs must be the SHA-256 of the key's canonical JSON");
            }
        }

        var kind = (keyType, scheme) switch
        {
            ("ed25519", "ed25519") => KeyKind.Ed25519,
            ("ecdsa" or "ecdsa-sha2-nistp256", "ecdsa-sha2-nistp256") => KeyKind.EcdsaP256,
            ("rsa", "rsassa-pss-sha256") => KeyKind.RsaPss,
            ("rsa", "rsa-pkcs1v15-sha256") => KeyKind.RsaPkcs1,
            (MlDsa65.KeyType, MlDsa65.Scheme) => KeyKind.MlDsa65,
            _ => KeyKind.Unsupported,
        };

        var ed = Array.Empty<byte>();
        MLDsaPublicKeyParameters? mlDsa = null;
        try
        {
            switch (kind)
            {
                case KeyKind.Ed25519:
                    ed = Convert.FromHexString(publicValue);
                    if (ed.Length != Ed25519.PublicKeySize || !Ed25519.ValidatePublicKeyPartial(ed, 0))
                    {
                        throw new SigningException(SigningFailure.Malformed, $"malformed metadata: {where} is not a valid Ed25519 public key");
                    }

                    break;
                case KeyKind.EcdsaP256:
                    using (var ecdsa = ImportEcdsa(publicValue))
                    {
                    }

                    break;
                case KeyKind.RsaPss or KeyKind.RsaPkcs1:
                    using (var rsa = ImportRsa(publicValue))
                    {
                    }

                    break;
                case KeyKind.MlDsa65:
                    var encoded = Convert.FromHexString(publicValue);
                    if (encoded.Length != MlDsa65.PublicKeySize)
                    {
                        throw new SigningException(SigningFailure.Malformed, $"malformed metadata: {where} is not a valid ML-DSA-65 public key ({encoded.Length} bytes; FIPS 204 ML-DSA-65 public keys are {MlDsa65.PublicKeySize})");
                    }

                    mlDsa = MlDsa65.PublicKey(encoded);
                    break;
                default:
                    break;
            }
        }
        catch (Exception e) when (e is FormatException or ArgumentException or CryptographicException)
        {
            throw new SigningException(SigningFailure.Malformed, $"malformed metadata: {where} public value is not a valid {scheme} key ({e.Message})", e);
        }

        return new TufKey { KeyId = keyId, KeyType = keyType, Scheme = scheme, PublicValue = publicValue, Kind = kind, Ed25519PublicKey = ed, MlDsa65PublicKey = mlDsa };
    }

    /// <summary>The key ID of a key object (spec §4.2): SHA-256 hex of its canonical JSON. Shared with the repository writer.</summary>
    public static string ComputeKeyId(IReadOnlyDictionary<string, object?> keyObject) =>
        Sha256Digest.Compute(TufJsonFormat.Canonicalize(keyObject)).ToHex();

    /// <summary>Verifies <paramref name="signature"/> over <paramref name="data"/>. Fails closed on any error.</summary>
    public bool Verify(byte[] data, byte[] signature)
    {
        try
        {
            switch (Kind)
            {
                case KeyKind.Ed25519:
                    return signature.Length == Ed25519.SignatureSize
                        && Ed25519.Verify(signature, 0, Ed25519PublicKey, 0, data, 0, data.Length);
                case KeyKind.EcdsaP256:
                    using (var ecdsa = ImportEcdsa(PublicValue))
                    {
                        return ecdsa.VerifyData(data, signature, HashAlgorithmName.SHA256, DSASignatureFormat.Rfc3279DerSequence);
                    }

                case KeyKind.RsaPss:
                    using (var rsa = ImportRsa(PublicValue))
                    {
                        // Salt = digest length (what .NET, python-tuf and go-tuf sign with) first; then the
                        // maximum salt length, which older securesystemslib signers used.
                        return rsa.VerifyData(data, signature, HashAlgorithmName.SHA256, RSASignaturePadding.Pss)
                            || VerifyPssMaxSalt(rsa, data, signature);
                    }

                case KeyKind.RsaPkcs1:
                    using (var rsa = ImportRsa(PublicValue))
                    {
                        return rsa.VerifyData(data, signature, HashAlgorithmName.SHA256, RSASignaturePadding.Pkcs1);
                    }

                case KeyKind.MlDsa65:
                    return MlDsa65.Verify(MlDsa65PublicKey!, data, signature);
                default:
                    return false;
            }
        }
        catch (Exception e) when (e is CryptographicException or ArgumentException or FormatException or InvalidOperationException or Org.BouncyCastle.Crypto.CryptoException)
        {
            return false;
        }
    }

    private static Dictionary<string, object?> FieldObject(object? value, string where) =>
        value as Dictionary<string, object?> ?? throw Bad($"{where} is not an object");

    private static object? FieldRequired(Dictionary<string, object?> obj, string name, string where) =>
        obj.TryGetValue(name, out var value) ? value : throw Bad($"{where} has no \"{name}\"");

    private static string FieldString(Dictionary<string, object?> obj, string name, string where) =>
        FieldRequired(obj, name, where) as string ?? throw Bad($"{where}.{name} is not a string");

    private static SigningException Bad(string what) =>
        new(SigningFailure.Malformed, $"malformed metadata: {what}");

    /// <summary>
    /// The key ID securesystemslib computed before 0.26: over the key with <c>keyid_hash_algorithms</c>
    /// ["sha256","sha512"] added, even where the metadata omits that field. Repositories made by python-tuf then
    /// (including long-lived roots) carry these IDs, so both forms are accepted; either is a hash of the key.
    /// </summary>
    private static string? LegacyKeyId(Dictionary<string, object?> obj)
    {
        if (obj.ContainsKey("keyid_hash_algorithms"))
        {
            return null;
        }

        var legacy = new Dictionary<string, object?>(obj, StringComparer.Ordinal)
        {
            ["keyid_hash_algorithms"] = new List<object?> { "sha256", "sha512" },
        };
        return Sha256Digest.Compute(TufJsonFormat.Canonicalize(legacy)).ToHex();
    }

    private static bool VerifyPssMaxSalt(RSA rsa, byte[] data, byte[] signature)
    {
        var key = (Org.BouncyCastle.Crypto.Parameters.RsaKeyParameters)Org.BouncyCastle.Security.PublicKeyFactory.CreateKey(rsa.ExportSubjectPublicKeyInfo());
        var emLength = (key.Modulus.BitLength - 1 + 7) / 8;
        var maxSalt = emLength - 32 - 2;
        if (maxSalt <= 32)
        {
            return false;
        }

        var signer = new Org.BouncyCastle.Crypto.Signers.PssSigner(
            new Org.BouncyCastle.Crypto.Engines.RsaBlindedEngine(), new Org.BouncyCastle.Crypto.Digests.Sha256Digest(), maxSalt);
        signer.Init(false, key);
        signer.BlockUpdate(data, 0, data.Length);
        return signer.VerifySignature(signature);
    }

    /// <summary>The first 12 hex digits of a key ID, for messages.</summary>
    public static string Short(string keyId) => keyId.Length > 12 ? keyId[..12] : keyId;

    private static ECDsa ImportEcdsa(string pem)
    {
        var ecdsa = ECDsa.Create();
        try
        {
            ecdsa.ImportFromPem(pem);
            var curve = ecdsa.ExportParameters(false).Curve;
            if (!curve.IsNamed || curve.Oid.Value != "1.2.840.10045.3.1.7")
            {
                throw new CryptographicException("the key is not on curve P-256");
            }

            return ecdsa;
        }
        catch
        {
            ecdsa.Dispose();
            throw;
        }
    }

    private static RSA ImportRsa(string pem)
    {
        var rsa = RSA.Create();
        try
        {
            rsa.ImportFromPem(pem);
            if (rsa.KeySize < 2048)
            {
                throw new CryptographicException($"RSA keys shorter than 2048 bits are refused (got {rsa.KeySize})");
            }

            return rsa;
        }
        catch
        {
            rsa.Dispose();
            throw;
        }
    }
}
