using System.Globalization;
using System.Text;

namespace Enclave.Intel.Stix.Patterns;

/// <summary>
/// Recursive-descent parser for the STIX 2.1 patterning language (section 9; the OASIS ANTLR grammar
/// <c>STIXPattern.g4</c> rule for rule). No .NET STIX library exists on NuGet, and an ANTLR runtime plus generated
/// code would be a large dependency for a grammar of some twenty rules, so the grammar is written out here by hand:
/// <code>
/// pattern          := obsExprs EOF
/// obsExprs         := obsOr (FOLLOWEDBY obsOr)*
/// obsOr            := obsAnd (OR obsAnd)*
/// obsAnd           := obsExpr (AND obsExpr)*
/// obsExpr          := ('[' cmpExpr ']' | '(' obsExprs ')') qualifier*
/// qualifier        := START ts STOP ts | WITHIN (int|float) SECONDS | REPEATS int TIMES
/// cmpExpr          := cmpAnd (OR cmpAnd)*
/// cmpAnd           := propTest (AND propTest)*
/// propTest         := '(' cmpExpr ')' | EXISTS path | path NOT? op literal
/// path             := type ':' (ident | string) ('.' (ident | string) | '[' (int | '*') ']')*
/// </code>
/// Keywords are upper case, <c>true</c>/<c>false</c> lower case, as in the grammar. Bounds: length, depth, comparisons.
/// </summary>
internal sealed class StixPatternParser
{
    private readonly List<Token> _tokens;
    private readonly StixPatternLimits _limits;
    private readonly List<PropertyComparison> _comparisons = [];
    private int _next;
    private int _depth;

    private StixPatternParser(List<Token> tokens, StixPatternLimits limits)
    {
        _tokens = tokens;
        _limits = limits;
    }

    public static StixPattern Parse(string text, StixPatternLimits limits)
    {
        ArgumentNullException.ThrowIfNull(text);
        if (text.Length > limits.MaxLength)
        {
            throw new StixPatternException($"pattern of {text.Length} characters is longer than the limit of {limits.MaxLength}", 0);
        }

        var parser = new StixPatternParser(Lexer.Tokenize(text), limits);
        var root = parser.ObservationExpressions();
        parser.Expect(TokenKind.End, "end of pattern");
        return new StixPattern { Text = text, Root = root, Comparisons = parser._comparisons };
    }

    private Token Peek => _tokens[_next];

    private Token Take() => _tokens[_next++];

    private bool Accept(TokenKind kind)
    {
        if (Peek.Kind != kind)
        {
            return false;
        }

        _next++;
        return true;
    }

    private Token Expect(TokenKind kind, string what)
    {
        if (Peek.Kind != kind)
        {
            throw new StixPatternException($"expected {what} but found {Describe(Peek)}", Peek.Position);
        }

        return Take();
    }

    private static string Describe(Token token) => token.Kind == TokenKind.End ? "the end of the pattern" : $"'{token.Text}'";

    private void Enter()
    {
        if (++_depth > _limits.MaxDepth)
        {
            throw new StixPatternException($"pattern nested deeper than {_limits.MaxDepth}", Peek.Position);
        }
    }

    private ObservationExpression ObservationExpressions()
    {
        Enter();
        var left = ObservationOr();
        while (Accept(TokenKind.FollowedBy))
        {
            left = new ObservationBinary(ObservationOperator.FollowedBy, left, ObservationOr());
        }

        _depth--;
        return left;
    }

    private ObservationExpression ObservationOr()
    {
        var left = ObservationAnd();
        while (Accept(TokenKind.Or))
        {
            left = new ObservationBinary(ObservationOperator.Or, left, ObservationAnd());
        }

        return left;
    }

    private ObservationExpression ObservationAnd()
    {
        var left = ObservationSingle();
        while (Accept(TokenKind.And))
        {
            left = new ObservationBinary(ObservationOperator.And, left, ObservationSingle());
        }

        return left;
    }

    private ObservationExpression ObservationSingle()
    {
        ObservationExpression expression;
        if (Accept(TokenKind.LBracket))
        {
            expression = new ObservationComparison(ComparisonOr());
            Expect(TokenKind.RBracket, "']' closing the observation expression");
        }
        else if (Accept(TokenKind.LParen))
        {
            expression = ObservationExpressions();
            Expect(TokenKind.RParen, "')'");
        }
        else
        {
            throw new StixPatternException($"expected '[' or '(' starting an observation expression but found {Describe(Peek)}", Peek.Position);
        }

        while (true)
        {
            if (Accept(TokenKind.Start))
            {
                var start = Expect(TokenKind.Timestamp, "a timestamp t'...' after START");
                Expect(TokenKind.Stop, "STOP");
                var stop = Expect(TokenKind.Timestamp, "a timestamp t'...' after STOP");
                var from = (DateTimeOffset)start.Value!;
                var to = (DateTimeOffset)stop.Value!;
                if (to <= from)
                {
                    throw new StixPatternException("STOP must be later than START", stop.Position);
                }

                expression = new ObservationQualified(expression, new StartStopQualifier(from, to));
            }
            else if (Accept(TokenKind.Within))
            {
                var amount = Take();
                decimal seconds;
                if (amount.Kind == TokenKind.Integer && (long)amount.Value! > 0)
                {
                    seconds = (long)amount.Value!;
                }
                else if (amount.Kind == TokenKind.Float && !amount.Text.StartsWith('-') && (double)amount.Value! > 0)
                {
                    seconds = (decimal)(double)amount.Value!;
                }
                else
                {
                    throw new StixPatternException($"expected a positive number of seconds after WITHIN but found {Describe(amount)}", amount.Position);
                }

                Expect(TokenKind.Seconds, "SECONDS");
                expression = new ObservationQualified(expression, new WithinQualifier(seconds));
            }
            else if (Accept(TokenKind.Repeats))
            {
                var times = Expect(TokenKind.Integer, "a positive integer after REPEATS");
                if ((long)times.Value! is < 1 or > int.MaxValue || times.Text.StartsWith('-'))
                {
                    throw new StixPatternException("REPEATS needs a positive integer", times.Position);
                }

                Expect(TokenKind.Times, "TIMES");
                expression = new ObservationQualified(expression, new RepeatsQualifier((int)(long)times.Value!));
            }
            else
            {
                return expression;
            }
        }
    }

    private ComparisonExpression ComparisonOr()
    {
        Enter();
        var left = ComparisonAnd();
        while (Accept(TokenKind.Or))
        {
            left = new ComparisonBinary(false, left, ComparisonAnd());
        }

        _depth--;
        return left;
    }

    private ComparisonExpression ComparisonAnd()
    {
        var left = PropertyTest();
        while (Accept(TokenKind.And))
        {
            left = new ComparisonBinary(true, left, PropertyTest());
        }

        return left;
    }

    private ComparisonExpression PropertyTest()
    {
        if (Accept(TokenKind.LParen))
        {
            var inner = ComparisonOr();
            Expect(TokenKind.RParen, "')'");
            return inner;
        }

        if (Accept(TokenKind.Exists))
        {
            return Add(new PropertyComparison(Path(), ComparisonOperator.Exists, false, null));
        }

        var path = Path();
        var negated = Accept(TokenKind.Not);
        var opToken = Take();
        var op = opToken.Kind switch
        {
            TokenKind.Eq => ComparisonOperator.Equal,
            TokenKind.Neq => ComparisonOperator.NotEqual,
            TokenKind.Lt => ComparisonOperator.Less,
            TokenKind.Le => ComparisonOperator.LessOrEqual,
            TokenKind.Gt => ComparisonOperator.Greater,
            TokenKind.Ge => ComparisonOperator.GreaterOrEqual,
            TokenKind.In => ComparisonOperator.In,
            TokenKind.Like => ComparisonOperator.Like,
            TokenKind.Matches => ComparisonOperator.Matches,
            TokenKind.IsSubset => ComparisonOperator.IsSubset,
            TokenKind.IsSuperset => ComparisonOperator.IsSuperset,
            _ => throw new StixPatternException($"expected a comparison operator after {path} but found {Describe(opToken)}", opToken.Position),
        };
        PatternConstant constant;
        switch (op)
        {
            case ComparisonOperator.Equal or ComparisonOperator.NotEqual:
                constant = Literal(allowBoolean: true);
                break;
            case ComparisonOperator.Less or ComparisonOperator.LessOrEqual or ComparisonOperator.Greater or ComparisonOperator.GreaterOrEqual:
                constant = Literal(allowBoolean: false);
                break;
            case ComparisonOperator.In:
                Expect(TokenKind.LParen, "'(' starting the set after IN");
                var items = new List<PatternConstant>();
                if (!Accept(TokenKind.RParen))
                {
                    do
                    {
                        items.Add(Literal(allowBoolean: true));
                    }
                    while (Accept(TokenKind.Comma));
                    Expect(TokenKind.RParen, "')' closing the set");
                }

                constant = new PatternConstant(ConstantKind.Set, items);
                break;
            default:
                var text = Expect(TokenKind.String, $"a string after {PropertyComparison.OperatorText(op)}");
                constant = new PatternConstant(ConstantKind.String, text.Value!);
                break;
        }

        return Add(new PropertyComparison(path, op, negated, constant));
    }

    private PropertyComparison Add(PropertyComparison comparison)
    {
        if (_comparisons.Count >= _limits.MaxComparisons)
        {
            throw new StixPatternException($"more than {_limits.MaxComparisons} comparisons", Peek.Position);
        }

        _comparisons.Add(comparison);
        return comparison;
    }

    private PatternConstant Literal(bool allowBoolean)
    {
        var token = Take();
        return token.Kind switch
        {
            TokenKind.String => new PatternConstant(ConstantKind.String, token.Value!),
            TokenKind.Integer => new PatternConstant(ConstantKind.Integer, token.Value!),
            TokenKind.Float => new PatternConstant(ConstantKind.Float, token.Value!),
            TokenKind.Hex => new PatternConstant(ConstantKind.Hex, token.Value!),
            TokenKind.Binary => new PatternConstant(ConstantKind.Binary, token.Value!),
            TokenKind.Timestamp => new PatternConstant(ConstantKind.Timestamp, token.Value!),
            TokenKind.Boolean when allowBoolean => new PatternConstant(ConstantKind.Boolean, token.Value!),
            _ => throw new StixPatternException($"expected a {(allowBoolean ? string.Empty : "orderable ")}constant but found {Describe(token)}", token.Position),
        };
    }

    private ObjectPath Path()
    {
        var type = Take();
        if (type.Kind != TokenKind.Identifier)
        {
            throw new StixPatternException($"expected an object type (like file or ipv4-addr) but found {Describe(type)}", type.Position);
        }

        Expect(TokenKind.Colon, $"':' after the object type {type.Text}");
        var steps = new List<PathStep>();
        var first = Take();
        if (first.Kind == TokenKind.Identifier && !first.Text.Contains('-', StringComparison.Ordinal))
        {
            steps.Add(PathStep.Property(first.Text));
        }
        else if (first.Kind == TokenKind.String)
        {
            steps.Add(PathStep.Property((string)first.Value!));
        }
        else
        {
            throw new StixPatternException($"expected a property name (without '-', or quoted) after '{type.Text}:' but found {Describe(first)}", first.Position);
        }

        while (true)
        {
            if (Peek.Kind == TokenKind.Dot)
            {
                Take();
                var key = Take();
                if (key.Kind == TokenKind.Identifier && !key.Text.Contains('-', StringComparison.Ordinal))
                {
                    steps.Add(PathStep.Property(key.Text));
                }
                else if (key.Kind == TokenKind.String)
                {
                    steps.Add(PathStep.Property((string)key.Value!));
                }
                else
                {
                    throw new StixPatternException($"expected a key after '.' (quote keys with '-') but found {Describe(key)}", key.Position);
                }
            }
            else if (Peek.Kind == TokenKind.LBracket && _tokens[_next + 1].Kind is TokenKind.Star or TokenKind.Integer)
            {
                Take();
                var index = Take();
                steps.Add(index.Kind == TokenKind.Star ? PathStep.Item(null) : PathStep.Item(checked((int)Math.Clamp((long)index.Value!, int.MinValue, int.MaxValue))));
                Expect(TokenKind.RBracket, "']' closing the list index");
            }
            else
            {
                return new ObjectPath(type.Text, steps);
            }
        }
    }

    private enum TokenKind
    {
        End,
        Identifier,
        String,
        Integer,
        Float,
        Boolean,
        Hex,
        Binary,
        Timestamp,
        LBracket,
        RBracket,
        LParen,
        RParen,
        Colon,
        Dot,
        Comma,
        Star,
        Eq,
        Neq,
        Lt,
        Le,
        Gt,
        Ge,
        And,
        Or,
        Not,
        FollowedBy,
        Like,
        Matches,
        IsSubset,
        IsSuperset,
        Exists,
        Last,
        In,
        Start,
        Stop,
        Seconds,
        Within,
        Repeats,
        Times,
    }

    private readonly record struct Token(TokenKind Kind, string Text, int Position, object? Value = null);

    private static class Lexer
    {
        private static readonly Dictionary<string, TokenKind> Keywords = new(StringComparer.Ordinal)
        {
            ["AND"] = TokenKind.And,
            ["OR"] = TokenKind.Or,
            ["NOT"] = TokenKind.Not,
            ["FOLLOWEDBY"] = TokenKind.FollowedBy,
            ["LIKE"] = TokenKind.Like,
            ["MATCHES"] = TokenKind.Matches,
            ["ISSUBSET"] = TokenKind.IsSubset,
            ["ISSUPERSET"] = TokenKind.IsSuperset,
            ["EXISTS"] = TokenKind.Exists,
            ["LAST"] = TokenKind.Last,
            ["IN"] = TokenKind.In,
            ["START"] = TokenKind.Start,
            ["STOP"] = TokenKind.Stop,
            ["SECONDS"] = TokenKind.Seconds,
            ["WITHIN"] = TokenKind.Within,
            ["REPEATS"] = TokenKind.Repeats,
            ["TIMES"] = TokenKind.Times,
        };

        public static List<Token> Tokenize(string text)
        {
            var tokens = new List<Token>();
            var i = 0;
            while (true)
            {
                while (i < text.Length)
                {
                    if (char.IsWhiteSpace(text[i]))
                    {
                        i++;
                    }
                    else if (text[i] == '/' && i + 1 < text.Length && text[i + 1] == '*')
                    {
                        var end = text.IndexOf("*/", i + 2, StringComparison.Ordinal);
                        if (end < 0)
                        {
                            throw new StixPatternException("unterminated /* comment", i);
                        }

                        i = end + 2;
                    }
                    else if (text[i] == '/' && i + 1 < text.Length && text[i + 1] == '/')
                    {
                        while (i < text.Length && text[i] is not '\n' and not '\r')
                        {
                            i++;
                        }
                    }
                    else
                    {
                        break;
                    }
                }

                if (i >= text.Length)
                {
                    tokens.Add(new Token(TokenKind.End, string.Empty, text.Length));
                    return tokens;
                }

                var start = i;
                var c = text[i];
                if (c is 'h' or 'b' or 't' && i + 1 < text.Length && text[i + 1] == '\'')
                {
                    var body = ReadQuoted(text, i + 1, out i);
                    tokens.Add(c switch
                    {
                        'h' => new Token(TokenKind.Hex, text[start..i], start, ParseHex(body, start)),
                        'b' => new Token(TokenKind.Binary, text[start..i], start, ParseBase64(body, start)),
                        _ => new Token(TokenKind.Timestamp, text[start..i], start, ParseTimestamp(body, start)),
                    });
                    continue;
                }

                if (char.IsAsciiLetter(c) || c == '_')
                {
                    while (i < text.Length && (char.IsAsciiLetterOrDigit(text[i]) || text[i] is '_' or '-'))
                    {
                        i++;
                    }

                    var word = text[start..i];
                    if (Keywords.TryGetValue(word, out var keyword))
                    {
                        tokens.Add(new Token(keyword, word, start));
                    }
                    else if (word is "true" or "false")
                    {
                        tokens.Add(new Token(TokenKind.Boolean, word, start, word == "true"));
                    }
                    else
                    {
                        tokens.Add(new Token(TokenKind.Identifier, word, start));
                    }

                    continue;
                }

                if (c == '\'')
                {
                    var body = ReadQuoted(text, i, out i);
                    tokens.Add(new Token(TokenKind.String, text[start..i], start, body));
                    continue;
                }

                if (char.IsAsciiDigit(c) || ((c is '+' or '-' or '.') && i + 1 < text.Length && (char.IsAsciiDigit(text[i + 1]) || text[i + 1] == '.')))
                {
                    tokens.Add(Number(text, ref i));
                    continue;
                }

                i++;
                var two = i < text.Length ? text.Substring(start, 2) : string.Empty;
                TokenKind kind;
                switch (c)
                {
                    case '[': kind = TokenKind.LBracket; break;
                    case ']': kind = TokenKind.RBracket; break;
                    case '(': kind = TokenKind.LParen; break;
                    case ')': kind = TokenKind.RParen; break;
                    case ':': kind = TokenKind.Colon; break;
                    case '.': kind = TokenKind.Dot; break;
                    case ',': kind = TokenKind.Comma; break;
                    case '*': kind = TokenKind.Star; break;
                    case '=': kind = TokenKind.Eq; break;
                    case '!' when two == "!=": kind = TokenKind.Neq; i++; break;
                    case '<' when two == "<>": kind = TokenKind.Neq; i++; break;
                    case '<' when two == "<=": kind = TokenKind.Le; i++; break;
                    case '<': kind = TokenKind.Lt; break;
                    case '>' when two == ">=": kind = TokenKind.Ge; i++; break;
                    case '>': kind = TokenKind.Gt; break;
                    default: throw new StixPatternException($"unexpected character '{c}'", start);
                }

                tokens.Add(new Token(kind, text[start..i], start));
            }
        }

        private static Token Number(string text, ref int i)
        {
            var start = i;
            if (text[i] is '+' or '-')
            {
                i++;
            }

            while (i < text.Length && char.IsAsciiDigit(text[i]))
            {
                i++;
            }

            var isFloat = false;
            if (i < text.Length && text[i] == '.')
            {
                isFloat = true;
                i++;
                var fractionStart = i;
                while (i < text.Length && char.IsAsciiDigit(text[i]))
                {
                    i++;
                }

                if (i == fractionStart)
                {
                    throw new StixPatternException("a float needs digits after '.'", start);
                }
            }

            if (i < text.Length && (char.IsAsciiLetter(text[i]) || text[i] == '_'))
            {
                throw new StixPatternException($"malformed number '{text[start..(i + 1)]}'", start);
            }

            var literal = text[start..i];
            if (isFloat)
            {
                return new Token(TokenKind.Float, literal, start, double.Parse(literal, NumberStyles.Float, CultureInfo.InvariantCulture));
            }

            var digits = literal.TrimStart('+', '-');
            if (digits.Length > 1 && digits[0] == '0')
            {
                throw new StixPatternException($"integer '{literal}' has a leading zero", start);
            }

            if (!long.TryParse(literal, NumberStyles.AllowLeadingSign, CultureInfo.InvariantCulture, out var value))
            {
                throw new StixPatternException($"integer '{literal}' is out of range", start);
            }

            return new Token(TokenKind.Integer, literal, start, value);
        }

        private static string ReadQuoted(string text, int quote, out int after)
        {
            var value = new StringBuilder();
            var i = quote + 1;
            while (i < text.Length)
            {
                var c = text[i];
                if (c == '\'')
                {
                    after = i + 1;
                    return value.ToString();
                }

                if (c == '\\')
                {
                    if (i + 1 < text.Length && text[i + 1] is '\'' or '\\')
                    {
                        value.Append(text[i + 1]);
                        i += 2;
                        continue;
                    }

                    throw new StixPatternException("only \\' and \\\\ may be escaped in a string", i);
                }

                value.Append(c);
                i++;
            }

            throw new StixPatternException("unterminated string (missing closing ')", quote);
        }

        private static byte[] ParseHex(string body, int position)
        {
            if (body.Length % 2 != 0 || !body.All(char.IsAsciiHexDigit))
            {
                throw new StixPatternException("a hex constant h'..' needs pairs of hex digits", position);
            }

            return Convert.FromHexString(body);
        }

        private static byte[] ParseBase64(string body, int position)
        {
            var buffer = new byte[(body.Length * 3 / 4) + 3];
            if (body.Length % 4 != 0 || !Convert.TryFromBase64String(body, buffer, out var written))
            {
                throw new StixPatternException("a binary constant b'..' needs padded base64", position);
            }

            return buffer[..written];
        }

        private static DateTimeOffset ParseTimestamp(string body, int position)
        {
            // t'YYYY-MM-DDTHH:MM:SS[.s+]Z' exactly, as the grammar's TimestampLiteral.
            var ok = body.Length >= 20 && body[4] == '-' && body[7] == '-' && body[10] == 'T' && body[13] == ':' && body[16] == ':' && body[^1] == 'Z'
                && (body.Length == 20 || (body[19] == '.' && body.Length > 21 && body[20..^1].All(char.IsAsciiDigit)))
                && StixTimestamp.TryParse(body.Replace("T23:59:60", "T23:59:59", StringComparison.Ordinal), out _);
            if (!ok || !StixTimestamp.TryParse(body.Replace("T23:59:60", "T23:59:59", StringComparison.Ordinal), out var value))
            {
                throw new StixPatternException($"'{body}' is not a timestamp of the form t'YYYY-MM-DDTHH:MM:SS[.s]Z'", position);
            }

            return value;
        }
    }
}
