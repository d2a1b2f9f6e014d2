using System.Text;

namespace Enclave.Inference.Structured;

/// <summary>A declared property: its name as written in JSON (escaped, without quotes), its value, and whether it is required.</summary>
internal sealed record ObjectProperty(string Name, byte[] Key, GrammarNode Value, bool Required);

/// <summary>
/// A JSON object. Declared properties are written in the schema's order (as OpenAI's structured outputs do), each
/// optional one may be left out, required ones never; other keys (when <c>additionalProperties</c> allows them) may
/// come between them, never equal to a declared name or to each other, written without escapes.
/// </summary>
internal sealed class ObjectNode(IReadOnlyList<ObjectProperty> properties, GrammarNode? additional) : GrammarNode
{
    private readonly HashSet<string> _declared = [.. properties.Select(p => p.Name)];
    private readonly int _longestDeclared = properties.Count == 0 ? 0 : properties.Max(p => Encoding.UTF8.GetByteCount(p.Name));
    private int[] _closeAfterValue = [];
    private int[] _afterComma = [];
    private int[] _firstRequired = [];

    public IReadOnlyList<ObjectProperty> Properties { get; } = properties;

    public GrammarNode? Additional { get; } = additional;

    public override IEnumerable<GrammarNode> Children => Additional is null ? Properties.Select(p => p.Value) : [.. Properties.Select(p => p.Value), Additional];

    public override int ComputeMinBytes()
    {
        var (close, comma, _) = Tables();
        return GrammarMath.Add(1, AfterOpen(close, comma));
    }

    public override void Seal() => (_closeAfterValue, _afterComma, _firstRequired) = Tables();

    public override void Begin(byte b, GrammarStack rest, List<GrammarStack> sink)
    {
        if (b == '{')
        {
            var stack = new GrammarStack(new ObjectFrame(this, ObjectMode.AfterOpen, 0, null, null, [], -1), rest);
            if (stack.Alive)
            {
                sink.Add(stack);
            }
        }
    }

    private int AdditionalKeyMin => _declared.Contains(string.Empty) ? 3 : 2;

    private static int AfterOpen(int[] close, int[] comma) => Math.Min(close[0] == 1 ? 1 : GrammarMath.Infinite, comma[0]);

    /// <summary>
    /// Per position <c>next</c> (declared properties before it are behind us): fewest bytes to close after a value
    /// (each remaining required property with its comma, then '}'), fewest after a comma (one more property, then
    /// close), and the index of the first required property at or after <c>next</c>.
    /// </summary>
    private (int[] Close, int[] Comma, int[] FirstRequired) Tables()
    {
        var n = Properties.Count;
        var close = new int[n + 1];
        var firstRequired = new int[n + 1];
        close[n] = 1;
        firstRequired[n] = n;
        for (var i = n - 1; i >= 0; i--)
        {
            var p = Properties[i];
            close[i] = p.Required ? GrammarMath.Add(close[i + 1], PropertyCost(p), 1) : close[i + 1];
            firstRequired[i] = p.Required ? i : firstRequired[i + 1];
        }

        var comma = new int[n + 1];
        for (var i = 0; i <= n; i++)
        {
            var best = Additional is null ? GrammarMath.Infinite : GrammarMath.Add(AdditionalKeyMin + 1, Additional.MinBytes, close[i]);
            for (var j = i; j < n && j <= firstRequired[i]; j++)
            {
                best = Math.Min(best, GrammarMath.Add(PropertyCost(Properties[j]), close[j + 1]));
            }

            comma[i] = best;
        }

        return (close, comma, firstRequired);
    }

    /// <summary>"key":value, without a comma.</summary>
    private static int PropertyCost(ObjectProperty p) => GrammarMath.Add(p.Key.Length + 3, p.Value.MinBytes);

    private enum ObjectMode : byte
    {
        AfterOpen,
        AfterValue,
        AfterComma,
        InKey,
        AfterKey,
        Value,
    }

    /// <summary>A key being read: its bytes (a persistent list, newest first) and what is known of them so far.</summary>
    private sealed class KeyProgress
    {
        public static readonly KeyProgress Empty = new(null, 0, 0, true, 0, 0, 0);

        private KeyProgress(KeyProgress? previous, byte last, int length, bool plain, int pending, int nextLow, int nextHigh)
        {
            Previous = previous;
            Last = last;
            Length = length;
            Plain = plain;
            Pending = pending;
            NextLow = nextLow;
            NextHigh = nextHigh;
        }

        public KeyProgress? Previous { get; }

        public byte Last { get; }

        public int Length { get; }

        /// <summary>Plain UTF-8 so far (no escape, no control character, well-formed): what an additional key must be.</summary>
        public bool Plain { get; }

        /// <summary>Continuation bytes the last character still needs.</summary>
        public int Pending { get; }

        public int NextLow { get; }

        public int NextHigh { get; }

        public KeyProgress Append(byte b)
        {
            var plain = Plain;
            int pending = 0, low = 0, high = 0;
            if (plain)
            {
                if (Pending > 0)
                {
                    plain = b >= NextLow && b <= NextHigh;
                    (pending, low, high) = (Pending - 1, 0x80, 0xBF);
                }
                else if (b is < 0x20 or (byte)'\\' or (byte)'"')
                {
                    plain = false;
                }
                else if (b >= 0x80)
                {
                    (pending, low, high) = b switch
                    {
                        >= 0xC2 and <= 0xDF => (1, 0x80, 0xBF),
                        0xE0 => (2, 0xA0, 0xBF),
                        0xED => (2, 0x80, 0x9F),
                        >= 0xE1 and <= 0xEF => (2, 0x80, 0xBF),
                        0xF0 => (3, 0x90, 0xBF),
                        >= 0xF1 and <= 0xF3 => (3, 0x80, 0xBF),
                        0xF4 => (3, 0x80, 0x8F),
                        _ => (-1, 0, 0),
                    };
                    plain = pending > 0;
                }
            }

            return new KeyProgress(this, b, Length + 1, plain, plain ? pending : 0, low, high);
        }

        public byte[] ToArray()
        {
            var bytes = new byte[Length];
            var node = this;
            for (var i = Length - 1; i >= 0; i--)
            {
                bytes[i] = node!.Last;
                node = node.Previous;
            }

            return bytes;
        }
    }

    private sealed class ObjectFrame : GrammarFrame
    {
        private readonly ObjectNode _node;
        private readonly ObjectMode _mode;
        private readonly int _next;            // declared properties before this index are behind us
        private readonly KeyProgress? _key;    // InKey: the key so far
        private readonly int[]? _candidates;   // InKey: declared properties whose key begins with it
        private readonly string[] _extra;      // additional keys used
        private readonly int _target;          // AfterKey/Value: the declared property, or -1 for an additional one
        private string? _keyText;

        public ObjectFrame(ObjectNode node, ObjectMode mode, int next, KeyProgress? key, int[]? candidates, string[] extra, int target)
        {
            _node = node;
            _mode = mode;
            _next = next;
            _key = key;
            _candidates = candidates;
            _extra = extra;
            _target = target;
            MinRemaining = ComputeMin();
        }

        public override int MinRemaining { get; }

        public override bool CanEnd => false;

        public override void Feed(byte b, GrammarStack? rest, List<GrammarStack> sink)
        {
            switch (_mode)
            {
                case ObjectMode.AfterOpen:
                    if (b == '}' && _node._closeAfterValue[0] == 1)
                    {
                        Pop(rest, sink);
                    }
                    else if (b == '"')
                    {
                        StartKey(rest, sink);
                    }

                    break;
                case ObjectMode.AfterValue:
                    if (b == '}' && _node._closeAfterValue[_next] == 1)
                    {
                        Pop(rest, sink);
                    }
                    else if (b == ',')
                    {
                        Emit(sink, new ObjectFrame(_node, ObjectMode.AfterComma, _next, null, null, _extra, -1), rest);
                    }

                    break;
                case ObjectMode.AfterComma:
                    if (b == '"')
                    {
                        StartKey(rest, sink);
                    }

                    break;
                case ObjectMode.InKey:
                    FeedKey(b, rest, sink);
                    break;
                case ObjectMode.AfterKey:
                    if (b == ':')
                    {
                        Emit(sink, new ObjectFrame(_node, ObjectMode.Value, _next, null, null, _extra, _target), rest);
                    }

                    break;
                default:
                    var value = _target >= 0 ? _node.Properties[_target].Value : _node.Additional!;
                    var after = new GrammarStack(new ObjectFrame(_node, ObjectMode.AfterValue, _target >= 0 ? _target + 1 : _next, null, null, _extra, -1), rest);
                    if (after.Alive)
                    {
                        value.Begin(b, after, sink);
                    }

                    break;
            }
        }

        private void StartKey(GrammarStack? rest, List<GrammarStack> sink)
        {
            var candidates = new List<int>();
            for (var j = _next; j < _node.Properties.Count && j <= _node._firstRequired[_next]; j++)
            {
                candidates.Add(j);
            }

            Emit(sink, new ObjectFrame(_node, ObjectMode.InKey, _next, KeyProgress.Empty, [.. candidates], _extra, -1), rest);
        }

        private void FeedKey(byte b, GrammarStack? rest, List<GrammarStack> sink)
        {
            var key = _key!;
            if (b == '"')
            {
                foreach (var j in _candidates!)
                {
                    if (_node.Properties[j].Key.Length == key.Length)
                    {
                        Emit(sink, new ObjectFrame(_node, ObjectMode.AfterKey, j + 1, null, null, _extra, j), rest);
                    }
                }

                if (_node.Additional is not null && key.Plain && key.Pending == 0 && AdditionalKeyFree())
                {
                    Emit(sink, new ObjectFrame(_node, ObjectMode.AfterKey, _next, null, null, [.. _extra, KeyText()], -1), rest);
                }

                return;
            }

            var longer = key.Append(b);
            var candidates = _candidates!;
            var matching = 0;
            foreach (var j in candidates)
            {
                var k = _node.Properties[j].Key;
                if (k.Length > key.Length && k[key.Length] == b)
                {
                    matching++;
                }
            }

            if (matching != candidates.Length)
            {
                var kept = new int[matching];
                var i = 0;
                foreach (var j in candidates)
                {
                    var k = _node.Properties[j].Key;
                    if (k.Length > key.Length && k[key.Length] == b)
                    {
                        kept[i++] = j;
                    }
                }

                candidates = kept;
            }

            if (candidates.Length > 0 || (_node.Additional is not null && longer.Plain))
            {
                Emit(sink, new ObjectFrame(_node, ObjectMode.InKey, _next, longer, candidates, _extra, -1), rest);
            }
        }

        private int LongestTakenKey()
        {
            var longest = _node._longestDeclared;
            foreach (var extra in _extra)
            {
                longest = Math.Max(longest, Encoding.UTF8.GetByteCount(extra));
            }

            return longest;
        }

        private string KeyText() => _keyText ??= Encoding.UTF8.GetString(_key!.ToArray());

        private bool AdditionalKeyFree()
        {
            var name = KeyText();
            return !_node._declared.Contains(name) && !_extra.Contains(name, StringComparer.Ordinal);
        }

        private int ComputeMin()
        {
            var node = _node;
            switch (_mode)
            {
                case ObjectMode.AfterOpen:
                    return AfterOpen(node._closeAfterValue, node._afterComma);
                case ObjectMode.AfterValue:
                    return node._closeAfterValue[_next] == 1 ? 1 : Math.Min(node._closeAfterValue[_next], GrammarMath.Add(1, node._afterComma[_next]));
                case ObjectMode.AfterComma:
                    return node._afterComma[_next];
                case ObjectMode.AfterKey:
                    return GrammarMath.Add(1, ValueThenClose());
                case ObjectMode.Value:
                    return ValueThenClose();
                default:
                    return KeyMin();
            }
        }

        private int ValueThenClose() => _target >= 0
            ? GrammarMath.Add(_node.Properties[_target].Value.MinBytes, _node._closeAfterValue[_target + 1])
            : GrammarMath.Add(_node.Additional!.MinBytes, _node._closeAfterValue[_next]);

        private int KeyMin()
        {
            var key = _key!;
            var best = GrammarMath.Infinite;
            foreach (var j in _candidates!)
            {
                var p = _node.Properties[j];
                best = Math.Min(best, GrammarMath.Add(p.Key.Length - key.Length + 2, p.Value.MinBytes, _node._closeAfterValue[j + 1]));
            }

            if (_node.Additional is not null && key.Plain)
            {
                // Close the key now, or (when that name is taken) after one more character. A key longer than every
                // taken name cannot be taken, so long keys skip the check.
                var closeKey = key.Pending == 0 && key.Length <= LongestTakenKey() && !AdditionalKeyFree() ? 2 : key.Pending + 1;
                best = Math.Min(best, GrammarMath.Add(closeKey + 1, _node.Additional.MinBytes, _node._closeAfterValue[_next]));
            }

            return best;
        }
    }
}
