namespace Enclave.Inference.Structured;

/// <summary>
/// A compiled response format: the JSON documents a schema (or <c>json_object</c>) admits, as a graph of
/// <see cref="GrammarNode"/>s read byte by byte. Immutable and shared by every sequence that uses it (compiled schemas
/// are cached by the canonical schema's digest, <see cref="ResponseFormat"/>); each sequence keeps its own
/// <see cref="GrammarState"/>. Documents are compact: no whitespace outside strings.
/// </summary>
public sealed class JsonGrammar
{
    internal JsonGrammar(GrammarNode root, string digest)
    {
        Root = root;
        Digest = digest;
        var nodes = Collect(root);

        // Shortest documents, recursion included: every node starts at "none" and the values only fall.
        bool changed;
        do
        {
            changed = false;
            foreach (var node in nodes)
            {
                var min = node.ComputeMinBytes();
                if (min < node.MinBytes)
                {
                    node.MinBytes = min;
                    changed = true;
                }
            }
        }
        while (changed);

        foreach (var node in nodes)
        {
            node.Seal();
        }

        NodeCount = nodes.Count;
    }

    internal GrammarNode Root { get; }

    /// <summary>SHA-256 of the canonical JSON of the response format this grammar was compiled from.</summary>
    public string Digest { get; }

    /// <summary>Compiled nodes (a measure of the schema's size).</summary>
    public int NodeCount { get; }

    /// <summary>Bytes of the shortest document; <see cref="GrammarMath.Infinite"/> when the schema admits none.</summary>
    public int MinDocumentBytes => Root.MinBytes;

    internal GrammarState Start() => new([new GrammarStack(new RootFrame(Root, false), null)]);

    private static List<GrammarNode> Collect(GrammarNode root)
    {
        var seen = new HashSet<GrammarNode>(ReferenceEqualityComparer.Instance);
        var order = new List<GrammarNode>();
        var stack = new Stack<GrammarNode>();
        stack.Push(root);
        while (stack.Count > 0)
        {
            var node = stack.Pop();
            if (!seen.Add(node))
            {
                continue;
            }

            order.Add(node);
            foreach (var child in node.Children)
            {
                stack.Push(child);
            }
        }

        // Leaves first makes the fixpoint converge in few rounds.
        order.Reverse();
        return order;
    }
}

/// <summary>
/// Where a sequence is in its document: every way of reading the bytes so far that can still be completed (more than
/// one only under <c>anyOf</c> whose branches share a prefix). Immutable.
/// </summary>
internal sealed class GrammarState
{
    /// <summary>Most readings kept at once; beyond it the first are kept (each can still complete, so output stays valid).</summary>
    public const int MaxStacks = 64;

    private readonly GrammarStack[] _stacks;

    public GrammarState(GrammarStack[] stacks)
    {
        _stacks = stacks;
        var min = GrammarMath.Infinite;
        var canEnd = false;
        foreach (var s in stacks)
        {
            min = Math.Min(min, s.Min);
            canEnd |= s.CanEnd;
        }

        Min = min;
        CanEnd = canEnd;
    }

    /// <summary>Fewest bytes that complete the document; <see cref="GrammarMath.Infinite"/> when it cannot be.</summary>
    public int Min { get; }

    /// <summary>Whether the bytes so far are a complete document.</summary>
    public bool CanEnd { get; }

    public bool IsDead => _stacks.Length == 0;

    /// <summary>
    /// Whether the only reading is inside a string between characters (where most tokens of a document are): the
    /// mask then steps the string's automaton directly for tokens of plain characters.
    /// </summary>
    public bool TryInString(out StringNode node, out int state, out int count, out GrammarStack? rest)
    {
        if (_stacks.Length == 1 && StringNode.TryPosition(_stacks[0].Top, out node, out state, out count))
        {
            rest = _stacks[0].Rest;
            return true;
        }

        (node, state, count, rest) = (null!, 0, 0, null);
        return false;
    }

    private static readonly GrammarState Dead = new([]);

    [ThreadStatic]
    private static List<GrammarStack>? t_sink;

    public GrammarState Advance(byte b)
    {
        var sink = t_sink ??= new List<GrammarStack>(8);
        sink.Clear();
        foreach (var stack in _stacks)
        {
            stack.Top.Feed(b, stack.Rest, sink);
            if (sink.Count >= MaxStacks)
            {
                break;
            }
        }

        if (sink.Count == 0)
        {
            return Dead;
        }

        var stacks = sink.Count > MaxStacks ? sink.GetRange(0, MaxStacks).ToArray() : sink.ToArray();
        sink.Clear();
        return new GrammarState(stacks);
    }

    public GrammarState Advance(ReadOnlySpan<byte> bytes)
    {
        var state = this;
        foreach (var b in bytes)
        {
            state = state.Advance(b);
            if (state.IsDead)
            {
                break;
            }
        }

        return state;
    }
}
