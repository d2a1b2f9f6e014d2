using System.Buffers.Binary;
using System.Globalization;
using System.Security.Cryptography;
using System.Text;
using Enclave.Core;

namespace Enclave.Signing.Notes;

/// <summary>
/// The text forms of note keys, as in golang.org/x/mod/sumdb/note:
/// verifier key <c>&lt;name&gt;+&lt;8 hex key ID&gt;+&lt;base64(type || public key)&gt;</c> and
/// private key <c>PRIVATE+KEY+&lt;name&gt;+&lt;8 hex key ID&gt;+&lt;base64(type || private key)&gt;</c>.
/// </summary>
internal static class KeyText
{
    /// <summary>Longest key text accepted; an ML-DSA-44 verifier key is about 1,800 characters.</summary>
    public const int MaxLength = 8 * 1024;

    /// <summary>Signature type byte of Ed25519 note signatures (c2sp.org/signed-note).</summary>
    public const byte Ed25519Type = 0x01;

    /// <summary>Signature type byte of timestamped ML-DSA-44 (sub)tree cosignatures (c2sp.org/tlog-cosignature).</summary>
    public const byte MlDsa44CosignatureType = 0x06;

    private const string PrivatePrefix = "PRIVATE+KEY+";

    /// <summary>key ID = SHA-256(name || 0x0A || type || public key)[:4], big-endian.</summary>
    public static uint ComputeKeyId(string name, byte type, ReadOnlySpan<byte> publicKey)
    {
        var nameLength = Encoding.UTF8.GetByteCount(name);
        var buffer = new byte[nameLength + 2 + publicKey.Length];
        Encoding.UTF8.GetBytes(name, buffer);
        buffer[nameLength] = (byte)'\n';
        buffer[nameLength + 1] = type;
        publicKey.CopyTo(buffer.AsSpan(nameLength + 2));
        Span<byte> hash = stackalloc byte[SHA256.HashSizeInBytes];
        SHA256.HashData(buffer, hash);
        return BinaryPrimitives.ReadUInt32BigEndian(hash);
    }

    /// <summary>Formats <c>name+hexid+base64(type || publicKey)</c>.</summary>
    public static string FormatVerifierKey(string name, uint keyId, byte type, ReadOnlySpan<byte> publicKey)
    {
        var bytes = new byte[1 + publicKey.Length];
        bytes[0] = type;
        publicKey.CopyTo(bytes.AsSpan(1));
        return $"{name}+{FormatKeyId(keyId)}+{Convert.ToBase64String(bytes)}";
    }

    /// <summary>Formats <c>PRIVATE+KEY+name+hexid+base64(type || privateKey)</c>.</summary>
    public static string FormatPrivateKey(string name, uint keyId, byte type, ReadOnlySpan<byte> privateKey)
    {
        var bytes = new byte[1 + privateKey.Length];
        try
        {
            bytes[0] = type;
            privateKey.CopyTo(bytes.AsSpan(1));
            return $"{PrivatePrefix}{name}+{FormatKeyId(keyId)}+{Convert.ToBase64String(bytes)}";
        }
        finally
        {
            CryptographicOperations.ZeroMemory(bytes);
        }
    }

    /// <summary>Eight lower-case hexadecimal digits.</summary>
    public static string FormatKeyId(uint keyId) => keyId.ToString("x8", CultureInfo.InvariantCulture);

    /// <summary>Splits a verifier key into its name, key ID and decoded <c>type || public key</c> bytes.</summary>
    public static (string Name, uint KeyId, byte[] Key) ParseVerifierKey(string text)
    {
        ArgumentNullException.ThrowIfNull(text);
        const string what = "verifier key";
        if (text.Length > MaxLength)
        {
            throw new EnclaveFormatException($"{what} rejected: it is {text.Length} characters, over the limit of {MaxLength}");
        }

        return ParseFields(text, what, secret: false);
    }

    /// <summary>
    /// Splits a private key into its name, key ID and decoded <c>type || private key</c> bytes; the caller wipes
    /// the returned bytes. Error messages never quote the text, since it is secret.
    /// </summary>
    public static (string Name, uint KeyId, byte[] Key) ParsePrivateKey(string text)
    {
        ArgumentNullException.ThrowIfNull(text);
        const string what = "private key";
        if (text.Length > MaxLength)
        {
            throw new EnclaveFormatException($"{what} rejected: it is {text.Length} characters, over the limit of {MaxLength}");
        }

        if (!text.StartsWith(PrivatePrefix, StringComparison.Ordinal))
        {
            throw new EnclaveFormatException($"{what} rejected: it must start with '{PrivatePrefix}' (is this a verifier key or another file?)");
        }

        return ParseFields(text[PrivatePrefix.Length..], what, secret: true);
    }

    /// <summary>
    /// Decodes standard base64 (RFC 4648 §4) strictly: only the 64 characters and trailing '=' padding, no
    /// whitespace, and the canonical encoding only (zero padding bits), so one value has one text form.
    /// </summary>
    public static bool TryDecodeBase64(ReadOnlySpan<char> text, out byte[] bytes)
    {
        bytes = [];
        if (text.IsEmpty || text.Length % 4 != 0)
        {
            return false;
        }

        var padding = text.EndsWith("==") ? 2 : text.EndsWith("=") ? 1 : 0;
        foreach (var c in text[..^padding])
        {
            if (!char.IsAsciiLetterOrDigit(c) && c != '+' && c != '/')
            {
                return false;
            }
        }

        var decoded = new byte[(text.Length / 4 * 3) - padding];
        if (!Convert.TryFromBase64Chars(text, decoded, out var written) || written != decoded.Length)
        {
            CryptographicOperations.ZeroMemory(decoded);
            return false;
        }

        // Re-encode to reject non-zero padding bits.
        Span<char> buffer = text.Length <= 256 ? stackalloc char[256] : new char[text.Length];
        if (!Convert.TryToBase64Chars(decoded, buffer, out var charsWritten) || !buffer[..charsWritten].SequenceEqual(text))
        {
            CryptographicOperations.ZeroMemory(decoded);
            return false;
        }

        bytes = decoded;
        return true;
    }

    private static (string Name, uint KeyId, byte[] Key) ParseFields(string text, string what, bool secret)
    {
        var shape = $"{what} rejected: expected {(secret ? PrivatePrefix : string.Empty)}<name>+<8 hex digit key ID>+<base64 key>";
        var first = text.IndexOf('+', StringComparison.Ordinal);
        if (first < 0)
        {
            throw new EnclaveFormatException(shape);
        }

        var name = text[..first];
        if (KeyName.Problem(name) is { } problem)
        {
            throw new EnclaveFormatException($"{what} rejected: {problem}");
        }

        var rest = text.AsSpan(first + 1);
        var second = rest.IndexOf('+');
        if (second < 0)
        {
            throw new EnclaveFormatException(shape);
        }

        var hex = rest[..second];
        if (!TryParseKeyId(hex, out var keyId))
        {
            throw new EnclaveFormatException($"{what} '{name}' rejected: the key ID must be exactly 8 lower-case hexadecimal digits");
        }

        if (!TryDecodeBase64(rest[(second + 1)..], out var key) || key.Length < 2)
        {
            throw new EnclaveFormatException($"{what} '{name}' rejected: the key is not canonical standard base64 of a type byte and key material (trailing whitespace?)");
        }

        return (name, keyId, key);
    }

    private static bool TryParseKeyId(ReadOnlySpan<char> hex, out uint keyId)
    {
        keyId = 0;
        if (hex.Length != 8)
        {
            return false;
        }

        foreach (var c in hex)
        {
            if (!char.IsAsciiDigit(c) && c is not (>= 'a' and <= 'f'))
            {
                return false;
            }
        }

        return uint.TryParse(hex, NumberStyles.AllowHexSpecifier, CultureInfo.InvariantCulture, out keyId);
    }
}
