using System.Security.Cryptography;
using Enclave.Airlock.Tuf;
using Enclave.Core;
using Org.BouncyCastle.Math.EC.Rfc8032;

namespace Enclave.Airlock.Tests.Tuf;

/// <summary>A signing key for test repositories, with its TUF key object.</summary>
internal abstract class TestKey
{
    public abstract Dictionary<string, object?> KeyObject { get; }

    public string KeyId => Sha256Digest.Compute(TufJson.Canonicalize(KeyObject)).ToHex();

    public abstract byte[] SignRaw(byte[] data);

    public static TestKey Ed25519() => new Ed25519TestKey();

    public static TestKey Ecdsa() => new EcdsaTestKey();

    public static TestKey Rsa() => new RsaTestKey();

    protected static Dictionary<string, object?> Key(string keyType, string scheme, string publicValue) => new()
    {
        ["keytype"] = keyType,
        ["scheme"] = scheme,
        ["keyval"] = new Dictionary<string, object?> { ["public"] = publicValue },
    };

    private sealed class Ed25519TestKey : TestKey
    {
        private readonly byte[] _seed = RandomNumberGenerator.GetBytes(32);
        private readonly Dictionary<string, object?> _key;

        public Ed25519TestKey()
        {
            var pk = new byte[32];
            Org.BouncyCastle.Math.EC.Rfc8032.Ed25519.GeneratePublicKey(_seed, 0, pk, 0);
            _key = Key("ed25519", "ed25519", Convert.ToHexStringLower(pk));
        }

        public override Dictionary<string, object?> KeyObject => _key;

        public override byte[] SignRaw(byte[] data)
        {
            var sig = new byte[64];
            Org.BouncyCastle.Math.EC.Rfc8032.Ed25519.Sign(_seed, 0, data, 0, data.Length, sig, 0);
            return sig;
        }
    }

    private sealed class EcdsaTestKey : TestKey
    {
        private readonly ECDsa _ecdsa = System.Security.Cryptography.ECDsa.Create(ECCurve.NamedCurves.nistP256);
        private readonly Dictionary<string, object?> _key;

        public EcdsaTestKey() => _key = Key("ecdsa", "ecdsa-sha2-nistp256", _ecdsa.ExportSubjectPublicKeyInfoPem());

        public override Dictionary<string, object?> KeyObject => _key;

        public override byte[] SignRaw(byte[] data) => _ecdsa.SignData(data, HashAlgorithmName.SHA256, DSASignatureFormat.Rfc3279DerSequence);
    }

    private sealed class RsaTestKey : TestKey
    {
        private static readonly System.Security.Cryptography.RSA Shared = System.Security.Cryptography.RSA.Create(2048);
        private readonly Dictionary<string, object?> _key = Key("rsa", "rsassa-pss-sha256", Shared.ExportSubjectPublicKeyInfoPem());

        public override Dictionary<string, object?> KeyObject => _key;

        public override byte[] SignRaw(byte[] data) => Shared.SignData(data, HashAlgorithmName.SHA256, RSASignaturePadding.Pss);
    }
}

/// <summary>An RSA-PSS key that signs with the maximum salt length, as older securesystemslib did.</summary>
internal sealed class RsaMaxSaltTestKey : TestKey
{
    private static readonly System.Security.Cryptography.RSA Shared = System.Security.Cryptography.RSA.Create(2048);
    private readonly Dictionary<string, object?> _key = Key("rsa", "rsassa-pss-sha256", Shared.ExportSubjectPublicKeyInfoPem());

    public override Dictionary<string, object?> KeyObject => _key;

    public override byte[] SignRaw(byte[] data)
    {
        var pair = Org.BouncyCastle.Security.DotNetUtilities.GetRsaKeyPair(Shared);
        var signer = new Org.BouncyCastle.Crypto.Signers.PssSigner(
            new Org.BouncyCastle.Crypto.Engines.RsaBlindedEngine(), new Org.BouncyCastle.Crypto.Digests.Sha256Digest(), 256 - 32 - 2);
        signer.Init(true, pair.Private);
        signer.BlockUpdate(data, 0, data.Length);
        return signer.GenerateSignature();
    }
}
