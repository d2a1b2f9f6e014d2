using System.Globalization;
using System.Text;
using System.Text.RegularExpressions;

namespace Enclave.Inference.Text.Pipeline;

/// <summary>
/// A regular expression from a <c>tokenizer.json</c> (written for Rust's regex crate, run by the reference in
/// JavaScript with the <c>u</c> flag) compiled for .NET with JavaScript's matching semantics:
/// <list type="bullet">
/// <item><c>\s</c>, <c>\d</c>, <c>\w</c> and their negations mean what they mean in JavaScript;</item>
/// <item>matching is by code point: a supplementary-plane character (an emoji, 𝐇, 𠀀) is one character whose
/// Unicode category decides <c>\p{L}</c>, <c>\p{N}</c> and negated classes, not two surrogates;</item>
/// <item>the same rewrites transformers.js applies (<c>(?i:'s|'t|...)</c>) are applied.</item>
/// </list>
/// </summary>
internal sealed class JsRegex
{
    private static readonly (string From, string To)[] ReferenceRewrites =
    [
        ("(?i:'s|'t|'re|'ve|'m|'ll|'d)", "(?:'([sS]|[tT]|[rR][eE]|[vV][eE]|[mM]|[lL][lL]|[dD]))"),
    ];

    // One BMP stand-in per Unicode category: a supplementary character is replaced by the stand-in of its category
    // before matching, so that .NET's UTF-16 matcher classifies it as JavaScript's code-point matcher does.
    private static readonly char[] StandIns = BuildStandIns();

    private readonly Regex _regex;

    private JsRegex(Regex regex)
    {
        _regex = regex;
    }

    public string Pattern => _regex.ToString();

    /// <summary>Compiles <paramref name="pattern"/>; throws <see cref="ArgumentException"/> when .NET cannot parse the translation.</summary>
    public static JsRegex Create(string pattern, TimeSpan matchTimeout)
    {
        foreach ((string from, string to) in ReferenceRewrites)
        {
            pattern = pattern.Replace(from, to, StringComparison.Ordinal);
        }

        string translated = Translate(pattern);
        return new JsRegex(new Regex(translated, RegexOptions.CultureInvariant, matchTimeout));
    }

    /// <summary>A regex matching <paramref name="literal"/> exactly.</summary>
    public static JsRegex Literal(string literal, TimeSpan matchTimeout) =>
        new(new Regex(Regex.Escape(literal), RegexOptions.CultureInvariant, matchTimeout));

    /// <summary>Non-overlapping matches (offset, length) in <paramref name="text"/>, as <c>String.prototype.matchAll</c> finds them.</summary>
    public List<(int Index, int Length)> Matches(string text)
    {
        var result = new List<(int, int)>();
        if (!HasSurrogatePair(text))
        {
            foreach (Match m in _regex.Matches(text))
            {
                result.Add((m.Index, m.Length));
            }

            return result;
        }

        // Fold each surrogate pair to one stand-in char; map match boundaries back to the original text.
        var folded = new StringBuilder(text.Length);
        var starts = new List<int>(text.Length + 1);
        for (int i = 0; i < text.Length; i++)
        {
            starts.Add(i);
            if (char.IsHighSurrogate(text[i]) && i + 1 < text.Length && char.IsLowSurrogate(text[i + 1]))
            {
                int cp = char.ConvertToUtf32(text[i], text[i + 1]);
                folded.Append(StandIns[(int)CharUnicodeInfo.GetUnicodeCategory(cp)]);
                i++;
            }
            else
            {
                folded.Append(text[i]);
            }
        }

        starts.Add(text.Length);
        foreach (Match m in _regex.Matches(folded.ToString()))
        {
            int start = starts[m.Index];
            int end = starts[m.Index + m.Length];
            result.Add((start, end - start));
        }

        return result;
    }

    /// <summary><c>text.replaceAll(regex, content)</c> with <paramref name="content"/> taken literally.</summary>
    public string ReplaceAll(string text, string content)
    {
        List<(int Index, int Length)> matches = Matches(text);
        if (matches.Count == 0)
        {
            return text;
        }

        var sb = new StringBuilder(text.Length);
        int previous = 0;
        foreach ((int index, int length) in matches)
        {
            sb.Append(text, previous, index - previous).Append(content);
            previous = index + length;
        }

        return sb.Append(text, previous, text.Length - previous).ToString();
    }

    private static bool HasSurrogatePair(string text)
    {
        for (int i = 0; i + 1 < text.Length; i++)
        {
            if (char.IsHighSurrogate(text[i]) && char.IsLowSurrogate(text[i + 1]))
            {
                return true;
            }
        }

        return false;
    }

    // Rewrites the shorthand classes whose meaning differs between JavaScript and .NET.
    private static string Translate(string pattern)
    {
        var sb = new StringBuilder(pattern.Length + 64);
        bool inClass = false;
        for (int i = 0; i < pattern.Length; i++)
        {
            char c = pattern[i];
            if (c == '\\' && i + 1 < pattern.Length)
            {
                char e = pattern[i + 1];
                i++;
                string? replacement = (e, inClass) switch
                {
                    ('s', false) => "[" + JsText.WhitespaceClass + "]",
                    ('S', false) => "[^" + JsText.WhitespaceClass + "]",
                    ('s', true) => JsText.WhitespaceClass,
                    ('d', false) => "[0-9]",
                    ('D', false) => "[^0-9]",
                    ('d', true) => "0-9",
                    ('w', false) => "[A-Za-z0-9_]",
                    ('W', false) => "[^A-Za-z0-9_]",
                    ('w', true) => "A-Za-z0-9_",
                    ('S' or 'D' or 'W', true) => throw new ArgumentException($"a negated shorthand class \\{e} inside [...] is not supported"),
                    _ => null,
                };
                sb.Append(replacement ?? "\\" + e);
                continue;
            }

            if (c == '[' && !inClass)
            {
                inClass = true;
                sb.Append(c);
                // A ']' right after '[' or '[^' is a literal in .NET but closes an empty class in JavaScript; keep it as .NET reads it.
                continue;
            }

            if (c == ']' && inClass)
            {
                inClass = false;
            }

            sb.Append(c);
        }

        return sb.ToString();
    }

    private static char[] BuildStandIns()
    {
        var standIns = new char[32];
        var found = new bool[32];
        for (int c = 0x100; c <= 0xFFFF; c++)
        {
            if (c is >= 0xD800 and <= 0xDFFF)
            {
                continue;
            }

            char ch = (char)c;
            int category = (int)char.GetUnicodeCategory(ch);
            if (!found[category] && !JsText.IsWhitespace(ch) && !char.IsWhiteSpace(ch))
            {
                standIns[category] = ch;
                found[category] = true;
            }
        }

        // Categories with no BMP member outside whitespace fall back to an unassigned code point's stand-in.
        for (int i = 0; i < standIns.Length; i++)
        {
            if (!found[i])
            {
                standIns[i] = standIns[(int)UnicodeCategory.OtherNotAssigned];
            }
        }

        return standIns;
    }
}
