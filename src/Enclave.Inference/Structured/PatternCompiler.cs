using System.Globalization;

namespace Enclave.Inference.Structured;

/// <summary>
/// Compiles a JSON Schema <c>pattern</c> (an ECMA-262 regular expression) to a <see cref="CodePointDfa"/> that accepts
/// exactly the strings the pattern matches, so that a constrained string can be checked one character at a time.
/// The subset: literals; <c>.</c>; classes <c>[...]</c> and <c>[^...]</c> with ranges; <c>\d \D \w \W \s \S</c>;
/// escapes <c>\t \n \r \f \v \0 \xHH \uHHHH</c> and escaped syntax characters; groups <c>(...)</c>, <c>(?:...)</c>,
/// <c>(?&lt;name&gt;...)</c>; alternation; quantifiers <c>* + ? {n} {n,} {n,m}</c> (lazy forms match the same strings);
/// <c>^</c> at the start and <c>$</c> at the end of a top-level alternative. Not supported (refused, never ignored):
/// back-references, lookaround, word boundaries, Unicode property escapes, flags, anchors anywhere else.
/// Written here because a .NET <c>Regex</c> cannot be stepped one character at a time or asked which characters may
/// come next, which masking needs.
/// </summary>
internal static class PatternCompiler
{
    /// <summary>Most automaton states one pattern may compile to.</summary>
    public const int MaxDfaStates = 2000;

    private const int MaxNfaStates = 50_000;
    private const int MaxRepeat = 1000;
    private const long MaxDeterminizeWork = 50_000_000;

    /// <exception cref="PatternException">The pattern is malformed or outside the subset.</exception>
    public static CodePointDfa Compile(string pattern, IReadOnlyList<(int Low, int High)> universe)
    {
        ArgumentNullException.ThrowIfNull(pattern);
        var parser = new Parser(pattern, universe);
        var rx = parser.ParseTopLevel();
        var nfa = new Nfa();
        var (start, end) = nfa.Build(rx);
        return Determinize(nfa, start, end);
    }

    private abstract record Rx;

    private sealed record RxSet(List<(int Low, int High)> Ranges) : Rx;

    private sealed record RxConcat(List<Rx> Items) : Rx;

    private sealed record RxAlt(List<Rx> Items) : Rx;

    private sealed record RxRepeat(Rx Item, int Min, int Max) : Rx; // Max -1: unbounded

    private sealed class Parser(string pattern, IReadOnlyList<(int Low, int High)> universe)
    {
        private int _pos;

        public Rx ParseTopLevel()
        {
            // Anchors apply per top-level alternative: "^a|b$" is (^a)|(b$); an unanchored side matches anywhere.
            var alternatives = new List<Rx>();
            while (true)
            {
                var anchoredStart = Peek('^');
                if (anchoredStart)
                {
                    _pos++;
                }

                var body = ParseConcat(topLevel: true);
                var anchoredEnd = Peek('$');
                if (anchoredEnd)
                {
                    _pos++;
                }

                var any = new RxRepeat(new RxSet([.. universe]), 0, -1);
                var items = new List<Rx>();
                if (!anchoredStart)
                {
                    items.Add(any);
                }

                items.Add(body);
                if (!anchoredEnd)
                {
                    items.Add(any);
                }

                alternatives.Add(new RxConcat(items));
                if (_pos == pattern.Length)
                {
                    break;
                }

                if (pattern[_pos] == '|')
                {
                    _pos++;
                    continue;
                }

                throw Error(pattern[_pos] == ')' ? "has an unmatched ')'" : $"has '{pattern[_pos]}' where it cannot be");
            }

            return alternatives.Count == 1 ? alternatives[0] : new RxAlt(alternatives);
        }

        private bool Peek(char c) => _pos < pattern.Length && pattern[_pos] == c;

        private PatternException Error(string what) =>
            new($"pattern {what} (at offset {_pos})");

        private Rx ParseAlternation()
        {
            var items = new List<Rx> { ParseConcat(topLevel: false) };
            while (Peek('|'))
            {
                _pos++;
                items.Add(ParseConcat(topLevel: false));
            }

            return items.Count == 1 ? items[0] : new RxAlt(items);
        }

        private Rx ParseConcat(bool topLevel)
        {
            var items = new List<Rx>();
            while (_pos < pattern.Length)
            {
                var c = pattern[_pos];
                if (c is '|' or ')')
                {
                    break;
                }

                if (c == '$' && topLevel && _pos == pattern.Length - 1)
                {
                    break;
                }

                if (c == '$' && topLevel && _pos + 1 < pattern.Length && pattern[_pos + 1] == '|')
                {
                    break;
                }

                if (c is '^' or '$')
                {
                    throw new PatternException($"pattern uses the anchor '{c}' inside the expression (at offset {_pos}); the supported subset takes '^' only at the start and '$' only at the end of a top-level alternative");
                }

                var atom = ParseAtom();
                items.Add(ParseQuantifier(atom));
            }

            return items.Count == 1 ? items[0] : new RxConcat(items);
        }

        private Rx ParseQuantifier(Rx atom)
        {
            if (_pos >= pattern.Length)
            {
                return atom;
            }

            int min, max;
            switch (pattern[_pos])
            {
                case '*':
                    (min, max) = (0, -1);
                    _pos++;
                    break;
                case '+':
                    (min, max) = (1, -1);
                    _pos++;
                    break;
                case '?':
                    (min, max) = (0, 1);
                    _pos++;
                    break;
                case '{' when TryBraces(out min, out max):
                    break;
                default:
                    return atom;
            }

            if (Peek('?'))
            {
                _pos++; // lazy: the same language
            }

            if (_pos < pattern.Length && pattern[_pos] is '*' or '+' or '?' || Peek('{'))
            {
                var save = _pos;
                if (pattern[_pos] != '{' || TryBraces(out _, out _))
                {
                    _pos = save;
                    throw Error("repeats a quantifier");
                }

                _pos = save;
            }

            return new RxRepeat(atom, min, max);
        }

        private bool TryBraces(out int min, out int max)
        {
            min = max = 0;
            var close = pattern.IndexOf('}', _pos);
            if (close < 0)
            {
                return false;
            }

            var body = pattern.AsSpan(_pos + 1, close - _pos - 1);
            var comma = body.IndexOf(',');
            if (comma < 0)
            {
                if (!TryCount(body, out min))
                {
                    return false;
                }

                max = min;
            }
            else
            {
                if (!TryCount(body[..comma], out min))
                {
                    return false;
                }

                var upper = body[(comma + 1)..];
                if (upper.Length == 0)
                {
                    max = -1;
                }
                else if (!TryCount(upper, out max))
                {
                    return false;
                }
            }

            if (min > MaxRepeat || max > MaxRepeat)
            {
                throw Error($"repeats more than {MaxRepeat} times");
            }

            if (max >= 0 && max < min)
            {
                throw Error("has a quantifier {n,m} with m < n");
            }

            _pos = close + 1;
            return true;
        }

        private static bool TryCount(ReadOnlySpan<char> text, out int value)
        {
            value = 0;
            if (text.Length == 0 || text.Length > 6)
            {
                return false;
            }

            foreach (var c in text)
            {
                if (c is < '0' or > '9')
                {
                    return false;
                }
            }

            value = int.Parse(text, NumberStyles.None, CultureInfo.InvariantCulture);
            return true;
        }

        private Rx ParseAtom()
        {
            var c = pattern[_pos];
            switch (c)
            {
                case '(':
                    _pos++;
                    if (Peek('?'))
                    {
                        if (_pos + 1 < pattern.Length && pattern[_pos + 1] == ':')
                        {
                            _pos += 2;
                        }
                        else if (_pos + 2 < pattern.Length && pattern[_pos + 1] == '<' && pattern[_pos + 2] is not ('=' or '!'))
                        {
                            var close = pattern.IndexOf('>', _pos);
                            if (close < 0)
                            {
                                throw Error("has an unterminated group name");
                            }

                            _pos = close + 1;
                        }
                        else
                        {
                            throw new PatternException($"pattern uses lookaround or a group modifier '(?' (at offset {_pos - 1}), which the supported subset does not have");
                        }
                    }

                    var inner = ParseAlternation();
                    if (!Peek(')'))
                    {
                        throw Error("has an unclosed '('");
                    }

                    _pos++;
                    return inner;
                case '[':
                    return new RxSet(ParseClass());
                case '.':
                    _pos++;
                    return new RxSet(CharUniverse.Intersect(CharUniverse.Complement([(0x0A, 0x0A), (0x0D, 0x0D), (0x2028, 0x2029)], universe), universe));
                case '\\':
                    return new RxSet(ParseEscape(inClass: false));
                case '*' or '+' or '?':
                    throw Error($"has a quantifier '{c}' with nothing to repeat");
                case '{' when TryBraces(out _, out _):
                    throw Error("has a quantifier '{' with nothing to repeat");
                case ']' or '}':
                    _pos++;
                    return Literal(c);
                default:
                    if (char.IsSurrogate(c))
                    {
                        throw Error("has a character outside the basic multilingual plane; the supported subset matches BMP characters only");
                    }

                    _pos++;
                    return Literal(c);
            }
        }

        private RxSet Literal(int cp) => new(CharUniverse.Intersect([(cp, cp)], universe));

        private List<(int Low, int High)> ParseClass()
        {
            _pos++; // '['
            var negate = Peek('^');
            if (negate)
            {
                _pos++;
            }

            var ranges = new List<(int Low, int High)>();
            var first = true;
            while (true)
            {
                if (_pos >= pattern.Length)
                {
                    throw Error("has an unclosed '['");
                }

                if (pattern[_pos] == ']' && !first)
                {
                    _pos++;
                    break;
                }

                if (pattern[_pos] == ']' && first)
                {
                    // ECMA-262: "[]" matches nothing and "[^]" anything.
                    _pos++;
                    break;
                }

                first = false;
                var (low, lowSet) = ClassAtom();
                if (lowSet is null && Peek('-') && _pos + 1 < pattern.Length && pattern[_pos + 1] != ']')
                {
                    _pos++;
                    var (high, highSet) = ClassAtom();
                    if (highSet is not null)
                    {
                        throw Error("has a class range that ends in a class escape");
                    }

                    if (high < low)
                    {
                        throw Error("has a class range out of order");
                    }

                    ranges.Add((low, high));
                }
                else if (lowSet is not null)
                {
                    ranges.AddRange(lowSet);
                }
                else
                {
                    ranges.Add((low, low));
                }
            }

            var normalized = CharUniverse.Normalize(ranges);
            return negate ? CharUniverse.Complement(normalized, universe) : CharUniverse.Intersect(normalized, universe);
        }

        private (int Char, List<(int Low, int High)>? Set) ClassAtom()
        {
            var c = pattern[_pos];
            if (c == '\\')
            {
                var save = _pos;
                if (_pos + 1 < pattern.Length && pattern[_pos + 1] == 'b')
                {
                    _pos += 2;
                    return ('\b', null); // backspace inside a class
                }

                var set = ParseEscape(inClass: true);
                var escaped = pattern[save + 1];
                if (escaped is 'd' or 'D' or 'w' or 'W' or 's' or 'S')
                {
                    return (0, set);
                }

                return (set.Count == 1 && set[0].Low == set[0].High ? set[0].Low : RawEscapeChar(save), null);
            }

            if (char.IsSurrogate(c))
            {
                throw Error("has a character outside the basic multilingual plane; the supported subset matches BMP characters only");
            }

            _pos++;
            return (c, null);
        }

        // An escape that the universe emptied (a control character, say) still bounds a range: re-read its value.
        private int RawEscapeChar(int at)
        {
            var save = _pos;
            _pos = at;
            var value = EscapeValue();
            _pos = save;
            return value;
        }

        private List<(int Low, int High)> ParseEscape(bool inClass)
        {
            if (_pos + 1 >= pattern.Length)
            {
                throw Error("ends with '\\'");
            }

            var e = pattern[_pos + 1];
            List<(int Low, int High)> digits = [('0', '9')];
            List<(int Low, int High)> word = [('0', '9'), ('A', 'Z'), ('_', '_'), ('a', 'z')];
            List<(int Low, int High)> space = [(0x09, 0x0D), (0x20, 0x20), (0xA0, 0xA0), (0x1680, 0x1680), (0x2000, 0x200A), (0x2028, 0x2029), (0x202F, 0x202F), (0x205F, 0x205F), (0x3000, 0x3000), (0xFEFF, 0xFEFF)];
            switch (e)
            {
                case 'd':
                    _pos += 2;
                    return CharUniverse.Intersect(digits, universe);
                case 'D':
                    _pos += 2;
                    return CharUniverse.Complement(digits, universe);
                case 'w':
                    _pos += 2;
                    return CharUniverse.Intersect(word, universe);
                case 'W':
                    _pos += 2;
                    return CharUniverse.Complement(word, universe);
                case 's':
                    _pos += 2;
                    return CharUniverse.Intersect(space, universe);
                case 'S':
                    _pos += 2;
                    return CharUniverse.Complement(space, universe);
                case 'b' or 'B':
                    throw new PatternException($"pattern uses the word boundary '\\{e}' (at offset {_pos}), which the supported subset does not have");
                case 'p' or 'P':
                    throw new PatternException($"pattern uses a Unicode property escape '\\{e}' (at offset {_pos}), which the supported subset does not have");
                case 'k':
                    throw new PatternException($"pattern uses a named back-reference '\\k' (at offset {_pos}), which the supported subset does not have");
                case >= '1' and <= '9' when !inClass:
                    throw new PatternException($"pattern uses a back-reference '\\{e}' (at offset {_pos}), which the supported subset does not have");
                default:
                    var cp = EscapeValue();
                    return CharUniverse.Intersect([(cp, cp)], universe);
            }
        }

        private int EscapeValue()
        {
            var e = pattern[_pos + 1];
            _pos += 2;
            switch (e)
            {
                case 't':
                    return '\t';
                case 'n':
                    return '\n';
                case 'r':
                    return '\r';
                case 'f':
                    return '\f';
                case 'v':
                    return '\v';
                case '0' when !(_pos < pattern.Length && char.IsAsciiDigit(pattern[_pos])):
                    return 0;
                case 'x':
                    return Hex(2);
                case 'u':
                    if (Peek('{'))
                    {
                        throw Error("uses '\\u{...}', which needs the u flag");
                    }

                    var value = Hex(4);
                    if (value is >= 0xD800 and <= 0xDFFF)
                    {
                        throw Error("escapes a surrogate; the supported subset matches BMP characters only");
                    }

                    return value;
                case 'c':
                    throw Error("uses a control escape '\\c'");
                default:
                    if (char.IsAsciiLetterOrDigit(e))
                    {
                        throw Error($"uses the unknown escape '\\{e}'");
                    }

                    if (char.IsSurrogate(e))
                    {
                        throw Error("has a character outside the basic multilingual plane");
                    }

                    return e; // an escaped syntax character: \. \* \\ \/ ...
            }
        }

        private int Hex(int digits)
        {
            if (_pos + digits > pattern.Length || !int.TryParse(pattern.AsSpan(_pos, digits), NumberStyles.AllowHexSpecifier, CultureInfo.InvariantCulture, out var value))
            {
                throw Error($"has a malformed hexadecimal escape (needs {digits} digits)");
            }

            _pos += digits;
            return value;
        }
    }

    private sealed class Nfa
    {
        public readonly List<List<int>> Epsilon = [];
        public readonly List<List<(int Low, int High, int Target)>> Edges = [];

        public int NewState()
        {
            if (Epsilon.Count >= MaxNfaStates)
            {
                throw new PatternException($"pattern is too large: it needs more than {MaxNfaStates} automaton states (large counted repetitions multiply)");
            }

            Epsilon.Add([]);
            Edges.Add([]);
            return Epsilon.Count - 1;
        }

        public (int Start, int End) Build(Rx rx)
        {
            switch (rx)
            {
                case RxSet set:
                {
                    var s = NewState();
                    var e = NewState();
                    foreach (var (low, high) in set.Ranges)
                    {
                        Edges[s].Add((low, high, e));
                    }

                    return (s, e);
                }

                case RxConcat concat:
                {
                    var s = NewState();
                    var current = s;
                    foreach (var item in concat.Items)
                    {
                        var (a, b) = Build(item);
                        Epsilon[current].Add(a);
                        current = b;
                    }

                    return (s, current);
                }

                case RxAlt alt:
                {
                    var s = NewState();
                    var e = NewState();
                    foreach (var item in alt.Items)
                    {
                        var (a, b) = Build(item);
                        Epsilon[s].Add(a);
                        Epsilon[b].Add(e);
                    }

                    return (s, e);
                }

                case RxRepeat repeat:
                {
                    var s = NewState();
                    var current = s;
                    for (var i = 0; i < repeat.Min; i++)
                    {
                        var (a, b) = Build(repeat.Item);
                        Epsilon[current].Add(a);
                        current = b;
                    }

                    if (repeat.Max < 0)
                    {
                        var (a, b) = Build(repeat.Item);
                        var loopEnd = NewState();
                        Epsilon[current].Add(a);
                        Epsilon[current].Add(loopEnd);
                        Epsilon[b].Add(a);
                        Epsilon[b].Add(loopEnd);
                        return (s, loopEnd);
                    }

                    var end = NewState();
                    Epsilon[current].Add(end);
                    for (var i = repeat.Min; i < repeat.Max; i++)
                    {
                        var (a, b) = Build(repeat.Item);
                        Epsilon[current].Add(a);
                        Epsilon[b].Add(end);
                        current = b;
                    }

                    return (s, end);
                }

                default:
                    throw new InvalidOperationException("unknown pattern node");
            }
        }

        public int[] Closure(IEnumerable<int> states)
        {
            var seen = new HashSet<int>();
            var stack = new Stack<int>(states);
            while (stack.Count > 0)
            {
                var s = stack.Pop();
                if (seen.Add(s))
                {
                    foreach (var t in Epsilon[s])
                    {
                        stack.Push(t);
                    }
                }
            }

            var result = seen.ToArray();
            Array.Sort(result);
            return result;
        }
    }

    private static CodePointDfa Determinize(Nfa nfa, int start, int end)
    {
        var ids = new Dictionary<string, int>(StringComparer.Ordinal);
        var sets = new List<int[]>();
        var rows = new List<CodePointTransition[]>();

        int Intern(int[] set)
        {
            var key = string.Join(',', set);
            if (!ids.TryGetValue(key, out var id))
            {
                if (sets.Count >= MaxDfaStates)
                {
                    throw new PatternException($"pattern is too large: it needs more than {MaxDfaStates} deterministic states");
                }

                id = sets.Count;
                ids[key] = id;
                sets.Add(set);
            }

            return id;
        }

        Intern(nfa.Closure([start]));
        long work = 0;
        for (var d = 0; d < sets.Count; d++)
        {
            var edges = sets[d].SelectMany(s => nfa.Edges[s]).ToList();
            work += (long)edges.Count * edges.Count;
            if (work > MaxDeterminizeWork)
            {
                throw new PatternException("pattern is too complex to compile to an automaton (its alternatives and repetitions overlap too much)");
            }

            var bounds = new SortedSet<int>();
            foreach (var (low, high, _) in edges)
            {
                bounds.Add(low);
                bounds.Add(high + 1);
            }

            var points = bounds.ToArray();
            var row = new List<CodePointTransition>();
            for (var i = 0; i + 1 < points.Length; i++)
            {
                var low = points[i];
                var high = points[i + 1] - 1;
                var targets = edges.Where(e => e.Low <= low && e.High >= high).Select(e => e.Target).Distinct().ToList();
                if (targets.Count == 0)
                {
                    continue;
                }

                var target = Intern(nfa.Closure(targets));
                if (row.Count > 0 && row[^1].Target == target && row[^1].High + 1 == low)
                {
                    row[^1] = row[^1] with { High = high };
                }
                else
                {
                    row.Add(new CodePointTransition(low, high, target));
                }
            }

            rows.Add([.. row]);
        }

        var accepting = sets.Select(s => Array.BinarySearch(s, end) >= 0).ToArray();
        return new CodePointDfa([.. rows], accepting);
    }
}

/// <summary>A <c>pattern</c> is malformed or uses what the supported regular-expression subset does not have.</summary>
internal sealed class PatternException(string message) : Exception(message);
