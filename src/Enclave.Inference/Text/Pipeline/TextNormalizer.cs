using System.Globalization;
using System.Text;
using System.Text.Json;

namespace Enclave.Inference.Text.Pipeline;

/// <summary>A <c>tokenizer.json</c> normalizer: rewrites a section of text before pre-tokenization.</summary>
internal abstract class TextNormalizer
{
    public abstract string Normalize(string text);

    public static TextNormalizer? FromJson(JsonElement? json, JsonFields fields, string path, TokenizerLimits limits, int depth = 0)
    {
        if (json is not { } element || element.ValueKind == JsonValueKind.Null)
        {
            return null;
        }

        string type = fields.Type(element, path);
        switch (type)
        {
            case "NFC":
                return new UnicodeForm(compose: true);
            case "NFD":
                return new UnicodeForm(compose: false);
            case "Lowercase":
                return new LowercaseNormalizer();
            case "BertNormalizer":
            {
                bool lowercase = fields.Bool(element, "lowercase", path, true);
                return new BertNormalizer(
                    fields.Bool(element, "clean_text", path, true),
                    fields.Bool(element, "handle_chinese_chars", path, true),
                    fields.Bool(element, "strip_accents", path, lowercase), // null: strip when lower-casing, as BERT's uncased models do
                    lowercase);
            }

            case "Prepend":
                return new PrependNormalizer(fields.String(element, "prepend", path));
            case "Strip":
                return new StripNormalizer(fields.Bool(element, "strip_left", path, false), fields.Bool(element, "strip_right", path, false));
            case "Replace":
                return new ReplaceNormalizer(fields.Pattern(element, path, limits.RegexMatchTimeout), fields.String(element, "content", path));
            case "Sequence":
                if (depth > 8)
                {
                    throw fields.Invalid(path, "nests Sequence normalizers too deeply");
                }

                JsonElement items = fields.Array(element, "normalizers", path);
                var list = new List<TextNormalizer>();
                int i = 0;
                foreach (JsonElement item in items.EnumerateArray())
                {
                    TextNormalizer? n = FromJson(item, fields, $"{path}.normalizers[{i++}]", limits, depth + 1);
                    if (n is not null)
                    {
                        list.Add(n);
                    }
                }

                return new SequenceNormalizer(list);
            default:
                throw fields.Unsupported(path, $"a normalizer of type '{type}'");
        }
    }

    private sealed class UnicodeForm(bool compose) : TextNormalizer
    {
        public override string Normalize(string text) => compose ? UnicodeNormalization.Nfc(text) : UnicodeNormalization.Nfd(text);
    }

    private sealed class LowercaseNormalizer : TextNormalizer
    {
        public override string Normalize(string text) => JsText.Lower(text);
    }

    /// <summary>
    /// BERT's normalization, in Hugging Face tokenizers' order: drop NUL, U+FFFD and control characters and turn
    /// whitespace into spaces; pad CJK ideographs with spaces (so each becomes a word); strip accents (NFD, then drop
    /// non-spacing marks, category Mn); lower-case.
    /// </summary>
    private sealed class BertNormalizer(bool cleanText, bool handleChineseChars, bool stripAccents, bool lowercase) : TextNormalizer
    {
        public override string Normalize(string text)
        {
            if (cleanText || handleChineseChars)
            {
                var builder = new StringBuilder(text.Length + 8);
                foreach (Rune r in text.EnumerateRunes())
                {
                    if (cleanText && (r.Value is 0 or 0xFFFD || BertText.IsControl(r)))
                    {
                        continue; // a lone surrogate enumerates as U+FFFD and goes too
                    }

                    if (cleanText && BertText.IsWhitespace(r))
                    {
                        builder.Append(' ');
                    }
                    else if (handleChineseChars && BertText.IsChinese(r.Value))
                    {
                        builder.Append(' ').Append(r).Append(' ');
                    }
                    else
                    {
                        builder.Append(r);
                    }
                }

                text = builder.ToString();
            }

            if (stripAccents)
            {
                string decomposed = UnicodeNormalization.Nfd(text);
                var builder = new StringBuilder(decomposed.Length);
                foreach (Rune r in decomposed.EnumerateRunes())
                {
                    if (Rune.GetUnicodeCategory(r) != UnicodeCategory.NonSpacingMark)
                    {
                        builder.Append(r);
                    }
                }

                text = builder.ToString();
            }

            return lowercase ? JsText.Lower(text) : text;
        }
    }

    private sealed class PrependNormalizer(string prepend) : TextNormalizer
    {
        public override string Normalize(string text) => prepend + text;
    }

    private sealed class StripNormalizer(bool left, bool right) : TextNormalizer
    {
        public override string Normalize(string text)
        {
            if (left)
            {
                text = JsText.TrimStart(text);
            }

            return right ? JsText.TrimEnd(text) : text;
        }
    }

    private sealed class ReplaceNormalizer(JsRegex pattern, string content) : TextNormalizer
    {
        public override string Normalize(string text) => pattern.ReplaceAll(text, content);
    }

    private sealed class SequenceNormalizer(IReadOnlyList<TextNormalizer> normalizers) : TextNormalizer
    {
        public override string Normalize(string text)
        {
            foreach (TextNormalizer n in normalizers)
            {
                text = n.Normalize(text);
            }

            return text;
        }
    }
}
