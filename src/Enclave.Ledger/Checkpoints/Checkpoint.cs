using System.Globalization;
using System.Text;
using Enclave.Core;

namespace Enclave.Ledger.Checkpoints;

/// <summary>
/// A C2SP tlog-checkpoint body: origin line, decimal tree size, base64 root hash, optional extension lines.
/// Signed as a C2SP signed note.
/// </summary>
public sealed record Checkpoint
{
    /// <summary>Largest checkpoint body accepted from untrusted input.</summary>
    public const int MaxBodySize = 64 * 1024;

    public required string Origin { get; init; }
    public required long Size { get; init; }
    public required Sha256Digest RootHash { get; init; }
    public IReadOnlyList<string> Extensions { get; init; } = [];

    /// <summary>The note text, ending in a newline.</summary>
    public string Format()
    {
        var sb = new StringBuilder();
        sb.Append(Origin).Append('\n')
          .Append(Size.ToString(CultureInfo.InvariantCulture)).Append('\n')
          .Append(RootHash.ToBase64()).Append('\n');
        foreach (var extension in Extensions)
        {
            sb.Append(extension).Append('\n');
        }

        return sb.ToString();
    }

    /// <summary>Parses a note text (already verified) as a checkpoint.</summary>
    public static Checkpoint Parse(string text)
    {
        ArgumentNullException.ThrowIfNull(text);
        if (text.Length > MaxBodySize)
        {
            throw new EnclaveFormatException($"checkpoint is {text.Length} characters; the limit is {MaxBodySize}");
        }

        if (!text.EndsWith('\n'))
        {
            throw new EnclaveFormatException("checkpoint does not end in a newline");
        }

        var lines = text[..^1].Split('\n');
        if (lines.Length < 3)
        {
            throw new EnclaveFormatException($"checkpoint has {lines.Length} lines; it needs origin, size and root hash");
        }

        ValidateOrigin(lines[0]);
        var sizeText = lines[1];
        if (sizeText.Length == 0 || sizeText.Length > 19 || !sizeText.All(char.IsAsciiDigit) || (sizeText.Length > 1 && sizeText[0] == '0')
            || !long.TryParse(sizeText, NumberStyles.None, CultureInfo.InvariantCulture, out var size))
        {
            throw new EnclaveFormatException($"checkpoint size '{Shorten(sizeText)}' is not a decimal number without leading zeros");
        }

        if (!Sha256Digest.TryParseBase64(lines[2], out var root))
        {
            throw new EnclaveFormatException($"checkpoint root hash '{Shorten(lines[2])}' is not the base64 of 32 bytes");
        }

        var extensions = lines[3..];
        if (extensions.Any(e => e.Length == 0))
        {
            throw new EnclaveFormatException("checkpoint has an empty extension line");
        }

        return new Checkpoint { Origin = lines[0], Size = size, RootHash = root, Extensions = extensions };
    }

    /// <summary>Origins are schema-less URLs: non-empty, printable, no spaces and no '+' (they name signing keys too).</summary>
    public static void ValidateOrigin(string origin)
    {
        if (string.IsNullOrEmpty(origin) || origin.Length > 255 || origin.Any(c => char.IsWhiteSpace(c) || char.IsControl(c) || c == '+'))
        {
            throw new EnclaveFormatException($"origin '{Shorten(origin)}' must be 1 to 255 printable characters without spaces or '+', e.g. 'enclave.example/ledger'");
        }
    }

    private static string Shorten(string? s) => s is null ? "" : s.Length <= 48 ? s : s[..48] + "…";
}
