namespace Enclave.Inference.Structured;

/// <summary>
/// A compiled (sub)schema: what one JSON value may be, read byte by byte. <see cref="MinBytes"/> is the length of the
/// shortest value it admits, found for the whole graph at once (recursive references included) by
/// <see cref="JsonGrammar"/>; <see cref="GrammarMath.Infinite"/> when it admits none.
/// </summary>
internal abstract class GrammarNode
{
    public int MinBytes { get; set; } = GrammarMath.Infinite;

    /// <summary>The nodes this one refers to.</summary>
    public virtual IEnumerable<GrammarNode> Children => [];

    /// <summary><see cref="MinBytes"/> from the children's current values (one round of the fixpoint).</summary>
    public abstract int ComputeMinBytes();

    /// <summary>Called once the fixpoint is reached, to precompute tables from the children's final values.</summary>
    public virtual void Seal()
    {
    }

    /// <summary>Reads the first byte of a value; the frames that follow go onto <paramref name="rest"/>.</summary>
    public abstract void Begin(byte b, GrammarStack rest, List<GrammarStack> sink);
}

/// <summary>A value that is one of the alternatives (anyOf, a oneOf proven exclusive, a list of types).</summary>
internal sealed class AnyOfNode(IReadOnlyList<GrammarNode> alternatives) : GrammarNode
{
    public IReadOnlyList<GrammarNode> Alternatives { get; } = alternatives;

    public override IEnumerable<GrammarNode> Children => Alternatives;

    public override int ComputeMinBytes() => Alternatives.Count == 0 ? GrammarMath.Infinite : Alternatives.Min(a => a.MinBytes);

    public override void Begin(byte b, GrammarStack rest, List<GrammarStack> sink)
    {
        foreach (var alternative in Alternatives)
        {
            if (alternative.MinBytes < GrammarMath.Infinite)
            {
                alternative.Begin(b, rest, sink);
            }
        }
    }
}

/// <summary>A <c>$ref</c>: resolved after the schema it points into is compiled, so references may be recursive.</summary>
internal sealed class RefNode : GrammarNode
{
    public GrammarNode? Target { get; set; }

    public override IEnumerable<GrammarNode> Children => Target is null ? [] : [Target];

    public override int ComputeMinBytes() => Target?.MinBytes ?? GrammarMath.Infinite;

    public override void Begin(byte b, GrammarStack rest, List<GrammarStack> sink) => Target?.Begin(b, rest, sink);
}

/// <summary>One of fixed JSON texts: <c>const</c>, <c>enum</c>, <c>true</c>, <c>false</c>, <c>null</c>.</summary>
internal sealed class LiteralNode(IReadOnlyList<byte[]> values) : GrammarNode
{
    public IReadOnlyList<byte[]> Values { get; } = values;

    public override int ComputeMinBytes() => Values.Count == 0 ? GrammarMath.Infinite : Values.Min(v => v.Length);

    public override void Begin(byte b, GrammarStack rest, List<GrammarStack> sink)
    {
        var alive = new List<int>();
        for (var i = 0; i < Values.Count; i++)
        {
            if (Values[i][0] == b)
            {
                alive.Add(i);
            }
        }

        if (alive.Count > 0)
        {
            var frame = new LiteralFrame(this, 1, [.. alive]);
            var stack = new GrammarStack(frame, rest);
            if (stack.Alive)
            {
                sink.Add(stack);
            }
        }
    }

    private sealed class LiteralFrame(LiteralNode node, int position, int[] alive) : GrammarFrame
    {
        public override int MinRemaining { get; } = alive.Min(i => node.Values[i].Length) - position;

        public override bool CanEnd => MinRemaining == 0;

        public override void Feed(byte b, GrammarStack? rest, List<GrammarStack> sink)
        {
            List<int>? next = null;
            foreach (var i in alive)
            {
                var value = node.Values[i];
                if (value.Length > position && value[position] == b)
                {
                    (next ??= []).Add(i);
                }
            }

            if (next is not null)
            {
                Emit(sink, new LiteralFrame(node, position + 1, [.. next]), rest);
            }

            if (CanEnd)
            {
                Forward(b, rest, sink);
            }
        }
    }
}
