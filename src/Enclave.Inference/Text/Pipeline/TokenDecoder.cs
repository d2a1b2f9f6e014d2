using System.Text;
using System.Text.Json;

namespace Enclave.Inference.Text.Pipeline;

/// <summary>A <c>tokenizer.json</c> decoder: turns token strings back into text, as transformers.js's decoders do.</summary>
internal abstract class TokenDecoder
{
    /// <summary>Transforms the token strings; a chain's last step usually fuses them into one.</summary>
    public abstract List<string> DecodeChain(List<string> tokens);

    public string Decode(List<string> tokens) => string.Concat(DecodeChain(tokens));

    /// <summary>
    /// The bytes one token adds in the middle of a decoded text (constrained decoding matches tokens by these): the
    /// chain's text steps applied to the token alone, until a byte step (ByteLevel, ByteFallback) turns it into bytes.
    /// Steps that act only at the start of a text (Strip, Metaspace's first space) do not apply mid-text.
    /// </summary>
    public byte[]? TokenBytes(string token)
    {
        string text = token;
        return Apply(ref text, out byte[]? bytes) ? bytes : Encoding.UTF8.GetBytes(text);
    }

    /// <summary>One step of <see cref="TokenBytes"/>: transforms <paramref name="text"/>, or returns true with its bytes.</summary>
    internal virtual bool Apply(ref string text, out byte[]? bytes)
    {
        bytes = null;
        return false;
    }

    /// <summary>Reads a decoder; <paramref name="addedTokens"/> are the added tokens' contents, which byte-level decoding passes through unchanged.</summary>
    public static TokenDecoder? FromJson(JsonElement? json, JsonFields fields, string path, IReadOnlySet<string> addedTokens, TokenizerLimits limits, int depth = 0)
    {
        if (json is not { } element || element.ValueKind == JsonValueKind.Null)
        {
            return null;
        }

        string type = fields.Type(element, path);
        switch (type)
        {
            case "ByteLevel":
                return new ByteLevelDecoder(addedTokens);
            case "Replace":
                return new ReplaceDecoder(fields.Pattern(element, path, limits.RegexMatchTimeout), fields.String(element, "content", path));
            case "ByteFallback":
                return new ByteFallbackDecoder();
            case "WordPiece":
                return new WordPieceDecoder(fields.OptionalString(element, "prefix", path) ?? "##", fields.Bool(element, "cleanup", path, true));
            case "Fuse":
                return new FuseDecoder();
            case "Strip":
                string content = fields.String(element, "content", path);
                if (content.Length != 1)
                {
                    throw fields.Invalid(path + ".content", "is not a single character");
                }

                return new StripDecoder(content[0], fields.Int(element, "start", path, 0), fields.Int(element, "stop", path, 0));
            case "Metaspace":
            {
                string replacement = fields.String(element, "replacement", path);
                string? scheme = fields.OptionalString(element, "prepend_scheme", path);
                bool stripFirst = scheme is null ? fields.Bool(element, "add_prefix_space", path, true) : scheme != "never";
                return new MetaspaceDecoder(replacement, stripFirst);
            }

            case "Sequence":
            {
                if (depth > 8)
                {
                    throw fields.Invalid(path, "nests Sequence decoders too deeply");
                }

                var list = new List<TokenDecoder>();
                int i = 0;
                foreach (JsonElement item in fields.Array(element, "decoders", path).EnumerateArray())
                {
                    TokenDecoder? d = FromJson(item, fields, $"{path}.decoders[{i++}]", addedTokens, limits, depth + 1);
                    if (d is not null)
                    {
                        list.Add(d);
                    }
                }

                return new SequenceDecoder(list);
            }

            default:
                throw fields.Unsupported(path, $"a decoder of type '{type}'");
        }
    }

    private sealed class ByteLevelDecoder(IReadOnlySet<string> addedTokens) : TokenDecoder
    {
        internal override bool Apply(ref string text, out byte[]? bytes)
        {
            if (addedTokens.Contains(text))
            {
                bytes = Encoding.UTF8.GetBytes(text);
                return true;
            }

            bytes = new byte[text.Length];
            for (int i = 0; i < text.Length; i++)
            {
                short b = text[i] < ByteLevelAlphabet.CharToByte.Length ? ByteLevelAlphabet.CharToByte[text[i]] : (short)-1;
                if (b < 0)
                {
                    bytes = null; // not a byte-level token: never part of constrained output
                    return true;
                }

                bytes[i] = (byte)b;
            }

            return true;
        }

        public override List<string> DecodeChain(List<string> tokens)
        {
            // Added tokens are text already; everything between them is byte-level characters decoded as UTF-8 together.
            var result = new List<string>();
            var bytes = new List<byte>();
            foreach (string token in tokens)
            {
                if (addedTokens.Contains(token))
                {
                    Flush(bytes, result);
                    result.Add(token);
                    continue;
                }

                foreach (char c in token)
                {
                    short b = c < ByteLevelAlphabet.CharToByte.Length ? ByteLevelAlphabet.CharToByte[c] : (short)-1;
                    bytes.Add(b < 0 ? (byte)0 : (byte)b); // transformers.js turns an unmapped character into byte 0
                }
            }

            Flush(bytes, result);
            return result;
        }

        private static void Flush(List<byte> bytes, List<string> result)
        {
            if (bytes.Count > 0)
            {
                result.Add(JsText.FromUtf8(System.Runtime.InteropServices.CollectionsMarshal.AsSpan(bytes)));
                bytes.Clear();
            }
        }
    }

    private sealed class ReplaceDecoder(JsRegex pattern, string content) : TokenDecoder
    {
        internal override bool Apply(ref string text, out byte[]? bytes)
        {
            text = pattern.ReplaceAll(text, content);
            bytes = null;
            return false;
        }

        public override List<string> DecodeChain(List<string> tokens) => tokens.ConvertAll(t => pattern.ReplaceAll(t, content));
    }

    private sealed class ByteFallbackDecoder : TokenDecoder
    {
        internal override bool Apply(ref string text, out byte[]? bytes)
        {
            bytes = null;
            if (text.Length == 6 && text.StartsWith("<0x", StringComparison.Ordinal) && text[5] == '>' &&
                byte.TryParse(text.AsSpan(3, 2), System.Globalization.NumberStyles.AllowHexSpecifier, System.Globalization.CultureInfo.InvariantCulture, out byte b))
            {
                bytes = [b];
                return true;
            }

            return false;
        }

        public override List<string> DecodeChain(List<string> tokens)
        {
            var result = new List<string>(tokens.Count);
            var bytes = new List<byte>();
            foreach (string token in tokens)
            {
                if (token.Length == 6 && token.StartsWith("<0x", StringComparison.Ordinal) && token[5] == '>' &&
                    byte.TryParse(token.AsSpan(3, 2), System.Globalization.NumberStyles.AllowHexSpecifier, System.Globalization.CultureInfo.InvariantCulture, out byte b))
                {
                    bytes.Add(b);
                    continue;
                }

                if (bytes.Count > 0)
                {
                    result.Add(JsText.FromUtf8(System.Runtime.InteropServices.CollectionsMarshal.AsSpan(bytes)));
                    bytes.Clear();
                }

                result.Add(token);
            }

            if (bytes.Count > 0)
            {
                result.Add(JsText.FromUtf8(System.Runtime.InteropServices.CollectionsMarshal.AsSpan(bytes)));
            }

            return result;
        }
    }

    /// <summary>Joins word pieces: a token with the continuation prefix glues to the one before, any other gets a space.</summary>
    private sealed class WordPieceDecoder(string prefix, bool cleanup) : TokenDecoder
    {
        public override List<string> DecodeChain(List<string> tokens)
        {
            var result = new List<string>(tokens.Count);
            for (int i = 0; i < tokens.Count; i++)
            {
                string token = tokens[i];
                if (i > 0)
                {
                    token = prefix.Length > 0 && token.StartsWith(prefix, StringComparison.Ordinal) ? token[prefix.Length..] : " " + token;
                }

                result.Add(cleanup ? HuggingFaceTokenizer.CleanUpTokenization(token) : token);
            }

            return result;
        }
    }

    private sealed class FuseDecoder : TokenDecoder
    {
        public override List<string> DecodeChain(List<string> tokens) => [string.Concat(tokens)];
    }

    private sealed class StripDecoder(char content, int start, int stop) : TokenDecoder
    {
        public override List<string> DecodeChain(List<string> tokens) => tokens.ConvertAll(token =>
        {
            int startCut = 0;
            for (int i = 0; i < start && i < token.Length && token[i] == content; i++)
            {
                startCut = i + 1;
            }

            int stopCut = token.Length;
            for (int i = 0; i < stop; i++)
            {
                int index = token.Length - i - 1;
                if (index < 0 || token[index] != content)
                {
                    break;
                }

                stopCut = index;
            }

            return stopCut <= startCut ? string.Empty : token[startCut..stopCut];
        });
    }

    private sealed class MetaspaceDecoder(string replacement, bool stripFirst) : TokenDecoder
    {
        internal override bool Apply(ref string text, out byte[]? bytes)
        {
            text = text.Replace(replacement, " ", StringComparison.Ordinal);
            bytes = null;
            return false;
        }

        public override List<string> DecodeChain(List<string> tokens)
        {
            var result = new List<string>(tokens.Count);
            for (int i = 0; i < tokens.Count; i++)
            {
                string s = tokens[i].Replace(replacement, " ", StringComparison.Ordinal);
                if (stripFirst && i == 0 && s.StartsWith(' '))
                {
                    s = s[1..];
                }

                result.Add(s);
            }

            return result;
        }
    }

    private sealed class SequenceDecoder(IReadOnlyList<TokenDecoder> decoders) : TokenDecoder
    {
        internal override bool Apply(ref string text, out byte[]? bytes)
        {
            foreach (TokenDecoder d in decoders)
            {
                if (d.Apply(ref text, out bytes))
                {
                    return true;
                }
            }

            bytes = null;
            return false;
        }

        public override List<string> DecodeChain(List<string> tokens)
        {
            foreach (TokenDecoder d in decoders)
            {
                tokens = d.DecodeChain(tokens);
            }

            return tokens;
        }
    }
}
