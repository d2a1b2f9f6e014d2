namespace Enclave.Inference.Structured;

/// <summary>
/// Constrained decoding of one sequence: before each token, every logit whose token cannot continue a valid document
/// is set to negative infinity (a walk of the vocabulary trie from the sequence's grammar state); EOS is allowed only
/// once the document is complete. A token is also refused when, after it, the document could no longer be completed
/// within the tokens left (each byte can be spelled as a token of its own), so a document that fits in max_tokens is
/// always finished; when even the shortest document does not fit, generation runs out with finish_reason "length"
/// and an incomplete document, as OpenAI's does.
/// Written here because no .NET library does token-level constrained decoding (llguidance, xgrammar and outlines are
/// Rust, C++ and Python, and llama.cpp's GBNF sampler is C++ bound to its own tokenizer).
/// </summary>
internal sealed class GrammarConstraint
{
    private readonly JsonGrammar _grammar;
    private readonly TokenVocabulary _vocabulary;
    private readonly IReadOnlySet<int> _eos;
    private readonly int[] _after; // per token: bytes still needed after it, this step
    private readonly List<int> _touched = [];
    private GrammarState _state;

    public GrammarConstraint(JsonGrammar grammar, TokenVocabulary vocabulary, IReadOnlySet<int> eos)
    {
        _grammar = grammar;
        _vocabulary = vocabulary;
        _eos = eos;
        _after = new int[vocabulary.Size];
        Array.Fill(_after, GrammarMath.Infinite);
        _state = grammar.Start();
    }

    /// <summary>Whether the text so far is a complete document.</summary>
    public bool IsComplete => _state.CanEnd;

    /// <summary>Fewest bytes that complete the document from here.</summary>
    public int BytesToComplete => _state.Min;

    /// <summary>
    /// Sets the logits of disallowed tokens to negative infinity. <paramref name="tokensLeft"/>: tokens that may still
    /// be generated after this one.
    /// </summary>
    public void Mask(Span<float> logits, int tokensLeft)
    {
        Walk();
        var budget = tokensLeft - 1; // one token must remain for EOS
        var eosAllowed = _state.CanEnd;
        var any = eosAllowed;
        foreach (var id in _touched)
        {
            if (_after[id] <= budget)
            {
                any = true;
                break;
            }
        }

        // Nothing fits the budget (max_tokens below the shortest document): any live token, until "length".
        var threshold = any ? budget : GrammarMath.Infinite - 1;
        Span<bool> allowed = logits.Length <= 4096 ? stackalloc bool[logits.Length] : new bool[logits.Length];
        foreach (var id in _touched)
        {
            if (id < logits.Length && _after[id] <= threshold)
            {
                allowed[id] = true;
            }

            _after[id] = GrammarMath.Infinite;
        }

        _touched.Clear();
        if (eosAllowed)
        {
            foreach (var id in _eos)
            {
                if ((uint)id < (uint)logits.Length)
                {
                    allowed[id] = true;
                }
            }
        }

        for (var i = 0; i < logits.Length; i++)
        {
            if (!allowed[i])
            {
                logits[i] = float.NegativeInfinity;
            }
        }
    }

    /// <summary>Moves past the chosen token (not an EOS).</summary>
    /// <exception cref="InvalidOperationException">The token was not allowed (a bug: the mask admits only live tokens).</exception>
    public void Accept(int id)
    {
        var bytes = _vocabulary.BytesOf(id) ?? throw new InvalidOperationException($"token {id} writes no text and cannot be part of the document");
        var next = _state.Advance(bytes);
        if (next.IsDead)
        {
            throw new InvalidOperationException($"token {id} cannot continue the document of grammar {_grammar.Digest}");
        }

        _state = next;
    }

    /// <summary>
    /// For every token that can follow, the bytes still needed after it (depth-first over the trie). Inside a string,
    /// runs of plain characters step the string's automaton without building grammar states; a state is built only
    /// where a path leaves the plain characters (a quote, an escape, a multi-byte character).
    /// </summary>
    private void Walk()
    {
        var children = _vocabulary.Children;
        var tokens = _vocabulary.Tokens;
        var stack = new Stack<Cursor>();
        stack.Push(_state.TryInString(out var root, out var rootQ, out var rootCount, out var rootRest)
            ? Cursor.InString(0, root, rootQ, rootCount, rootRest)
            : Cursor.Full(0, _state));
        while (stack.Count > 0)
        {
            var cursor = stack.Pop();
            foreach (var (value, child) in children[cursor.Node])
            {
                Cursor next;
                int min;
                if (cursor.State is null && StringNode.IsPlain(value))
                {
                    var q = cursor.String!.Dfa.Step(cursor.DfaState, value);
                    if (q < 0)
                    {
                        continue;
                    }

                    min = GrammarMath.Add(cursor.String.Closing(q, cursor.Count + 1), cursor.Rest?.Min ?? 0);
                    if (min >= GrammarMath.Infinite)
                    {
                        continue;
                    }

                    next = Cursor.InString(child, cursor.String, q, cursor.Count + 1, cursor.Rest);
                }
                else
                {
                    var state = cursor.State ?? cursor.String!.StateAt(cursor.DfaState, cursor.Count, cursor.Rest);
                    var advanced = state.Advance(value);
                    if (advanced.IsDead)
                    {
                        continue;
                    }

                    min = advanced.Min;
                    next = advanced.TryInString(out var node, out var q, out var count, out var rest)
                        ? Cursor.InString(child, node, q, count, rest)
                        : Cursor.Full(child, advanced);
                }

                foreach (var id in tokens[child])
                {
                    _after[id] = min;
                    _touched.Add(id);
                }

                if (children[child].Length > 0)
                {
                    stack.Push(next);
                }
            }
        }
    }

    /// <summary>A trie node with the grammar state its path leads to: a full state, or a position inside a string.</summary>
    private readonly record struct Cursor(int Node, GrammarState? State, StringNode? String, int DfaState, int Count, GrammarStack? Rest)
    {
        public static Cursor Full(int node, GrammarState state) => new(node, state, null, 0, 0, null);

        public static Cursor InString(int node, StringNode s, int q, int count, GrammarStack? rest) => new(node, null, s, q, count, rest);
    }
}
