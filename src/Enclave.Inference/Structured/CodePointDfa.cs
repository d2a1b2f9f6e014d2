namespace Enclave.Inference.Structured;

/// <summary>
/// A deterministic automaton over Unicode code points: per state, sorted disjoint ranges with a target state, and
/// whether the state accepts. Built from a pattern by <see cref="PatternCompiler"/>; state 0 is the start.
/// </summary>
internal sealed class CodePointDfa
{
    public CodePointDfa(CodePointTransition[][] transitions, bool[] accepting)
    {
        Transitions = transitions;
        Accepting = accepting;
    }

    /// <summary>Per state, its transitions sorted by <see cref="CodePointTransition.Low"/>, not overlapping.</summary>
    public CodePointTransition[][] Transitions { get; }

    public bool[] Accepting { get; }

    public int StateCount => Accepting.Length;

    /// <summary>Every character of the basic multilingual plane but the surrogates, in one accepting state.</summary>
    public static CodePointDfa AnyText { get; } = new(
        [[new CodePointTransition(0, 0xD7FF, 0), new CodePointTransition(0xE000, 0x10FFFF, 0)]],
        [true]);

    /// <summary>The state after <paramref name="codePoint"/>, or -1 when the automaton refuses it.</summary>
    public int Step(int state, int codePoint)
    {
        var row = Transitions[state];
        int lo = 0, hi = row.Length - 1;
        while (lo <= hi)
        {
            var mid = (lo + hi) >>> 1;
            if (codePoint < row[mid].Low)
            {
                hi = mid - 1;
            }
            else if (codePoint > row[mid].High)
            {
                lo = mid + 1;
            }
            else
            {
                return row[mid].Target;
            }
        }

        return -1;
    }
}

/// <summary>Code points <see cref="Low"/>..<see cref="High"/> (inclusive) lead to <see cref="Target"/>.</summary>
internal readonly record struct CodePointTransition(int Low, int High, int Target);
