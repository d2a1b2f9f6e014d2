using System.Text;

namespace Enclave.Inference.Text.Pipeline;

/// <summary>
/// String operations with JavaScript's semantics. The reference implementations (transformers.js and
/// @huggingface/jinja) are JavaScript, and their whitespace set, trimming and UTF-8 conversion differ from .NET's
/// in small ways (U+FEFF is whitespace there, U+0085 is not; lone surrogates encode as U+FFFD).
/// </summary>
internal static class JsText
{
    /// <summary>ECMAScript WhiteSpace and LineTerminator code points: what <c>\s</c> and <c>trim()</c> use.</summary>
    public const string WhitespaceClass = "\\t\\n\\v\\f\\r \\u00a0\\u1680\\u2000-\\u200a\\u2028\\u2029\\u202f\\u205f\\u3000\\ufeff";

    public static bool IsWhitespace(char c) => c switch
    {
        '\t' or '\n' or '\v' or '\f' or '\r' or ' ' or '\u00a0' or '\u1680' or '\u2028' or '\u2029' or '\u202f' or '\u205f' or '\u3000' or '\ufeff' => true,
        >= '\u2000' and <= '\u200a' => true,
        _ => false,
    };

    public static string Trim(string s) => TrimEnd(TrimStart(s));

    public static string TrimStart(string s)
    {
        int i = 0;
        while (i < s.Length && IsWhitespace(s[i]))
        {
            i++;
        }

        return i == 0 ? s : s[i..];
    }

    public static string TrimEnd(string s)
    {
        int i = s.Length;
        while (i > 0 && IsWhitespace(s[i - 1]))
        {
            i--;
        }

        return i == s.Length ? s : s[..i];
    }

    /// <summary>UTF-8 bytes as <c>TextEncoder</c> gives them: a lone surrogate becomes U+FFFD.</summary>
    public static byte[] Utf8(string s) => Encoding.UTF8.GetBytes(s);

    /// <summary>Text of UTF-8 bytes as a non-fatal <c>TextDecoder</c> gives it: each maximal invalid subsequence becomes U+FFFD.</summary>
    public static string FromUtf8(ReadOnlySpan<byte> bytes) => Encoding.UTF8.GetString(bytes);

    /// <summary>JavaScript's <c>toUpperCase</c>/<c>toLowerCase</c> are locale-independent, like the invariant culture.</summary>
    public static string Upper(string s) => s.ToUpperInvariant();

    public static string Lower(string s) => s.ToLowerInvariant();
}
