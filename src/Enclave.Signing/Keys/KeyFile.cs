using System.Formats.Asn1;
using System.Security.Cryptography;
using System.Security.Cryptography.Pkcs;
using System.Text;
using Enclave.Core.Storage;

namespace Enclave.Signing.Keys;

/// <summary>
/// Key files: the private key as a PEM <c>ENCRYPTED PRIVATE KEY</c> (PKCS#8 EncryptedPrivateKeyInfo, PBES2 with
/// PBKDF2-HMAC-SHA256 and AES-256-CBC, readable by <c>openssl pkey</c>), and beside it <c>NAME.pub.json</c>, the
/// public TUF key object with its key ID. Loading checks the decrypted key against the public file, so a damaged or
/// swapped key file is refused rather than signing with an unexpected key. Refusals are <see cref="SigningException"/>
/// with a reason (<see cref="SigningFailure.KeyFileInvalid"/>, <see cref="SigningFailure.KeyDecryptionFailed"/>, ...)
/// and a message that names the file.
/// </summary>
public static class KeyFile
{
    /// <summary>PBKDF2 iterations used when writing (OWASP 2023 guidance for PBKDF2-HMAC-SHA256).</summary>
    public const int Iterations = 600_000;

    /// <summary>Most PBKDF2 iterations accepted when reading: a file asking for more is refused, not ground through.</summary>
    public const int MaxIterations = 10_000_000;

    /// <summary>Shortest passphrase accepted for new key files.</summary>
    public const int MinPassphraseLength = 12;

    /// <summary>Largest key file read.</summary>
    private const int MaxFileBytes = 64 * 1024;

    private const string PemLabel = "ENCRYPTED PRIVATE KEY";
    private const string Pbes2Oid = "1.2.840.113549.1.5.13";
    private const string Pbkdf2Oid = "1.2.840.113549.1.5.12";

    /// <summary>The extension of private key files.</summary>
    public const string PrivateExtension = ".pem";

    /// <summary>The public key file beside <paramref name="privatePath"/>: <c>NAME.pem</c> → <c>NAME.pub.json</c>.</summary>
    public static string PublicPath(string privatePath)
    {
        ArgumentException.ThrowIfNullOrEmpty(privatePath);
        var stem = privatePath.EndsWith(PrivateExtension, StringComparison.Ordinal) ? privatePath[..^PrivateExtension.Length] : privatePath;
        return stem + ".pub.json";
    }

    /// <summary>
    /// Writes <paramref name="key"/> encrypted under <paramref name="passphrase"/> to <paramref name="privatePath"/>
    /// (mode 0600) and its public key to <see cref="PublicPath"/>. Refuses to overwrite either file.
    /// </summary>
    public static void Write(string privatePath, RepositoryKey key, Passphrase passphrase)
    {
        ArgumentException.ThrowIfNullOrEmpty(privatePath);
        ArgumentNullException.ThrowIfNull(key);
        ArgumentNullException.ThrowIfNull(passphrase);
        CheckNewPassphrase(passphrase);

        var pkcs8 = key.ExportPkcs8();
        byte[] encrypted;
        try
        {
            var info = Pkcs8PrivateKeyInfo.Decode(pkcs8, out _, skipCopy: true);
            encrypted = info.Encrypt(passphrase.Span, new PbeParameters(PbeEncryptionAlgorithm.Aes256Cbc, HashAlgorithmName.SHA256, Iterations));
        }
        finally
        {
            CryptographicOperations.ZeroMemory(pkcs8);
        }

        var pem = PemEncoding.WriteString(PemLabel, encrypted) + "\n";
        WriteNew(privatePath, Encoding.ASCII.GetBytes(pem), privateFile: true);
        try
        {
            WriteNew(PublicPath(privatePath), PublicKeyJson(key), privateFile: false);
        }
        catch
        {
            File.Delete(privatePath);
            throw;
        }
    }

    /// <summary>Refuses an empty or short passphrase for new key files.</summary>
    public static void CheckNewPassphrase(Passphrase passphrase)
    {
        ArgumentNullException.ThrowIfNull(passphrase);
        if (passphrase.Length < MinPassphraseLength)
        {
            throw new SigningException(SigningFailure.InvalidArgument, $"the passphrase for new key files must be at least {MinPassphraseLength} characters (got {passphrase.Length})");
        }
    }

    /// <summary>The public key file's content: the TUF key object plus its <c>keyid</c>.</summary>
    public static byte[] PublicKeyJson(RepositoryKey key)
    {
        ArgumentNullException.ThrowIfNull(key);
        var obj = key.KeyObjectCopy();
        obj["keyid"] = key.KeyId;
        return TufJsonFormat.Serialize(obj);
    }

    /// <summary>
    /// Reads the public key file beside <paramref name="privatePath"/> and returns its key ID, or null when there is
    /// none. The ID must match the key object (a hand-edited file is refused).
    /// </summary>
    public static string? ReadPublicKeyId(string privatePath)
    {
        var path = PublicPath(privatePath);
        if (!File.Exists(path))
        {
            return null;
        }

        var bytes = ReadBounded(path);
        try
        {
            var obj = TufJsonFormat.Parse(bytes, 8) as Dictionary<string, object?> ?? throw Malformed($"{path} is not an object");
            var keyId = (obj.TryGetValue("keyid", out var id) ? id : throw Malformed($"{path} has no \"keyid\"")) as string
                ?? throw Malformed($"{path}.keyid is not a string");
            obj.Remove("keyid");
            var key = TufKey.Parse(keyId, obj, requireKeyIdMatch: true, path);
            return key.IsSupported ? key.KeyId : throw new SigningException(SigningFailure.KeyFileInvalid, $"{path} holds a {key.Scheme} key, which is not supported");
        }
        catch (SigningException e) when (e.Reason is SigningFailure.Malformed or SigningFailure.NonCanonical)
        {
            throw new SigningException(SigningFailure.KeyFileInvalid, $"public key file {path} is invalid: {e.Message}", e);
        }
    }

    /// <summary>
    /// Decrypts the key at <paramref name="privatePath"/>. A wrong passphrase, a damaged file, an unencrypted key, or
    /// a key that does not match its <c>.pub.json</c> is refused with a message naming the file.
    /// </summary>
    public static RepositoryKey Read(string privatePath, Passphrase passphrase)
    {
        ArgumentException.ThrowIfNullOrEmpty(privatePath);
        ArgumentNullException.ThrowIfNull(passphrase);
        var text = Encoding.ASCII.GetString(ReadBounded(privatePath));
        if (!PemEncoding.TryFind(text, out var fields))
        {
            throw new SigningException(SigningFailure.KeyFileInvalid, $"{privatePath} is not a PEM file (expected -----BEGIN {PemLabel}-----)");
        }

        var label = text[fields.Label];
        if (label != PemLabel)
        {
            var hint = label is "PRIVATE KEY" or "EC PRIVATE KEY" or "RSA PRIVATE KEY" or "OPENSSH PRIVATE KEY"
                ? "; unencrypted private keys are refused: encrypt it, e.g. openssl pkcs8 -topk8 -v2 aes-256-cbc -v2prf hmacWithSHA256 -iter 600000"
                : string.Empty;
            throw new SigningException(SigningFailure.KeyFileInvalid, $"{privatePath} holds a PEM \"{label}\", not an \"{PemLabel}\"{hint}");
        }

        var der = new byte[fields.DecodedDataLength];
        if (!Convert.TryFromBase64Chars(text.AsSpan()[fields.Base64Data], der, out var written) || written != der.Length)
        {
            throw new SigningException(SigningFailure.KeyFileInvalid, $"{privatePath} has invalid base64 inside its PEM block; the file was altered or damaged");
        }

        CheckEncryption(der, privatePath);
        Pkcs8PrivateKeyInfo info;
        try
        {
            info = Pkcs8PrivateKeyInfo.DecryptAndDecode(passphrase.Span, der, out var read);
            if (read != der.Length)
            {
                throw new SigningException(SigningFailure.KeyFileInvalid, $"{privatePath} has data after its encrypted key; the file was altered or damaged");
            }
        }
        catch (CryptographicException e)
        {
            throw new SigningException(SigningFailure.KeyDecryptionFailed, $"cannot decrypt {privatePath}: the passphrase is wrong or the file is damaged", e);
        }

        var pkcs8 = info.Encode();
        RepositoryKey key;
        try
        {
            key = RepositoryKey.ImportPkcs8(info.AlgorithmId.Value ?? string.Empty, info.PrivateKeyBytes.Span, pkcs8, privatePath);
        }
        finally
        {
            CryptographicOperations.ZeroMemory(pkcs8);
        }

        try
        {
            var expected = ReadPublicKeyId(privatePath);
            if (expected is not null && !string.Equals(expected, key.KeyId, StringComparison.Ordinal))
            {
                throw new SigningException(SigningFailure.KeyFileInvalid, $"the private key in {privatePath} (key {key.ShortId}) does not match {PublicPath(privatePath)} (key {TufKey.Short(expected)}); one of them was altered or swapped");
            }

            return key;
        }
        catch
        {
            key.Dispose();
            throw;
        }
    }

    /// <summary>Accepts PBES2 with PBKDF2 only, with a bounded iteration count, before any key derivation runs.</summary>
    private static void CheckEncryption(byte[] der, string where)
    {
        try
        {
            var reader = new AsnReader(der, AsnEncodingRules.DER);
            var info = reader.ReadSequence();
            reader.ThrowIfNotEmpty();
            var algorithm = info.ReadSequence();
            var scheme = algorithm.ReadObjectIdentifier();
            if (scheme != Pbes2Oid)
            {
                throw new SigningException(SigningFailure.KeyFileInvalid, $"{where} is encrypted with scheme {scheme}; only PBES2 (PKCS#5 v2) is accepted, re-encrypt with openssl pkcs8 -topk8 -v2 aes-256-cbc");
            }

            var parameters = algorithm.ReadSequence();
            var kdf = parameters.ReadSequence();
            var kdfOid = kdf.ReadObjectIdentifier();
            if (kdfOid != Pbkdf2Oid)
            {
                throw new SigningException(SigningFailure.KeyFileInvalid, $"{where} derives its key with {kdfOid}; only PBKDF2 is accepted");
            }

            var kdfParams = kdf.ReadSequence();
            kdfParams.ReadOctetString();
            if (!kdfParams.TryReadInt32(out var iterations) || iterations < 1 || iterations > MaxIterations)
            {
                throw new SigningException(SigningFailure.KeyFileInvalid, $"{where} asks for a PBKDF2 iteration count outside 1 to {MaxIterations}; the file was altered or damaged");
            }
        }
        catch (AsnContentException e)
        {
            throw new SigningException(SigningFailure.KeyFileInvalid, $"{where} is not a PKCS#8 EncryptedPrivateKeyInfo ({e.Message}); the file was altered or damaged", e);
        }
    }

    private static SigningException Malformed(string what) =>
        new(SigningFailure.Malformed, $"malformed metadata: {what}");

    private static void WriteNew(string path, ReadOnlySpan<byte> content, bool privateFile)
    {
        if (!AtomicFile.TryWriteNew(path, content, privateFile))
        {
            throw new SigningException(SigningFailure.OutputExists, $"{path} already exists; nothing was overwritten");
        }
    }

    private static byte[] ReadBounded(string path)
    {
        using var stream = new FileStream(path, FileMode.Open, FileAccess.Read, FileShare.Read);
        if (stream.Length > MaxFileBytes)
        {
            throw new SigningException(SigningFailure.KeyFileInvalid, $"{path} is {stream.Length} bytes; a key file is at most {MaxFileBytes}");
        }

        var bytes = new byte[stream.Length];
        stream.ReadExactly(bytes);
        return bytes;
    }
}
