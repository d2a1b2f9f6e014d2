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
