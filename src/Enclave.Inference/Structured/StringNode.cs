namespace Enclave.Inference.Structured;

/// <summary>
/// A JSON string whose characters an automaton accepts (a pattern, a format, or any text) with a length in
/// characters of <see cref="MinLength"/>..<see cref="MaxLength"/>. Strings are written with raw UTF-8 and the short
/// escapes (<c>\" \\ \/ \b \f \n \r \t</c>), never <c>\uXXXX</c>, so each character is known when its last byte is read.
/// A table gives, for every automaton state and count, the fewest bytes that close the string.
/// </summary>
internal sealed class StringNode : GrammarNode
{
    /// <summary>Most table entries (automaton states x counted lengths) one string may need.</summary>
    public const int MaxTableEntries = 4_000_000;

    private static readonly (byte Escape, int CodePoint)[] Escapes =
        [((byte)'"', '"'), ((byte)'\\', '\\'), ((byte)'/', '/'), ((byte)'b', '\b'), ((byte)'f', '\f'), ((byte)'n', '\n'), ((byte)'r', '\r'), ((byte)'t', '\t')];

    private readonly int _columns; // counted lengths 0..C; C = MaxLength, or MinLength when unbounded (saturating)
    private readonly int[] _table;

    public StringNode(CodePointDfa dfa, int minLength, int? maxLength)
    {
        Dfa = dfa;
        MinLength = minLength;
        MaxLength = maxLength;
        _columns = (maxLength ?? minLength) + 1;
        if ((long)_columns * dfa.StateCount > MaxTableEntries)
        {
            throw new PatternException($"string is too large to constrain: {dfa.StateCount} automaton states times {_columns} counted lengths is more than {MaxTableEntries}");
        }

        _table = BuildTable();
    }

    public CodePointDfa Dfa { get; }

    public int MinLength { get; }

    public int? MaxLength { get; }

    public override int ComputeMinBytes() => GrammarMath.Add(1, Closing(0, 0));

    public override void Begin(byte b, GrammarStack rest, List<GrammarStack> sink)
    {
        if (b == '"')
        {
            var stack = new GrammarStack(new StringFrame(this, 0, 0, Mode.Normal, 0, 0, 0, 0), rest);
            if (stack.Alive)
            {
                sink.Add(stack);
            }
        }
    }

    /// <summary>Fewest bytes that close the string (closing quote included) from automaton state <paramref name="state"/> after <paramref name="count"/> characters.</summary>
    public int Closing(int state, int count)
    {
        if (MaxLength is { } max && count > max)
        {
            return GrammarMath.Infinite;
        }

        return _table[(state * _columns) + Math.Min(count, _columns - 1)];
    }

    /// <summary>A byte that stands for itself inside a string: printable ASCII but the quote and the backslash.</summary>
    public static bool IsPlain(byte b) => b is >= 0x20 and < 0x80 and not (byte)'"' and not (byte)'\\';

    /// <summary>The state at automaton state <paramref name="state"/> after <paramref name="count"/> characters, on <paramref name="rest"/>.</summary>
    internal GrammarState StateAt(int state, int count, GrammarStack? rest) =>
        new([new GrammarStack(new StringFrame(this, state, count, Mode.Normal, 0, 0, 0, 0), rest)]);

    /// <summary>Whether <paramref name="frame"/> is inside a string of this kind between characters, and where.</summary>
    internal static bool TryPosition(GrammarFrame frame, out StringNode node, out int state, out int count)
    {
        if (frame is StringFrame { IsBetweenCharacters: true } s)
        {
            (node, state, count) = (s.Node, s.State, s.Count);
            return true;
        }

        (node, state, count) = (null!, 0, 0);
        return false;
    }

    /// <summary>Bytes of the cheapest character in <paramref name="low"/>..<paramref name="high"/> that a string can hold.</summary>
    internal static int CheapestCharacter(int low, int high)
    {
        static bool Overlaps(int low, int high, int a, int b) => low <= b && high >= a;

        if (Overlaps(low, high, 0x20, 0x21) || Overlaps(low, high, 0x23, 0x5B) || Overlaps(low, high, 0x5D, 0x7F))
        {
            return 1;
        }

        foreach (var (_, cp) in Escapes)
        {
            if (cp >= low && cp <= high)
            {
                return 2;
            }
        }

        if (Overlaps(low, high, 0x80, 0x7FF))
        {
            return 2;
        }

        if (Overlaps(low, high, 0x800, 0xD7FF) || Overlaps(low, high, 0xE000, 0xFFFF))
        {
            return 3;
        }

        return Overlaps(low, high, 0x10000, 0x10FFFF) ? 4 : GrammarMath.Infinite;
    }

    private int[] BuildTable()
    {
        var states = Dfa.StateCount;
        var table = new int[states * _columns];
        Array.Fill(table, GrammarMath.Infinite);
        var last = _columns - 1;

        // The last column: with a maximum, no more characters; without one, counts past the minimum are all alike,
        // so the column is a shortest-path problem over the automaton (Dijkstra backwards from accepting states).
        if (MaxLength is not null)
        {
            for (var q = 0; q < states; q++)
            {
                if (Dfa.Accepting[q] && last >= MinLength)
                {
                    table[(q * _columns) + last] = 1;
                }
            }
        }
        else
        {
            var reverse = new List<(int From, int Cost)>[states];
            for (var q = 0; q < states; q++)
            {
                reverse[q] = [];
            }

            for (var q = 0; q < states; q++)
            {
                foreach (var t in Dfa.Transitions[q])
                {
                    var cost = CheapestCharacter(t.Low, t.High);
                    if (cost < GrammarMath.Infinite)
                    {
                        reverse[t.Target].Add((q, cost));
                    }
                }
            }

            var queue = new PriorityQueue<int, int>();
            for (var q = 0; q < states; q++)
            {
                if (Dfa.Accepting[q])
                {
                    table[(q * _columns) + last] = 1;
                    queue.Enqueue(q, 1);
                }
            }

            while (queue.TryDequeue(out var q, out var distance))
            {
                if (distance > table[(q * _columns) + last])
                {
                    continue;
                }

                foreach (var (from, cost) in reverse[q])
                {
                    var candidate = distance + cost;
                    if (candidate < table[(from * _columns) + last])
                    {
                        table[(from * _columns) + last] = candidate;
                        queue.Enqueue(from, candidate);
                    }
                }
            }
        }

        // Each state's moves reduced once to the cheapest character per target state: an automaton over single
        // graphemes has hundreds of ranges per state, nearly all to the same target, and the loop below visits every
        // state once per counted length (up to MaxTableEntries in all), so it must not walk the ranges each time.
        var moves = new (int Target, int Cost)[states][];
        for (var q = 0; q < states; q++)
        {
            var cheapest = new Dictionary<int, int>();
            foreach (var t in Dfa.Transitions[q])
            {
                var cost = CheapestCharacter(t.Low, t.High);
                if (cost < GrammarMath.Infinite && (!cheapest.TryGetValue(t.Target, out var known) || cost < known))
                {
                    cheapest[t.Target] = cost;
                }
            }

            moves[q] = [.. cheapest.Select(m => (m.Key, m.Value))];
        }

        for (var count = last - 1; count >= 0; count--)
        {
            for (var q = 0; q < states; q++)
            {
                var best = Dfa.Accepting[q] && count >= MinLength ? 1 : GrammarMath.Infinite;
                foreach (var (target, cost) in moves[q])
                {
                    best = Math.Min(best, GrammarMath.Add(cost, table[(target * _columns) + count + 1]));
                }

                table[(q * _columns) + count] = best;
            }
        }

        return table;
    }

    private enum Mode : byte
    {
        Normal,
        Escape,
        Utf8,
    }

    /// <summary>Inside the string: automaton state, characters so far, and a character being read (escape or UTF-8).</summary>
    private sealed class StringFrame : GrammarFrame
    {
        private readonly StringNode _node;
        private readonly int _state;
        private readonly int _count;
        private readonly Mode _mode;
        private readonly int _need;      // UTF-8 continuation bytes still to come
        private readonly int _bits;      // code point bits so far
        private readonly int _nextLow;   // allowed range of the next continuation byte
        private readonly int _nextHigh;

        public StringFrame(StringNode node, int state, int count, Mode mode, int need, int bits, int nextLow, int nextHigh)
        {
            _node = node;
            _state = state;
            _count = count;
            _mode = mode;
            _need = need;
            _bits = bits;
            _nextLow = nextLow;
            _nextHigh = nextHigh;
            MinRemaining = ComputeMin();
        }

        public override int MinRemaining { get; }

        public override bool CanEnd => false;

        public bool IsBetweenCharacters => _mode == Mode.Normal;

        public StringNode Node => _node;

        public int State => _state;

        public int Count => _count;

        public override void Feed(byte b, GrammarStack? rest, List<GrammarStack> sink)
        {
            switch (_mode)
            {
                case Mode.Normal:
                    if (b == '"')
                    {
                        if (_node.Dfa.Accepting[_state] && _count >= _node.MinLength)
                        {
                            Pop(rest, sink);
                        }
                    }
                    else if (b == '\\')
                    {
                        Emit(sink, new StringFrame(_node, _state, _count, Mode.Escape, 0, 0, 0, 0), rest);
                    }
                    else if (b is >= 0x20 and < 0x80)
                    {
                        Character(b, rest, sink);
                    }
                    else if (b is >= 0xC2 and <= 0xF4)
                    {
                        var (need, bits, low, high) = b switch
                        {
                            <= 0xDF => (1, b & 0x1F, 0x80, 0xBF),
                            0xE0 => (2, 0, 0xA0, 0xBF),
                            0xED => (2, 0xD, 0x80, 0x9F),
                            <= 0xEF => (2, b & 0x0F, 0x80, 0xBF),
                            0xF0 => (3, 0, 0x90, 0xBF),
                            0xF4 => (3, 4, 0x80, 0x8F),
                            _ => (3, b & 0x07, 0x80, 0xBF),
                        };
                        Emit(sink, new StringFrame(_node, _state, _count, Mode.Utf8, need, bits, low, high), rest);
                    }

                    break;
                case Mode.Escape:
                    foreach (var (escape, cp) in Escapes)
                    {
                        if (escape == b)
                        {
                            Character(cp, rest, sink);
                        }
                    }

                    break;
                case Mode.Utf8:
                    if (b < _nextLow || b > _nextHigh)
                    {
                        break;
                    }

                    var codeBits = (_bits << 6) | (b & 0x3F);
                    if (_need == 1)
                    {
                        Character(codeBits, rest, sink);
                    }
                    else
                    {
                        Emit(sink, new StringFrame(_node, _state, _count, Mode.Utf8, _need - 1, codeBits, 0x80, 0xBF), rest);
                    }

                    break;
            }
        }

        private void Character(int cp, GrammarStack? rest, List<GrammarStack> sink)
        {
            var next = _node.Dfa.Step(_state, cp);
            if (next >= 0)
            {
                Emit(sink, new StringFrame(_node, next, _count + 1, Mode.Normal, 0, 0, 0, 0), rest);
            }
        }

        private int ComputeMin()
        {
            switch (_mode)
            {
                case Mode.Normal:
                    return _node.Closing(_state, _count);
                case Mode.Escape:
                {
                    var best = GrammarMath.Infinite;
                    foreach (var (_, cp) in Escapes)
                    {
                        var next = _node.Dfa.Step(_state, cp);
                        if (next >= 0)
                        {
                            best = Math.Min(best, GrammarMath.Add(1, _node.Closing(next, _count + 1)));
                        }
                    }

                    return best;
                }

                default:
                {
                    // The character's code point lies in [low, high]; every value there is valid UTF-8 from here.
                    var shift = 6 * (_need - 1);
                    var low = ((_bits << 6) | (_nextLow & 0x3F)) << shift;
                    var high = (((_bits << 6) | (_nextHigh & 0x3F)) << shift) | ((1 << shift) - 1);
                    var best = GrammarMath.Infinite;
                    foreach (var t in _node.Dfa.Transitions[_state])
                    {
                        if (t.High >= low && t.Low <= high)
                        {
                            best = Math.Min(best, _node.Closing(t.Target, _count + 1));
                        }
                    }

                    return GrammarMath.Add(_need, best);
                }
            }
        }
    }
}
