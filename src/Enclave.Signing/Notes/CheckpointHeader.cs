using System.Text.Unicode;
using Enclave.Core;

namespace Enclave.Signing.Notes;

/// <summary>
/// The first three lines of a c2sp.org/tlog-checkpoint note text: origin, decimal tree size, base64 root hash.
/// Lines after them (extensions) are allowed and not part of the header.
/// </summary>
internal readonly record struct CheckpointHeader(byte[] Origin, ulong Size, Sha256Digest RootHash)
{
    /// <summary>An origin longer than this cannot be encoded in a cosigned_message (opaque log_origin&lt;1..2^8-1&gt;).</summary>
    public const int MaxOriginBytes = 255;

    /// <summary>Parses the header, or returns false with a reason that names the bad line.</summary>
    public static bool TryParse(ReadOnlySpan<byte> noteText, out CheckpointHeader header, out string problem)
    {
        header = default;
        var rest = noteText;
        if (!TakeLine(ref rest, out var origin) || !TakeLine(ref rest, out var size) || !TakeLine(ref rest, out var root))
        {
            problem = "a checkpoint has at least three newline-terminated lines (origin, tree size, root hash)";
            return false;
        }

        if (origin.IsEmpty || origin.Length > MaxOriginBytes || !Utf8.IsValid(origin))
        {
            problem = $"line 1 (origin) must be 1 to {MaxOriginBytes} bytes of UTF-8, got {origin.Length} bytes";
            return false;
        }

        if (!TryParseSize(size, out var treeSize))
        {
            problem = "line 2 (tree size) is not a decimal number without leading zeros that fits in 64 bits";
            return false;
        }

        Span<char> chars = stackalloc char[44];
        if (root.Length != chars.Length || !TryAscii(root, chars) || !Sha256Digest.TryParseBase64(chars, out var rootHash))
        {
            problem = "line 3 (root hash) is not the base64 encoding of a 32-byte hash";
            return false;
        }

        header = new CheckpointHeader(origin.ToArray(), treeSize, rootHash);
        problem = string.Empty;
        return true;
    }

    private static bool TakeLine(ref ReadOnlySpan<byte> text, out ReadOnlySpan<byte> line)
    {
        var newline = text.IndexOf((byte)'\n');
        if (newline < 0)
        {
            line = default;
            return false;
        }

        line = text[..newline];
        text = text[(newline + 1)..];
        return true;
    }

    private static bool TryParseSize(ReadOnlySpan<byte> digits, out ulong value)
    {
        value = 0;
        if (digits.IsEmpty || digits.Length > 20 || (digits[0] == (byte)'0' && digits.Length > 1))
        {
            return false;
        }

        foreach (var d in digits)
        {
            if (d is < (byte)'0' or > (byte)'9')
            {
                return false;
            }

            var digit = (ulong)(d - '0');
            if (value > (ulong.MaxValue - digit) / 10)
            {
                return false;
            }

            value = (value * 10) + digit;
        }

        return true;
    }

    private static bool TryAscii(ReadOnlySpan<byte> bytes, Span<char> chars)
    {
        for (var i = 0; i < bytes.Length; i++)
        {
            if (bytes[i] >= 0x80)
            {
                return false;
            }

            chars[i] = (char)bytes[i];
        }

        return true;
    }
}
