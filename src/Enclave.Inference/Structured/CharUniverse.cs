using System.Globalization;

namespace Enclave.Inference.Structured;

/// <summary>
/// The sets of characters a constrained string may hold, as sorted disjoint code point ranges.
/// <list type="bullet">
/// <item><see cref="AllText"/>: every Unicode scalar value (no surrogates), for strings without pattern or length.</item>
/// <item><see cref="Bmp"/>: the basic multilingual plane without surrogates, for patterns: an ECMA-262 pattern without
/// the <c>u</c> flag counts UTF-16 code units and a .NET one does too, so a character outside the BMP would be two
/// "characters" to a validator; inside the BMP the code point and the code unit agree.</item>
/// <item><see cref="SingleGrapheme"/>: characters that are always a grapheme cluster of their own, for strings with
/// <c>minLength</c>/<c>maxLength</c>: JSON Schema counts code points, while common validators (JsonSchema.Net, Manatee)
/// count text elements; with combining marks, format characters (ZWJ), CR, Hangul jamo and the prepend and spacing
/// characters left out, both counts agree.</item>
/// </list>
/// </summary>
internal static class CharUniverse
{
    public static IReadOnlyList<(int Low, int High)> AllText { get; } = [(0, 0xD7FF), (0xE000, 0x10FFFF)];

    public static IReadOnlyList<(int Low, int High)> Bmp { get; } = [(0, 0xD7FF), (0xE000, 0xFFFF)];

    public static IReadOnlyList<(int Low, int High)> SingleGrapheme { get; } = BuildSingleGrapheme();

    /// <summary>The intersection of two sorted range lists.</summary>
    public static List<(int Low, int High)> Intersect(IReadOnlyList<(int Low, int High)> a, IReadOnlyList<(int Low, int High)> b)
    {
        var result = new List<(int, int)>();
        int i = 0, j = 0;
        while (i < a.Count && j < b.Count)
        {
            var low = Math.Max(a[i].Low, b[j].Low);
            var high = Math.Min(a[i].High, b[j].High);
            if (low <= high)
            {
                result.Add((low, high));
            }

            if (a[i].High < b[j].High)
            {
                i++;
            }
            else
            {
                j++;
            }
        }

        return result;
    }

    /// <summary>Sorted, merged ranges of <paramref name="ranges"/>.</summary>
    public static List<(int Low, int High)> Normalize(IEnumerable<(int Low, int High)> ranges)
    {
        var sorted = ranges.Where(r => r.Low <= r.High).OrderBy(r => r.Low).ToList();
        var result = new List<(int Low, int High)>();
        foreach (var r in sorted)
        {
            if (result.Count > 0 && r.Low <= result[^1].High + 1)
            {
                result[^1] = (result[^1].Low, Math.Max(result[^1].High, r.High));
            }
            else
            {
                result.Add(r);
            }
        }

        return result;
    }

    /// <summary>The complement of sorted ranges within <paramref name="universe"/>.</summary>
    public static List<(int Low, int High)> Complement(IReadOnlyList<(int Low, int High)> ranges, IReadOnlyList<(int Low, int High)> universe)
    {
        var outside = new List<(int, int)>();
        var next = 0;
        foreach (var (low, high) in ranges)
        {
            if (low > next)
            {
                outside.Add((next, low - 1));
            }

            next = Math.Max(next, high + 1);
        }

        if (next <= 0x10FFFF)
        {
            outside.Add((next, 0x10FFFF));
        }

        return Intersect(outside, universe);
    }

    private static List<(int Low, int High)> BuildSingleGrapheme()
    {
        var ranges = new List<(int Low, int High)>();
        var start = -1;
        for (var cp = 0; cp <= 0x10000; cp++)
        {
            var ok = cp < 0x10000 && IsSingleGrapheme(cp);
            if (ok && start < 0)
            {
                start = cp;
            }
            else if (!ok && start >= 0)
            {
                ranges.Add((start, cp - 1));
                start = -1;
            }
        }

        return ranges;
    }

    private static bool IsSingleGrapheme(int cp)
    {
        if (cp is >= 0xD800 and <= 0xDFFF or '\r')
        {
            return false;
        }

        // Hangul jamo (L, V, T join into syllables), the prepend and spacing letters UAX #29 joins to a neighbour.
        if (cp is >= 0x1100 and <= 0x11FF or >= 0xA960 and <= 0xA97F or >= 0xD7B0 and <= 0xD7FF or 0x0D4E or 0x0E33 or 0x0EB3)
        {
            return false;
        }

        return CharUnicodeInfo.GetUnicodeCategory(cp) switch
        {
            UnicodeCategory.NonSpacingMark or UnicodeCategory.SpacingCombiningMark or UnicodeCategory.EnclosingMark => false,
            UnicodeCategory.Format or UnicodeCategory.Surrogate or UnicodeCategory.OtherNotAssigned or UnicodeCategory.PrivateUse => false,
            _ => true,
        };
    }
}
