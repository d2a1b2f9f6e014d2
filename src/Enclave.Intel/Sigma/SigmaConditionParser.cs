using System.Text.RegularExpressions;

namespace Enclave.Intel.Sigma;

/// <summary>
/// Parses a Sigma condition (<c>selection and not filter</c>, <c>1 of selection_*</c>, <c>all of them</c>, parentheses)
/// into a predicate over the rule's search identifiers. Precedence: <c>not</c>, then <c>and</c>, then <c>or</c>.
/// </summary>
internal sealed class SigmaConditionParser
{
    private const int MaxTokens = 1024;
    private const int MaxNesting = 64;
    private readonly List<string> _tokens;
    private readonly IReadOnlyDictionary<string, SigmaPredicate> _identifiers;
    private int _position;
    private int _nesting;

    private SigmaConditionParser(List<string> tokens, IReadOnlyDictionary<string, SigmaPredicate> identifiers)
    {
        _tokens = tokens;
        _identifiers = identifiers;
    }

    public static SigmaPredicate Parse(string condition, IReadOnlyDictionary<string, SigmaPredicate> identifiers)
    {
        if (condition.Contains('|', StringComparison.Ordinal))
        {
            throw new SigmaRejectedException(SigmaRejection.Unsupported, $"condition '{condition}': the deprecated aggregation syntax ('| count() ...') is not evaluated; write a correlation rule");
        }

        var tokens = Regex.Matches(condition, @"\(|\)|[^\s()]+", RegexOptions.None, TimeSpan.FromSeconds(1)).Select(m => m.Value).ToList();
        if (tokens.Count == 0)
        {
            throw new SigmaRejectedException(SigmaRejection.InvalidCondition, "the condition is empty");
        }

        if (tokens.Count > MaxTokens)
        {
            throw new SigmaRejectedException(SigmaRejection.TooLarge, $"condition has more than {MaxTokens} tokens");
        }

        var parser = new SigmaConditionParser(tokens, identifiers);
        var result = parser.ParseOr();
        if (parser._position != tokens.Count)
        {
            throw parser.Error($"unexpected '{tokens[parser._position]}'");
        }

        return result;
    }

    private SigmaRejectedException Error(string what) =>
        new(SigmaRejection.InvalidCondition, $"condition '{string.Join(' ', _tokens)}': {what} at token {_position + 1}");

    private string? Peek => _position < _tokens.Count ? _tokens[_position] : null;

    private bool Is(string keyword) => string.Equals(Peek, keyword, StringComparison.OrdinalIgnoreCase);

    private SigmaPredicate ParseOr()
    {
        var parts = new List<SigmaPredicate> { ParseAnd() };
        while (Is("or"))
        {
            _position++;
            parts.Add(ParseAnd());
        }

        return parts.Count == 1 ? parts[0] : new SigmaPredicate.Or(parts);
    }

    private SigmaPredicate ParseAnd()
    {
        var parts = new List<SigmaPredicate> { ParseNot() };
        while (Is("and"))
        {
            _position++;
            parts.Add(ParseNot());
        }

        return parts.Count == 1 ? parts[0] : new SigmaPredicate.And(parts);
    }

    private SigmaPredicate ParseNot()
    {
        if (Is("not"))
        {
            _position++;
            return Nested(() => new SigmaPredicate.Not(ParseNot()));
        }

        return ParsePrimary();
    }

    private SigmaPredicate Nested(Func<SigmaPredicate> parse)
    {
        if (++_nesting > MaxNesting)
        {
            throw new SigmaRejectedException(SigmaRejection.TooLarge, $"condition nests deeper than {MaxNesting}");
        }

        var result = parse();
        _nesting--;
        return result;
    }

    private SigmaPredicate ParsePrimary()
    {
        var token = Peek ?? throw Error("the condition ends early");
        if (token == "(")
        {
            _position++;
            var inner = Nested(ParseOr);
            if (Peek != ")")
            {
                throw Error("missing ')'");
            }

            _position++;
            return inner;
        }

        if (token is ")" || Is("and") || Is("or") || Is("of"))
        {
            throw Error($"unexpected '{token}'");
        }

        if ((token == "1" || Is("all") || Is("any")) && _position + 1 < _tokens.Count && string.Equals(_tokens[_position + 1], "of", StringComparison.OrdinalIgnoreCase))
        {
            var all = Is("all");
            _position += 2;
            var target = Peek ?? throw Error("'of' without a pattern");
            _position++;
            var names = string.Equals(target, "them", StringComparison.OrdinalIgnoreCase)
                ? _identifiers.Keys.Where(k => !k.StartsWith('_')).ToList()
                : _identifiers.Keys.Where(k => Glob(target, k)).ToList();
            if (names.Count == 0)
            {
                throw Error($"'{target}' names no search identifier");
            }

            var parts = names.Select(n => _identifiers[n]).ToList();
            return parts.Count == 1 ? parts[0] : all ? new SigmaPredicate.And(parts) : new SigmaPredicate.Or(parts);
        }

        if (_identifiers.TryGetValue(token, out var predicate))
        {
            _position++;
            return predicate;
        }

        throw Error($"unknown search identifier '{token}'");
    }

    private static bool Glob(string pattern, string name)
    {
        if (!pattern.Contains('*', StringComparison.Ordinal))
        {
            return pattern == name;
        }

        var parts = pattern.Split('*');
        if (!name.StartsWith(parts[0], StringComparison.Ordinal) || !name.EndsWith(parts[^1], StringComparison.Ordinal) || name.Length < parts[0].Length + parts[^1].Length)
        {
            return false;
        }

        var at = parts[0].Length;
        for (var i = 1; i < parts.Length - 1; i++)
        {
            var found = name.IndexOf(parts[i], at, StringComparison.Ordinal);
            if (found < 0)
            {
                return false;
            }

            at = found + parts[i].Length;
        }

        return at <= name.Length - parts[^1].Length;
    }
}
