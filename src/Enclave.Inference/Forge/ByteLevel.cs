namespace Enclave.Inference.Forge;

/// <summary>
/// The byte-to-character table of byte-level BPE (GPT-2, Qwen, Llama 3): printable Latin-1 bytes stand for
/// themselves, the others map to U+0100 onwards, so every byte string is a string of visible characters.
/// </summary>
internal static class ByteLevel
{
    private static readonly char[] ByteToChar = BuildTable(out Order);

    /// <summary>The 256 byte values in the order their tokens take IDs 0..255 (printables first, as GPT-2 does).</summary>
    public static readonly byte[] Order;

    public static char ToChar(byte value) => ByteToChar[value];

    /// <summary>The byte a character stands for, or -1 when it is not one of the 256 characters.</summary>
    public static int ToByte(char value)
    {
        if (value is >= '!' and <= '~' or >= '\u00A1' and <= '\u00AC' or >= '\u00AE' and <= '\u00FF')
        {
            return value;
        }

        var index = value - 0x100;
        return index is >= 0 and < 68 ? Unprintable[index] : -1;
    }

    public static string Encode(ReadOnlySpan<byte> bytes)
    {
        return string.Create(bytes.Length, bytes.ToArray(), static (span, source) =>
        {
            for (var i = 0; i < source.Length; i++)
            {
                span[i] = ByteToChar[source[i]];
            }
        });
    }

    private static readonly byte[] Unprintable = BuildUnprintable();

    private static bool IsPrintable(int b) => b is >= '!' and <= '~' or >= 0xA1 and <= 0xAC or >= 0xAE and <= 0xFF;

    private static byte[] BuildUnprintable()
    {
        var list = new List<byte>();
        for (var b = 0; b < 256; b++)
        {
            if (!IsPrintable(b))
            {
                list.Add((byte)b);
            }
        }

        return [.. list];
    }

    private static char[] BuildTable(out byte[] order)
    {
        var table = new char[256];
        var ordered = new List<byte>(256);
        for (var b = 0; b < 256; b++)
        {
            if (IsPrintable(b))
            {
                table[b] = (char)b;
                ordered.Add((byte)b);
            }
        }

        var next = 0;
        for (var b = 0; b < 256; b++)
        {
            if (!IsPrintable(b))
            {
                table[b] = (char)(0x100 + next++);
                ordered.Add((byte)b);
            }
        }

        order = [.. ordered];
        return table;
    }
}
