using System.Globalization;
using System.Text;
using System.Text.RegularExpressions;
using Enclave.Inference.Text.Pipeline;

namespace Enclave.Inference.Text.Jinja;

internal enum JinjaTokenType
{
    Text,
    NumericLiteral,
    StringLiteral,
    Identifier,
    Equals,
    OpenParen,
    CloseParen,
    OpenStatement,
    CloseStatement,
    OpenExpression,
    CloseExpression,
    OpenSquareBracket,
    CloseSquareBracket,
    OpenCurlyBracket,
    CloseCurlyBracket,
    Comma,
    Dot,
    Colon,
    Pipe,
    AdditiveBinaryOperator,
    MultiplicativeBinaryOperator,
    ExponentiationBinaryOperator,
    ComparisonBinaryOperator,
    UnaryOperator,
    Comment,
}

internal sealed record JinjaToken(string Value, JinjaTokenType Type)
{
    public string Value { get; set; } = Value;
}

/// <summary>
/// The template lexer of @huggingface/jinja: the same pre-processing (trailing newline dropped, <c>lstrip_blocks</c>,
/// <c>trim_blocks</c>, the <c>generation</c> tag removed), whitespace control and token rules, so that the rendered
/// prompt matches it byte for byte.
/// </summary>
internal static class JinjaLexer
{
    private static readonly (string Seq, JinjaTokenType Type)[] Mapping =
    [
        ("{%", JinjaTokenType.OpenStatement),
        ("%}", JinjaTokenType.CloseStatement),
        ("{{", JinjaTokenType.OpenExpression),
        ("}}", JinjaTokenType.CloseExpression),
        ("(", JinjaTokenType.OpenParen),
        (")", JinjaTokenType.CloseParen),
        ("{", JinjaTokenType.OpenCurlyBracket),
        ("}", JinjaTokenType.CloseCurlyBracket),
        ("[", JinjaTokenType.OpenSquareBracket),
        ("]", JinjaTokenType.CloseSquareBracket),
        (",", JinjaTokenType.Comma),
        (".", JinjaTokenType.Dot),
        (":", JinjaTokenType.Colon),
        ("|", JinjaTokenType.Pipe),
        ("<=", JinjaTokenType.ComparisonBinaryOperator),
        (">=", JinjaTokenType.ComparisonBinaryOperator),
        ("==", JinjaTokenType.ComparisonBinaryOperator),
        ("!=", JinjaTokenType.ComparisonBinaryOperator),
        ("<", JinjaTokenType.ComparisonBinaryOperator),
        (">", JinjaTokenType.ComparisonBinaryOperator),
        ("+", JinjaTokenType.AdditiveBinaryOperator),
        ("-", JinjaTokenType.AdditiveBinaryOperator),
        ("~", JinjaTokenType.AdditiveBinaryOperator),
        ("**", JinjaTokenType.ExponentiationBinaryOperator),
        ("*", JinjaTokenType.MultiplicativeBinaryOperator),
        ("//", JinjaTokenType.MultiplicativeBinaryOperator),
        ("/", JinjaTokenType.MultiplicativeBinaryOperator),
        ("%", JinjaTokenType.MultiplicativeBinaryOperator),
        ("=", JinjaTokenType.Equals),
    ];

    // JavaScript's multiline '^' also matches after \r, U+2028 and U+2029.
    private static readonly Regex LstripBlocks = new(@"(?<=^|[\n\r\u2028\u2029])[ \t]*(\{[#%-])", RegexOptions.CultureInvariant, TimeSpan.FromSeconds(5));
    private static readonly Regex TrimBlocks = new(@"([#%-]\})\n", RegexOptions.CultureInvariant, TimeSpan.FromSeconds(5));
    private static readonly Regex GenerationTag = new(
        @"([" + JsText.WhitespaceClass + @"]*)\{%(-?)[" + JsText.WhitespaceClass + @"]*(?:end)?generation[" + JsText.WhitespaceClass + @"]*(-?)%\}([" + JsText.WhitespaceClass + @"]*)",
        RegexOptions.CultureInvariant,
        TimeSpan.FromSeconds(5));

    public static List<JinjaToken> Tokenize(string source)
    {
        string src = Preprocess(source);
        var tokens = new List<JinjaToken>();
        int pos = 0;
        int curlyDepth = 0;

        char At(int i) => i < src.Length ? src[i] : '\0';
        bool Has(int i) => i < src.Length;

        string ConsumeWhile(Func<char, bool> predicate)
        {
            var sb = new StringBuilder();
            while (Has(pos) && predicate(src[pos]))
            {
                if (src[pos] == '\\')
                {
                    ++pos;
                    if (pos >= src.Length)
                    {
                        throw new JinjaSyntaxException("Unexpected end of input");
                    }

                    char escaped = src[pos++];
                    if (escaped is 'x' or 'u')
                    {
                        int length = escaped == 'x' ? 2 : 4;
                        string hex = pos + length <= src.Length ? src.Substring(pos, length) : src[pos..];
                        if (hex.Length != length || !hex.All(char.IsAsciiHexDigit))
                        {
                            throw new JinjaSyntaxException($"Invalid hexadecimal escape sequence: \\{escaped}{hex}");
                        }

                        sb.Append((char)int.Parse(hex, NumberStyles.HexNumber, CultureInfo.InvariantCulture));
                        pos += length;
                        continue;
                    }

                    sb.Append(escaped switch
                    {
                        'n' => '\n',
                        't' => '\t',
                        'r' => '\r',
                        'b' => '\b',
                        'f' => '\f',
                        'v' => '\v',
                        '\'' => '\'',
                        '"' => '"',
                        '\\' => '\\',
                        _ => throw new JinjaSyntaxException($"Unexpected escaped character: {escaped}"),
                    });
                    continue;
                }

                sb.Append(src[pos++]);
                if (pos >= src.Length)
                {
                    throw new JinjaSyntaxException("Unexpected end of input");
                }
            }

            return sb.ToString();
        }

        void StripTrailingWhitespace()
        {
            if (tokens.Count > 0 && tokens[^1].Type == JinjaTokenType.Text)
            {
                tokens[^1].Value = JsText.TrimEnd(tokens[^1].Value);
                if (tokens[^1].Value.Length == 0)
                {
                    tokens.RemoveAt(tokens.Count - 1);
                }
            }
        }

        void SkipLeadingWhitespace()
        {
            while (Has(pos) && JsText.IsWhitespace(src[pos]))
            {
                ++pos;
            }
        }

        bool Slice(string s) => string.CompareOrdinal(src, pos, s, 0, s.Length) == 0 && pos + s.Length <= src.Length;

        while (pos < src.Length)
        {
            JinjaTokenType? last = tokens.Count > 0 ? tokens[^1].Type : null;
            if (last is null or JinjaTokenType.CloseStatement or JinjaTokenType.CloseExpression or JinjaTokenType.Comment)
            {
                int start = pos;
                while (pos < src.Length && !(src[pos] == '{' && At(pos + 1) is '%' or '{' or '#'))
                {
                    pos++;
                }

                if (pos > start)
                {
                    tokens.Add(new JinjaToken(src[start..pos], JinjaTokenType.Text));
                    continue;
                }
            }

            if (src[pos] == '{' && At(pos + 1) == '#')
            {
                pos += 2;
                bool stripBefore = At(pos) == '-';
                if (stripBefore)
                {
                    ++pos;
                }

                var comment = new StringBuilder();
                while (At(pos) != '#' || At(pos + 1) != '}')
                {
                    if (pos + 2 >= src.Length)
                    {
                        throw new JinjaSyntaxException("Missing end of comment tag");
                    }

                    comment.Append(src[pos++]);
                }

                bool stripAfter = comment.Length > 0 && comment[^1] == '-';
                if (stripAfter)
                {
                    comment.Length--;
                }

                if (stripBefore)
                {
                    StripTrailingWhitespace();
                }

                tokens.Add(new JinjaToken(comment.ToString(), JinjaTokenType.Comment));
                pos += 2;
                if (stripAfter)
                {
                    SkipLeadingWhitespace();
                }

                continue;
            }

            if (Slice("{%-"))
            {
                StripTrailingWhitespace();
                tokens.Add(new JinjaToken("{%", JinjaTokenType.OpenStatement));
                pos += 3;
                continue;
            }

            if (Slice("{{-"))
            {
                StripTrailingWhitespace();
                tokens.Add(new JinjaToken("{{", JinjaTokenType.OpenExpression));
                curlyDepth = 0;
                pos += 3;
                continue;
            }

            ConsumeWhile(JsText.IsWhitespace);
            if (Slice("-%}"))
            {
                tokens.Add(new JinjaToken("%}", JinjaTokenType.CloseStatement));
                pos += 3;
                SkipLeadingWhitespace();
                continue;
            }

            if (Slice("-}}"))
            {
                tokens.Add(new JinjaToken("}}", JinjaTokenType.CloseExpression));
                pos += 3;
                SkipLeadingWhitespace();
                continue;
            }

            if (!Has(pos))
            {
                break;
            }

            char c = src[pos];
            if (c is '-' or '+')
            {
                JinjaTokenType? lastType = tokens.Count > 0 ? tokens[^1].Type : null;
                if (lastType is null or JinjaTokenType.Text)
                {
                    throw new JinjaSyntaxException($"Unexpected character: {c}");
                }

                if (lastType is not (JinjaTokenType.Identifier or JinjaTokenType.NumericLiteral or JinjaTokenType.StringLiteral or JinjaTokenType.CloseParen or JinjaTokenType.CloseSquareBracket))
                {
                    ++pos;
                    string num = ConsumeWhile(char.IsAsciiDigit);
                    if (num.Length > 0 && At(pos) == '.' && char.IsAsciiDigit(At(pos + 1)))
                    {
                        ++pos;
                        num = num + "." + ConsumeWhile(char.IsAsciiDigit);
                    }

                    tokens.Add(new JinjaToken(c + num, num.Length > 0 ? JinjaTokenType.NumericLiteral : JinjaTokenType.UnaryOperator));
                    continue;
                }
            }

            bool matched = false;
            foreach ((string seq, JinjaTokenType type) in Mapping)
            {
                if (seq == "}}" && curlyDepth > 0)
                {
                    continue;
                }

                if (Slice(seq))
                {
                    tokens.Add(new JinjaToken(seq, type));
                    if (type == JinjaTokenType.OpenExpression)
                    {
                        curlyDepth = 0;
                    }
                    else if (type == JinjaTokenType.OpenCurlyBracket)
                    {
                        curlyDepth++;
                    }
                    else if (type == JinjaTokenType.CloseCurlyBracket)
                    {
                        curlyDepth--;
                    }

                    pos += seq.Length;
                    matched = true;
                    break;
                }
            }

            if (matched)
            {
                continue;
            }

            if (c is '\'' or '"')
            {
                ++pos;
                string str = ConsumeWhile(ch => ch != c);
                tokens.Add(new JinjaToken(str, JinjaTokenType.StringLiteral));
                ++pos;
                continue;
            }

            if (char.IsAsciiDigit(c))
            {
                string num = ConsumeWhile(char.IsAsciiDigit);
                if ((tokens.Count == 0 || tokens[^1].Type != JinjaTokenType.Dot) && At(pos) == '.' && char.IsAsciiDigit(At(pos + 1)))
                {
                    ++pos;
                    num = num + "." + ConsumeWhile(char.IsAsciiDigit);
                }

                tokens.Add(new JinjaToken(num, JinjaTokenType.NumericLiteral));
                continue;
            }

            if (IsWord(c))
            {
                tokens.Add(new JinjaToken(ConsumeWhile(IsWord), JinjaTokenType.Identifier));
                continue;
            }

            throw new JinjaSyntaxException($"Unexpected character: {c}");
        }

        return tokens;
    }

    private static bool IsWord(char c) => char.IsAsciiLetterOrDigit(c) || c == '_';

    private static string Preprocess(string template)
    {
        if (template.EndsWith('\n'))
        {
            template = template[..^1];
        }

        template = LstripBlocks.Replace(template, "$1");
        template = TrimBlocks.Replace(template, "$1");
        return GenerationTag.Replace(template, m =>
            (m.Groups[2].Value.Length > 0 ? string.Empty : m.Groups[1].Value) + (m.Groups[3].Value.Length > 0 ? string.Empty : m.Groups[4].Value));
    }
}
