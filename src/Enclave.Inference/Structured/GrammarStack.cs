namespace Enclave.Inference.Structured;

/// <summary>
/// One way of reading the bytes so far: an immutable stack of <see cref="GrammarFrame"/>s (the innermost value on
/// top, the document's root frame at the bottom). Stacks share their tails, so a step copies only what changes.
/// <see cref="Min"/> is the fewest bytes that complete the document from here; a stack whose <see cref="Min"/> is
/// <see cref="GrammarMath.Infinite"/> cannot be completed and is never kept.
/// </summary>
internal sealed class GrammarStack
{
    public GrammarStack(GrammarFrame top, GrammarStack? rest)
    {
        Top = top;
        Rest = rest;
        Min = GrammarMath.Add(top.MinRemaining, rest?.Min ?? 0);
        CanEnd = top.CanEnd && (rest?.CanEnd ?? true);
    }

    public GrammarFrame Top { get; }

    public GrammarStack? Rest { get; }

    /// <summary>Fewest bytes that complete the document from here.</summary>
    public int Min { get; }

    /// <summary>Whether the document is complete if the input ends here.</summary>
    public bool CanEnd { get; }

    public bool Alive => Min < GrammarMath.Infinite;
}

/// <summary>The part of a stack that reads one value (an object, a string, a number...), immutable.</summary>
internal abstract class GrammarFrame
{
    /// <summary>Fewest bytes that finish this frame's value (its parents not counted).</summary>
    public abstract int MinRemaining { get; }

    /// <summary>Whether this frame's value may end before the next byte (a number may always grow, a string may not).</summary>
    public abstract bool CanEnd { get; }

    /// <summary>Reads <paramref name="b"/>; every stack that can follow goes to <paramref name="sink"/>.</summary>
    public abstract void Feed(byte b, GrammarStack? rest, List<GrammarStack> sink);

    /// <summary>Adds the stack when it can still complete.</summary>
    protected static void Emit(List<GrammarStack> sink, GrammarFrame frame, GrammarStack? rest)
    {
        var stack = new GrammarStack(frame, rest);
        if (stack.Alive)
        {
            sink.Add(stack);
        }
    }

    /// <summary>This frame's value ended without <paramref name="b"/>: the parent reads it.</summary>
    protected static void Forward(byte b, GrammarStack? rest, List<GrammarStack> sink)
    {
        if (rest is not null)
        {
            rest.Top.Feed(b, rest.Rest, sink);
        }
    }

    /// <summary>This frame's value ended with the byte just read: the parent continues.</summary>
    protected static void Pop(GrammarStack? rest, List<GrammarStack> sink)
    {
        if (rest is not null && rest.Alive)
        {
            sink.Add(rest);
        }
    }
}

/// <summary>Saturating arithmetic on byte counts, where <see cref="Infinite"/> means "cannot be completed".</summary>
internal static class GrammarMath
{
    public const int Infinite = int.MaxValue / 4;

    public static int Add(int a, int b) => Math.Min(Infinite, a + b);

    public static int Add(int a, int b, int c) => Add(Add(a, b), c);
}

/// <summary>The bottom of every stack: the document is one value, then nothing (no whitespace around it).</summary>
internal sealed class RootFrame(GrammarNode node, bool done) : GrammarFrame
{
    public override int MinRemaining => done ? 0 : node.MinBytes;

    public override bool CanEnd => done;

    public override void Feed(byte b, GrammarStack? rest, List<GrammarStack> sink)
    {
        if (!done)
        {
            node.Begin(b, new GrammarStack(new RootFrame(node, true), null), sink);
        }
    }
}
