using System.Text;
using System.Text.Json;

namespace Enclave.Inference.Text.Pipeline;

/// <summary>A <c>tokenizer.json</c> pre-tokenizer: splits a normalized section into the pieces the model encodes one by one.</summary>
internal abstract class TextPreTokenizer
{
    private const string Gpt2Pattern = @"'s|'t|'re|'ve|'m|'ll|'d| ?\p{L}+| ?\p{N}+| ?[^\s\p{L}\p{N}]+|\s+(?!\S)|\s+";

    /// <summary>Splits each piece of <paramref name="pieces"/>; <paramref name="sectionIndex"/> is the section's place among the added-token splits.</summary>
    public abstract List<string> PreTokenize(List<string> pieces, int sectionIndex);

    public static TextPreTokenizer? FromJson(JsonElement? json, JsonFields fields, string path, TokenizerLimits limits, int depth = 0)
    {
        if (json is not { } element || element.ValueKind == JsonValueKind.Null)
        {
            return null;
        }

        string type = fields.Type(element, path);
        switch (type)
        {
            case "Split":
            {
                string behavior = fields.String(element, "behavior", path);
                SplitBehavior b = behavior switch
                {
                    "Isolated" => SplitBehavior.Isolated,
                    "Removed" => SplitBehavior.Removed,
                    "MergedWithPrevious" => SplitBehavior.MergedWithPrevious,
                    "MergedWithNext" => SplitBehavior.MergedWithNext,
                    "Contiguous" => SplitBehavior.Contiguous,
                    _ => throw fields.Invalid(path + ".behavior", $"is '{behavior}', not one of Isolated, Removed, MergedWithPrevious, MergedWithNext, Contiguous"),
                };
                return new SplitPreTokenizer(fields.Pattern(element, path, limits.RegexMatchTimeout), b, fields.Bool(element, "invert", path, false));
            }

            case "ByteLevel":
                return new ByteLevelPreTokenizer(
                    fields.Bool(element, "add_prefix_space", path, false),
                    fields.Bool(element, "use_regex", path, true) ? JsRegex.Create(Gpt2Pattern, limits.RegexMatchTimeout) : null);
            case "Metaspace":
            {
                string replacement = fields.String(element, "replacement", path);
                string scheme = fields.OptionalString(element, "prepend_scheme", path)
                    ?? (fields.Bool(element, "add_prefix_space", path, true) ? "always" : "never");
                if (scheme is not ("always" or "first" or "never"))
                {
                    throw fields.Invalid(path + ".prepend_scheme", $"is '{scheme}', not always, first or never");
                }

                return new MetaspacePreTokenizer(replacement, scheme, fields.Bool(element, "split", path, true));
            }

            case "Digits":
                return new MatchPreTokenizer(JsRegex.Create(fields.Bool(element, "individual_digits", path, false) ? @"[^\d]+|\d" : @"[^\d]+|\d+", limits.RegexMatchTimeout));
            case "Whitespace":
                return new MatchPreTokenizer(JsRegex.Create(@"\w+|[^\w\s]+", limits.RegexMatchTimeout));
            case "BertPreTokenizer":
                return new BertPreTokenizer();
            case "WhitespaceSplit":
                return new MatchPreTokenizer(JsRegex.Create(@"\S+", limits.RegexMatchTimeout));
            case "Sequence":
            {
                if (depth > 8)
                {
                    throw fields.Invalid(path, "nests Sequence pre-tokenizers too deeply");
                }

                var list = new List<TextPreTokenizer>();
                int i = 0;
                foreach (JsonElement item in fields.Array(element, "pretokenizers", path).EnumerateArray())
                {
                    TextPreTokenizer? p = FromJson(item, fields, $"{path}.pretokenizers[{i++}]", limits, depth + 1);
                    if (p is not null)
                    {
                        list.Add(p);
                    }
                }

                return new SequencePreTokenizer(list);
            }

            default:
                throw fields.Unsupported(path, $"a pre-tokenizer of type '{type}'");
        }
    }

    private enum SplitBehavior
    {
        Isolated,
        Removed,
        MergedWithPrevious,
        MergedWithNext,
        Contiguous,
    }

    private sealed class SplitPreTokenizer(JsRegex pattern, SplitBehavior behavior, bool invert) : TextPreTokenizer
    {
        public override List<string> PreTokenize(List<string> pieces, int sectionIndex)
        {
            var result = new List<string>();
            foreach (string piece in pieces)
            {
                Split(piece, result);
            }

            return result;
        }

        private void Split(string text, List<string> result)
        {
            // Segments of the text, each flagged as delimiter (a match, or with invert a gap between matches) or not.
            var segments = new List<(string Text, bool Delimiter)>();
            int previous = 0;
            foreach ((int index, int length) in pattern.Matches(text))
            {
                if (index > previous)
                {
                    segments.Add((text[previous..index], invert));
                }

                if (length > 0)
                {
                    segments.Add((text.Substring(index, length), !invert));
                }

                previous = index + length;
            }

            if (previous < text.Length)
            {
                segments.Add((text[previous..], invert));
            }

            switch (behavior)
            {
                case SplitBehavior.Isolated:
                    result.AddRange(segments.Select(s => s.Text));
                    break;
                case SplitBehavior.Removed:
                    result.AddRange(segments.Where(s => !s.Delimiter).Select(s => s.Text));
                    break;
                case SplitBehavior.MergedWithPrevious:
                {
                    string? pending = null;
                    foreach ((string s, bool delimiter) in segments)
                    {
                        if (delimiter && pending is not null)
                        {
                            result.Add(pending + s);
                            pending = null;
                        }
                        else if (delimiter)
                        {
                            result.Add(s);
                        }
                        else
                        {
                            if (pending is not null)
                            {
                                result.Add(pending);
                            }

                            pending = s;
                        }
                    }

                    if (pending is not null)
                    {
                        result.Add(pending);
                    }

                    break;
                }

                case SplitBehavior.MergedWithNext:
                {
                    string? pending = null;
                    foreach ((string s, bool delimiter) in segments)
                    {
                        if (delimiter)
                        {
                            if (pending is not null)
                            {
                                result.Add(pending);
                            }

                            pending = s;
                        }
                        else
                        {
                            result.Add((pending ?? string.Empty) + s);
                            pending = null;
                        }
                    }

                    if (pending is not null)
                    {
                        result.Add(pending);
                    }

                    break;
                }

                case SplitBehavior.Contiguous:
                {
                    string? run = null;
                    foreach ((string s, bool delimiter) in segments)
                    {
                        if (delimiter)
                        {
                            run = (run ?? string.Empty) + s;
                        }
                        else
                        {
                            if (run is not null)
                            {
                                result.Add(run);
                                run = null;
                            }

                            result.Add(s);
                        }
                    }

                    if (run is not null)
                    {
                        result.Add(run);
                    }

                    break;
                }
            }
        }
    }

    private sealed class ByteLevelPreTokenizer(bool addPrefixSpace, JsRegex? regex) : TextPreTokenizer
    {
        public override List<string> PreTokenize(List<string> pieces, int sectionIndex)
        {
            var result = new List<string>(pieces.Count);
            foreach (string piece in pieces)
            {
                string text = addPrefixSpace && !piece.StartsWith(' ') ? " " + piece : piece;
                if (regex is null)
                {
                    result.Add(ByteLevelAlphabet.Encode(text));
                    continue;
                }

                foreach ((int index, int length) in regex.Matches(text))
                {
                    result.Add(ByteLevelAlphabet.Encode(text.Substring(index, length)));
                }
            }

            return result;
        }
    }

    private sealed class MetaspacePreTokenizer(string replacement, string prependScheme, bool split) : TextPreTokenizer
    {
        public override List<string> PreTokenize(List<string> pieces, int sectionIndex)
        {
            var result = new List<string>();
            foreach (string piece in pieces)
            {
                string text = piece.Replace(" ", replacement, StringComparison.Ordinal);
                if (!text.StartsWith(replacement, StringComparison.Ordinal) &&
                    (prependScheme == "always" || (prependScheme == "first" && sectionIndex == 0)))
                {
                    text = replacement + text;
                }

                if (!split || text.Length == 0)
                {
                    result.Add(text);
                    continue;
                }

                // Split before each replacement character (MergedWithNext).
                int start = 0;
                for (int i = text.IndexOf(replacement, 1, StringComparison.Ordinal); i > 0; i = text.IndexOf(replacement, i + replacement.Length, StringComparison.Ordinal))
                {
                    result.Add(text[start..i]);
                    start = i;
                }

                if (start < text.Length)
                {
                    result.Add(text[start..]);
                }
            }

            return result;
        }
    }

    private sealed class MatchPreTokenizer(JsRegex regex) : TextPreTokenizer
    {
        public override List<string> PreTokenize(List<string> pieces, int sectionIndex)
        {
            var result = new List<string>();
            foreach (string piece in pieces)
            {
                foreach ((int index, int length) in regex.Matches(piece))
                {
                    result.Add(piece.Substring(index, length));
                }
            }

            return result;
        }
    }

    /// <summary>BERT's basic split: at whitespace (removed), then every punctuation character on its own.</summary>
    private sealed class BertPreTokenizer : TextPreTokenizer
    {
        public override List<string> PreTokenize(List<string> pieces, int sectionIndex)
        {
            var result = new List<string>();
            foreach (string piece in pieces)
            {
                int start = 0;
                int i = 0;
                while (i < piece.Length)
                {
                    Rune.DecodeFromUtf16(piece.AsSpan(i), out Rune r, out int width);
                    bool space = BertText.IsWhitespace(r);
                    if (space || BertText.IsPunctuation(r))
                    {
                        if (i > start)
                        {
                            result.Add(piece[start..i]);
                        }

                        if (!space)
                        {
                            result.Add(piece.Substring(i, width));
                        }

                        start = i + width;
                    }

                    i += width;
                }

                if (start < piece.Length)
                {
                    result.Add(piece[start..]);
                }
            }

            return result;
        }
    }

    private sealed class SequencePreTokenizer(IReadOnlyList<TextPreTokenizer> preTokenizers) : TextPreTokenizer
    {
        public override List<string> PreTokenize(List<string> pieces, int sectionIndex)
        {
            foreach (TextPreTokenizer p in preTokenizers)
            {
                pieces = p.PreTokenize(pieces, sectionIndex);
            }

            return pieces;
        }
    }
}
