using System.Diagnostics;
using System.Formats.Asn1;
using System.Security.Cryptography;
using System.Text;
using Enclave.Signing.Keys;
using Xunit.Abstractions;

namespace Enclave.Signing.Tests.Keys;

public sealed class RepositoryKeyFileTests(ITestOutputHelper output) : IDisposable
{
    private const string Secret = "key file test passphrase";
    private readonly string _root = Directory.CreateTempSubdirectory("enclave-keyfile-").FullName;

    public void Dispose() => Directory.Delete(_root, recursive: true);

    public static TheoryData<SigningKeyType> Types => [SigningKeyType.Ed25519, SigningKeyType.EcdsaP256, SigningKeyType.RsaPss];

    [Theory]
    [MemberData(nameof(Types))]
    public void WriteThenRead_RoundTrips_AndSignaturesVerifyWithTheVerifiersKey(SigningKeyType type)
    {
        var path = Path.Combine(_root, "k.pem");
        using (var key = RepositoryKey.Generate(type))
        using (var passphrase = Passphrase.FromString(Secret))
        {
            KeyFile.Write(path, key, passphrase);
        }

        using var loaded = Read(path, Secret);
        Assert.Equal(type, loaded.Type);
        Assert.Equal(loaded.KeyId, KeyFile.ReadPublicKeyId(path));

        // The verifier parses the public key object with its own key-ID rule and checks the signature.
        var tufKey = TufKey.Parse(loaded.KeyId, loaded.KeyObjectCopy(), requireKeyIdMatch: true, "test");
        var data = Encoding.UTF8.GetBytes("signed body");
        Assert.True(tufKey.Verify(data, loaded.Sign(data)));
        Assert.False(tufKey.Verify(Encoding.UTF8.GetBytes("other body"), loaded.Sign(data)));
        if (!OperatingSystem.IsWindows())
        {
            Assert.Equal(UnixFileMode.UserRead | UnixFileMode.UserWrite, File.GetUnixFileMode(path));
        }
    }

    [Fact]
    public void Write_UsesPbes2_Pbkdf2HmacSha256_600000Iterations_Aes256Cbc()
    {
        var path = WriteKey(SigningKeyType.Ed25519);
        var der = Der(path);
        var reader = new AsnReader(der, AsnEncodingRules.DER).ReadSequence();
        var algorithm = reader.ReadSequence();
        Assert.Equal("1.2.840.113549.1.5.13", algorithm.ReadObjectIdentifier()); // PBES2
        var parameters = algorithm.ReadSequence();
        var kdf = parameters.ReadSequence();
        Assert.Equal("1.2.840.113549.1.5.12", kdf.ReadObjectIdentifier()); // PBKDF2
        var kdfParams = kdf.ReadSequence();
        Assert.Equal(16, kdfParams.ReadOctetString().Length);
        Assert.True(kdfParams.TryReadInt32(out var iterations));
        Assert.Equal(600_000, iterations);
        var prf = kdfParams.ReadSequence();
        Assert.Equal("1.2.840.113549.2.9", prf.ReadObjectIdentifier()); // hmacWithSHA256
        var cipher = parameters.ReadSequence();
        Assert.Equal("2.16.840.1.101.3.4.1.42", cipher.ReadObjectIdentifier()); // aes256-CBC
        Assert.StartsWith("-----BEGIN ENCRYPTED PRIVATE KEY-----\n", File.ReadAllText(path), StringComparison.Ordinal);
    }

    [Fact]
    public void Read_WithWrongPassphrase_IsRefusedWithAClearError()
    {
        var path = WriteKey(SigningKeyType.Ed25519);
        var e = Assert.Throws<SigningException>(() => Read(path, "not the passphrase at all"));
        Assert.Equal(SigningFailure.KeyDecryptionFailed, e.Reason);
        Assert.Contains("passphrase is wrong", e.Message, StringComparison.Ordinal);
        Assert.Contains(path, e.Message, StringComparison.Ordinal);
    }

    [Theory]
    [InlineData(SigningKeyType.Ed25519, "first ciphertext block")]
    [InlineData(SigningKeyType.Ed25519, "middle ciphertext block")]
    [InlineData(SigningKeyType.Ed25519, "last ciphertext byte")]
    [InlineData(SigningKeyType.EcdsaP256, "middle ciphertext block")]
    [InlineData(SigningKeyType.Ed25519, "salt")]
    public void Read_TamperedKeyFile_IsRefused_NeverYieldsAnotherKey(SigningKeyType type, string where)
    {
        var path = WriteKey(type);
        var der = Der(path);
        var ciphertext = CiphertextOffset(der);
        var index = where switch
        {
            "first ciphertext block" => ciphertext + 3,
            "middle ciphertext block" => ciphertext + 20,
            "last ciphertext byte" => der.Length - 1,
            _ => SaltOffset(der),
        };
        der[index] ^= 0x40;
        WriteDer(path, der);

        var e = Assert.Throws<SigningException>(() => Read(path, Secret));
        Assert.True(e.Reason is SigningFailure.KeyDecryptionFailed or SigningFailure.KeyFileInvalid, e.Reason + ": " + e.Message);
        Assert.Contains(path, e.Message, StringComparison.Ordinal);
    }

    [Fact]
    public void Read_HugeIterationCount_IsRefusedBeforeDerivingAKey()
    {
        // A well-formed EncryptedPrivateKeyInfo asking for 2^31-1 PBKDF2 rounds (hours of work) must be refused up front.
        var writer = new AsnWriter(AsnEncodingRules.DER);
        using (writer.PushSequence())
        {
            using (writer.PushSequence())
            {
                writer.WriteObjectIdentifier("1.2.840.113549.1.5.13");
                using (writer.PushSequence())
                {
                    using (writer.PushSequence())
                    {
                        writer.WriteObjectIdentifier("1.2.840.113549.1.5.12");
                        using (writer.PushSequence())
                        {
                            writer.WriteOctetString(new byte[16]);
                            writer.WriteInteger(int.MaxValue);
                        }
                    }

                    using (writer.PushSequence())
                    {
                        writer.WriteObjectIdentifier("2.16.840.1.101.3.4.1.42");
                        writer.WriteOctetString(new byte[16]);
                    }
                }
            }

            writer.WriteOctetString(new byte[64]);
        }

        var path = Path.Combine(_root, "slow.pem");
        WriteDer(path, writer.Encode());
        var e = Assert.Throws<SigningException>(() => Read(path, Secret));
        Assert.Equal(SigningFailure.KeyFileInvalid, e.Reason);
        Assert.Contains("iteration", e.Message, StringComparison.Ordinal);
    }

    [Fact]
    public void Read_TruncatedOrGarbage_IsRefused()
    {
        var path = WriteKey(SigningKeyType.Ed25519);
        var text = File.ReadAllText(path);
        File.WriteAllText(path, text[..(text.Length / 2)]);
        Assert.Equal(SigningFailure.KeyFileInvalid, Assert.Throws<SigningException>(() => Read(path, Secret)).Reason);

        File.WriteAllText(path, "-----BEGIN ENCRYPTED PRIVATE KEY-----\nAAAA\n-----END ENCRYPTED PRIVATE KEY-----\n");
        Assert.Equal(SigningFailure.KeyFileInvalid, Assert.Throws<SigningException>(() => Read(path, Secret)).Reason);

        File.WriteAllBytes(path, new byte[100_000]);
        Assert.Equal(SigningFailure.KeyFileInvalid, Assert.Throws<SigningException>(() => Read(path, Secret)).Reason);
    }

    [Fact]
    public void Read_UnencryptedPrivateKey_IsRefused()
    {
        var path = Path.Combine(_root, "plain.pem");
        using var ecdsa = ECDsa.Create(ECCurve.NamedCurves.nistP256);
        File.WriteAllText(path, ecdsa.ExportPkcs8PrivateKeyPem());
        var e = Assert.Throws<SigningException>(() => Read(path, Secret));
        Assert.Equal(SigningFailure.KeyFileInvalid, e.Reason);
        Assert.Contains("unencrypted private keys are refused", e.Message, StringComparison.Ordinal);
    }

    [Fact]
    public void Read_PrivateKeySwappedUnderItsPublicKeyFile_IsRefused()
    {
        var first = WriteKey(SigningKeyType.Ed25519, "first.pem");
        var second = WriteKey(SigningKeyType.Ed25519, "second.pem");
        File.Copy(second, first, overwrite: true);
        var e = Assert.Throws<SigningException>(() => Read(first, Secret));
        Assert.Equal(SigningFailure.KeyFileInvalid, e.Reason);
        Assert.Contains("does not match", e.Message, StringComparison.Ordinal);
    }

    [Fact]
    public void Read_EditedPublicKeyFile_IsRefused()
    {
        var path = WriteKey(SigningKeyType.Ed25519);
        var pub = KeyFile.PublicPath(path);
        var text = File.ReadAllText(pub);
        var edited = text.Replace("\"keyid\": \"", "\"keyid\": \"00", StringComparison.Ordinal);
        Assert.NotEqual(text, edited);
        File.WriteAllText(pub, edited);
        Assert.Equal(SigningFailure.KeyFileInvalid, Assert.Throws<SigningException>(() => Read(path, Secret)).Reason);
    }

    [Fact]
    public void Write_RefusesShortPassphrase_AndExistingFile()
    {
        using var key = RepositoryKey.Generate(SigningKeyType.Ed25519);
        using (var weak = Passphrase.FromString("short"))
        {
            Assert.Equal(SigningFailure.InvalidArgument, Assert.Throws<SigningException>(() => KeyFile.Write(Path.Combine(_root, "weak.pem"), key, weak)).Reason);
        }

        Assert.False(File.Exists(Path.Combine(_root, "weak.pem")));
        var path = WriteKey(SigningKeyType.Ed25519);
        var before = File.ReadAllBytes(path);
        using var passphrase = Passphrase.FromString(Secret);
        Assert.Equal(SigningFailure.OutputExists, Assert.Throws<SigningException>(() => KeyFile.Write(path, key, passphrase)).Reason);
        Assert.Equal(before, File.ReadAllBytes(path));
    }

    [Theory]
    [MemberData(nameof(Types))]
    public async Task OpenSsl_ReadsTheEncryptedKey_AndDerivesTheSamePublicKey(SigningKeyType type)
    {
        if (!OpenSslAvailable())
        {
            return;
        }

        var path = WriteKey(type);
        using var key = Read(path, Secret);
        var (code, stdout, stderr) = await OpenSsl(["pkey", "-in", path, "-passin", "env:ENCLAVE_TEST_PASSPHRASE", "-pubout"]);
        Assert.True(code == 0, stderr);
        var spki = PemEncoding.Find(stdout);
        var der = Convert.FromBase64String(stdout[spki.Base64Data]);
        var publicValue = (string)((Dictionary<string, object?>)key.KeyObject["keyval"]!)["public"]!;
        if (type == SigningKeyType.Ed25519)
        {
            Assert.Equal(publicValue, Convert.ToHexStringLower(der[^32..]));
        }
        else
        {
            var ours = PemEncoding.Find(publicValue);
            Assert.Equal(Convert.FromBase64String(publicValue[ours.Base64Data]), der);
        }

        var (wrongCode, _, _) = await OpenSsl(["pkey", "-in", path, "-passin", "pass:wrong passphrase", "-noout"]);
        Assert.NotEqual(0, wrongCode);
    }

    [Fact]
    public async Task KeyEncryptedByOpenSsl_IsRead_AndSigns()
    {
        if (!OpenSslAvailable())
        {
            return;
        }

        var plain = Path.Combine(_root, "openssl-plain.pem");
        var path = Path.Combine(_root, "openssl.pem");
        Assert.Equal(0, (await OpenSsl(["genpkey", "-algorithm", "ed25519", "-out", plain])).Code);
        var (code, _, stderr) = await OpenSsl(["pkcs8", "-topk8", "-in", plain, "-out", path, "-v2", "aes-256-cbc", "-v2prf", "hmacWithSHA256", "-iter", "600000", "-passout", "env:ENCLAVE_TEST_PASSPHRASE"]);
        Assert.True(code == 0, stderr);

        using var key = Read(path, Secret);
        Assert.Equal(SigningKeyType.Ed25519, key.Type);
        var tufKey = TufKey.Parse(key.KeyId, key.KeyObjectCopy(), requireKeyIdMatch: true, "test");
        Assert.True(tufKey.Verify([1, 2, 3], key.Sign([1, 2, 3])));
    }

    private static RepositoryKey Read(string path, string secret)
    {
        using var passphrase = Passphrase.FromString(secret);
        return KeyFile.Read(path, passphrase);
    }

    private string WriteKey(SigningKeyType type, string name = "key.pem")
    {
        var path = Path.Combine(_root, name);
        using var key = RepositoryKey.Generate(type);
        using var passphrase = Passphrase.FromString(Secret);
        KeyFile.Write(path, key, passphrase);
        return path;
    }

    private static byte[] Der(string path)
    {
        var text = File.ReadAllText(path);
        return Convert.FromBase64String(text[PemEncoding.Find(text).Base64Data]);
    }

    private static void WriteDer(string path, byte[] der) =>
        File.WriteAllText(path, PemEncoding.WriteString("ENCRYPTED PRIVATE KEY", der) + "\n");

    private static int CiphertextOffset(byte[] der)
    {
        var outer = new AsnReader(der, AsnEncodingRules.DER).ReadSequence();
        outer.ReadSequence();
        var remaining = outer.PeekEncodedValue().Length;
        var header = remaining - outer.ReadOctetString().Length;
        return der.Length - remaining + header;
    }

    private static int SaltOffset(byte[] der)
    {
        // SEQUENCE { SEQUENCE { PBES2 OID, SEQUENCE { SEQUENCE { PBKDF2 OID, SEQUENCE { OCTET STRING salt ...
        var at = der.AsSpan().IndexOf(new byte[] { 0x04, 0x10 });
        Assert.True(at > 0);
        return at + 2;
    }

    private bool OpenSslAvailable()
    {
        var found = (Environment.GetEnvironmentVariable("PATH") ?? string.Empty).Split(Path.PathSeparator)
            .Any(dir => File.Exists(Path.Combine(dir, "openssl")));
        if (found)
        {
            return true;
        }

        Assert.False(string.Equals(Environment.GetEnvironmentVariable("CI"), "true", StringComparison.OrdinalIgnoreCase), "openssl is required under CI=true: install it (apt-get install openssl)");
        output.WriteLine("SKIPPED: openssl is not installed, so interoperability with openssl pkey was not checked");
        return false;
    }

    private static async Task<(int Code, string Stdout, string Stderr)> OpenSsl(string[] arguments)
    {
        var start = new ProcessStartInfo("openssl") { RedirectStandardOutput = true, RedirectStandardError = true, UseShellExecute = false };
        foreach (var argument in arguments)
        {
            start.ArgumentList.Add(argument);
        }

        start.Environment["ENCLAVE_TEST_PASSPHRASE"] = Secret;
        using var process = Process.Start(start)!;
        using var deadline = new CancellationTokenSource(TimeSpan.FromMinutes(2));
        var stdout = process.StandardOutput.ReadToEndAsync(deadline.Token);
        var stderr = process.StandardError.ReadToEndAsync(deadline.Token);
        await process.WaitForExitAsync(deadline.Token);
        return (process.ExitCode, await stdout, await stderr);
    }
}
