using System.Globalization;
using System.Text;

namespace Enclave.Inference.Text.Pipeline;

/// <summary>
/// The character classes of BERT's basic tokenizer, as Hugging Face tokenizers' <c>BertNormalizer</c> and
/// <c>BertPreTokenizer</c> define them (and google-research/bert's <c>tokenization.py</c> before them).
/// </summary>
internal static class BertText
{
    /// <summary>Tab, newline and carriage return, and every code point with the Unicode White_Space property.</summary>
    public static bool IsWhitespace(Rune r) => r.Value is '\t' or '\n' or '\r' || Rune.IsWhiteSpace(r);

    /// <summary>Categories Cc, Cf, Cn, Co and Cs, except tab, newline and carriage return (which count as whitespace).</summary>
    public static bool IsControl(Rune r) => r.Value is not ('\t' or '\n' or '\r') && Rune.GetUnicodeCategory(r) is
        UnicodeCategory.Control or UnicodeCategory.Format or UnicodeCategory.OtherNotAssigned or UnicodeCategory.PrivateUse or UnicodeCategory.Surrogate;

    /// <summary>ASCII punctuation and symbols (<c>!</c> to <c>/</c>, <c>:</c> to <c>@</c>, <c>[</c> to <c>`</c>, <c>{</c> to <c>~</c>) and every Unicode punctuation category (P*).</summary>
    public static bool IsPunctuation(Rune r) => r.Value is (>= 33 and <= 47) or (>= 58 and <= 64) or (>= 91 and <= 96) or (>= 123 and <= 126)
        || Rune.GetUnicodeCategory(r) is UnicodeCategory.ConnectorPunctuation or UnicodeCategory.DashPunctuation or UnicodeCategory.OpenPunctuation
            or UnicodeCategory.ClosePunctuation or UnicodeCategory.InitialQuotePunctuation or UnicodeCategory.FinalQuotePunctuation or UnicodeCategory.OtherPunctuation;

    /// <summary>The CJK Unified Ideographs blocks (and their extensions and compatibility blocks), which BERT splits one by one.</summary>
    public static bool IsChinese(int cp) => cp is (>= 0x4E00 and <= 0x9FFF) or (>= 0x3400 and <= 0x4DBF) or (>= 0x20000 and <= 0x2A6DF)
        or (>= 0x2A700 and <= 0x2B73F) or (>= 0x2B740 and <= 0x2B81F) or (>= 0x2B820 and <= 0x2CEAF) or (>= 0xF900 and <= 0xFAFF)
        or (>= 0x2F800 and <= 0x2FA1F);
}
