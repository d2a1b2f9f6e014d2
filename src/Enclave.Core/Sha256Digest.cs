using System.Buffers;
using System.Buffers.Binary;
using System.Security.Cryptography;

namespace Enclave.Core;

/// <summary>A SHA-256 digest held by value (32 bytes, no allocation).</summary>
public readonly record struct Sha256Digest
{
    /// <summary>Length of a digest in bytes.</summary>
    public const int Size = 32;

    private readonly ulong _a, _b, _c, _d;

    /// <summary>Creates a digest from exactly 32 bytes.</summary>
    public Sha256Digest(ReadOnlySpan<byte> bytes)
    {
        if (bytes.Length != Size)
        {
            throw new ArgumentException($"a SHA-256 digest is {Size} bytes, got {bytes.Length}", nameof(bytes));
        }

        _a = BinaryPrimitives.ReadUInt64BigEndian(bytes);
        _b = BinaryPrimitives.ReadUInt64BigEndian(bytes[8..]);
        _c = BinaryPrimitives.ReadUInt64BigEndian(bytes[16..]);
        _d = BinaryPrimitives.ReadUInt64BigEndian(bytes[24..]);
    }

    /// <summary>Writes the 32 bytes into <paramref name="destination"/>.</summary>
    public void CopyTo(Span<byte> destination)
    {
        if (destination.Length < Size)
        {
            throw new ArgumentException("destination too short", nameof(destination));
        }

        BinaryPrimitives.WriteUInt64BigEndian(destination, _a);
        BinaryPrimitives.WriteUInt64BigEndian(destination[8..], _b);
        BinaryPrimitives.WriteUInt64BigEndian(destination[16..], _c);
        BinaryPrimitives.WriteUInt64BigEndian(destination[24..], _d);
    }

    /// <summary>The digest as a new byte array.</summary>
    public byte[] ToArray()
    {
        var bytes = new byte[Size];
        CopyTo(bytes);
        return bytes;
    }

    /// <summary>Hashes <paramref name="data"/>.</summary>
    public static Sha256Digest Compute(ReadOnlySpan<byte> data)
    {
        Span<byte> hash = stackalloc byte[Size];
        SHA256.HashData(data, hash);
        return new Sha256Digest(hash);
    }

    /// <summary>Lower-case hexadecimal, 64 characters.</summary>
    public string ToHex()
    {
        Span<byte> bytes = stackalloc byte[Size];
        CopyTo(bytes);
        return Convert.ToHexStringLower(bytes);
    }

    /// <summary>Standard base64 (RFC 4648 §4), as used in checkpoints and proofs.</summary>
    public string ToBase64()
    {
        Span<byte> bytes = stackalloc byte[Size];
        CopyTo(bytes);
        return Convert.ToBase64String(bytes);
    }

    /// <summary>Parses 64 hexadecimal characters.</summary>
    public static bool TryParseHex(ReadOnlySpan<char> hex, out Sha256Digest digest)
    {
        digest = default;
        if (hex.Length != Size * 2)
        {
            return false;
        }

        Span<byte> bytes = stackalloc byte[Size];
        if (Convert.FromHexString(hex, bytes, out _, out var written) != OperationStatus.Done || written != Size)
        {
            return false;
        }

        digest = new Sha256Digest(bytes);
        return true;
    }

    /// <summary>Parses a standard base64 encoding of exactly 32 bytes.</summary>
    public static bool TryParseBase64(ReadOnlySpan<char> base64, out Sha256Digest digest)
    {
        digest = default;
        Span<byte> bytes = stackalloc byte[Size + 3];
        if (base64.Length != 44 || !Convert.TryFromBase64Chars(base64, bytes, out var written) || written != Size)
        {
            return false;
        }

        // Reject non-canonical encodings (non-zero padding bits) so that one digest has one text form.
        var digestValue = new Sha256Digest(bytes[..Size]);
        if (!base64.SequenceEqual(digestValue.ToBase64()))
        {
            return false;
        }

        digest = digestValue;
        return true;
    }

    /// <inheritdoc/>
    public override string ToString() => ToHex();
}
