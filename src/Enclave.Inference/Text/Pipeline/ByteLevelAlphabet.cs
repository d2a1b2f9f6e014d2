namespace Enclave.Inference.Text.Pipeline;

/// <summary>
/// GPT-2's reversible map from the 256 byte values to printable characters ("Ġ" for a space), which byte-level
/// BPE vocabularies are written in.
/// </summary>
internal static class ByteLevelAlphabet
{
    /// <summary>The character standing for each byte.</summary>
    public static readonly char[] ByteToChar = Build();

    /// <summary>The byte each character stands for, or -1.</summary>
    public static readonly short[] CharToByte = Invert(ByteToChar);

    /// <summary>The byte-level characters of the UTF-8 encoding of <paramref name="text"/>.</summary>
    public static string Encode(string text)
    {
        byte[] bytes = JsText.Utf8(text);
        return string.Create(bytes.Length, bytes, static (span, b) =>
        {
            for (int i = 0; i < b.Length; i++)
            {
                span[i] = ByteToChar[b[i]];
            }
        });
    }

    private static char[] Build()
    {
        var map = new char[256];
        var assigned = new bool[256];
        for (int b = '!'; b <= '~'; b++)
        {
            (map[b], assigned[b]) = ((char)b, true);
        }

        for (int b = 0xA1; b <= 0xAC; b++)
        {
            (map[b], assigned[b]) = ((char)b, true);
        }

        for (int b = 0xAE; b <= 0xFF; b++)
        {
            (map[b], assigned[b]) = ((char)b, true);
        }

        int n = 0;
        for (int b = 0; b < 256; b++)
        {
            if (!assigned[b])
            {
                map[b] = (char)(256 + n++);
            }
        }

        return map;
    }

    private static short[] Invert(char[] map)
    {
        var inverse = new short[512];
        Array.Fill(inverse, (short)-1);
        for (int b = 0; b < map.Length; b++)
        {
            inverse[map[b]] = (short)b;
        }

        return inverse;
    }
}
