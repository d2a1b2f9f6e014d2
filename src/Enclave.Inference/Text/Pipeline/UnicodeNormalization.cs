using System.Text;

namespace Enclave.Inference.Text.Pipeline;

/// <summary>
/// Unicode canonical normalization (NFC, NFD) from the tables in <see cref="UnicodeNormalizationData"/>. .NET's
/// <c>string.Normalize</c> returns its input unchanged under InvariantGlobalization, which this solution sets, so the
/// NFC normalizer of Qwen's tokenizers needs its own. Lone surrogates pass through, as in JavaScript.
/// </summary>
internal static class UnicodeNormalization
{
    private const int SBase = 0xAC00;
    private const int LBase = 0x1100;
    private const int VBase = 0x1161;
    private const int TBase = 0x11A7;
    private const int LCount = 19;
    private const int VCount = 21;
    private const int TCount = 28;
    private const int NCount = VCount * TCount;
    private const int SCount = LCount * NCount;

    private static readonly Dictionary<int, int> Classes = BuildClasses();
    private static readonly Dictionary<int, (int First, int Second)> Decompositions = BuildDecompositions();
    private static readonly Dictionary<long, int> Compositions = BuildCompositions();

    public static string Nfd(string text) => NeedsWork(text) ? Encode(Decompose(text)) : text;

    public static string Nfc(string text)
    {
        if (!NeedsWork(text))
        {
            return text;
        }

        List<int> points = Decompose(text);
        Compose(points);
        return Encode(points);
    }

    // Below U+0300 every character is a starter that nothing composes onto: such text is already NFC and NFD-stable
    // except for precomposed Latin-1 letters, which NFD must split.
    private static bool NeedsWork(string text)
    {
        foreach (char c in text)
        {
            if (c >= 0xC0)
            {
                return true;
            }
        }

        return false;
    }

    private static List<int> Decompose(string text)
    {
        var points = new List<int>(text.Length + 8);
        for (int i = 0; i < text.Length; i++)
        {
            int cp = text[i];
            if (char.IsHighSurrogate(text[i]) && i + 1 < text.Length && char.IsLowSurrogate(text[i + 1]))
            {
                cp = char.ConvertToUtf32(text[i], text[i + 1]);
                i++;
            }

            DecomposeInto(cp, points);
        }

        // Canonical ordering: a stable sort by combining class within each run of non-starters.
        for (int i = 1; i < points.Count; i++)
        {
            int cc = Class(points[i]);
            if (cc == 0)
            {
                continue;
            }

            int j = i;
            while (j > 0 && Class(points[j - 1]) > cc)
            {
                (points[j - 1], points[j]) = (points[j], points[j - 1]);
                j--;
            }
        }

        return points;
    }

    private static void DecomposeInto(int cp, List<int> points)
    {
        if (cp is >= SBase and < SBase + SCount)
        {
            int s = cp - SBase;
            points.Add(LBase + s / NCount);
            points.Add(VBase + s % NCount / TCount);
            if (s % TCount != 0)
            {
                points.Add(TBase + s % TCount);
            }

            return;
        }

        if (Decompositions.TryGetValue(cp, out (int First, int Second) d))
        {
            DecomposeInto(d.First, points);
            if (d.Second >= 0)
            {
                DecomposeInto(d.Second, points);
            }

            return;
        }

        points.Add(cp);
    }

    private static void Compose(List<int> points)
    {
        if (points.Count == 0)
        {
            return;
        }

        int starter = 0;
        int lastClass = Class(points[0]) == 0 ? 0 : 256;
        int write = 1;
        for (int read = 1; read < points.Count; read++)
        {
            int cp = points[read];
            int cc = Class(cp);
            int composite = lastClass < cc || lastClass == 0 ? Combine(points[starter], cp) : -1;
            if (composite >= 0 && (lastClass < cc || (lastClass == 0 && write == starter + 1)))
            {
                points[starter] = composite;
                continue;
            }

            if (cc == 0)
            {
                starter = write;
            }

            lastClass = cc;
            points[write++] = cp;
        }

        points.RemoveRange(write, points.Count - write);
    }

    private static int Combine(int first, int second)
    {
        if (first is >= LBase and < LBase + LCount && second is >= VBase and < VBase + VCount)
        {
            return SBase + ((first - LBase) * VCount + (second - VBase)) * TCount;
        }

        if (first is >= SBase and < SBase + SCount && (first - SBase) % TCount == 0 && second is > TBase and < TBase + TCount)
        {
            return first + (second - TBase);
        }

        return Compositions.TryGetValue(((long)first << 21) | (uint)second, out int composite) ? composite : -1;
    }

    private static int Class(int cp) => Classes.TryGetValue(cp, out int c) ? c : 0;

    private static string Encode(List<int> points)
    {
        var sb = new StringBuilder(points.Count);
        foreach (int cp in points)
        {
            if (cp is >= 0xD800 and <= 0xDFFF)
            {
                sb.Append((char)cp); // a lone surrogate, kept as it was
            }
            else
            {
                sb.Append(char.ConvertFromUtf32(cp));
            }
        }

        return sb.ToString();
    }

    private static Dictionary<int, int> BuildClasses()
    {
        int[] data = UnicodeNormalizationData.CombiningClasses;
        var map = new Dictionary<int, int>(data.Length / 2);
        for (int i = 0; i < data.Length; i += 2)
        {
            map[data[i]] = data[i + 1];
        }

        return map;
    }

    private static Dictionary<int, (int, int)> BuildDecompositions()
    {
        int[] data = UnicodeNormalizationData.Decompositions;
        var map = new Dictionary<int, (int, int)>(data.Length / 3);
        for (int i = 0; i < data.Length; i += 3)
        {
            map[data[i]] = (data[i + 1], data[i + 2]);
        }

        return map;
    }

    private static Dictionary<long, int> BuildCompositions()
    {
        int[] data = UnicodeNormalizationData.Compositions;
        var map = new Dictionary<long, int>(data.Length / 3);
        for (int i = 0; i < data.Length; i += 3)
        {
            map[((long)data[i] << 21) | (uint)data[i + 1]] = data[i + 2];
        }

        return map;
    }
}
