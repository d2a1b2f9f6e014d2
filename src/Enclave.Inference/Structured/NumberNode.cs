namespace Enclave.Inference.Structured;

/// <summary>
/// A JSON number (or integer) within optional bounds, written without exponent, with at most
/// <see cref="MaxIntegerDigits"/> integer digits and <see cref="MaxFractionDigits"/> fraction digits (15 significant
/// digits at most, so every number written is exact as a double and compares with a bound the same way in any
/// validator). Which digits may come next is decided exactly: the numbers a prefix can still become form a few
/// arithmetic progressions, each checked against the bounds in <see cref="decimal"/> arithmetic.
/// </summary>
internal sealed class NumberNode : GrammarNode
{
    private static readonly decimal[] PowersOfTen = [.. Enumerable.Range(0, 20).Select(i => Pow10(i))];

    public NumberNode(bool integer, decimal? minimum, bool exclusiveMinimum, decimal? maximum, bool exclusiveMaximum)
    {
        Integer = integer;
        Minimum = minimum;
        ExclusiveMinimum = exclusiveMinimum;
        Maximum = maximum;
        ExclusiveMaximum = exclusiveMaximum;
        MaxIntegerDigits = integer ? 15 : 11;
        MaxFractionDigits = integer ? 0 : 4;
    }

    public bool Integer { get; }

    public decimal? Minimum { get; }

    public bool ExclusiveMinimum { get; }

    public decimal? Maximum { get; }

    public bool ExclusiveMaximum { get; }

    public int MaxIntegerDigits { get; }

    public int MaxFractionDigits { get; }

    public override int ComputeMinBytes()
    {
        var best = GrammarMath.Infinite;
        best = Math.Min(best, GrammarMath.Add(1, new NumberFrame(this, true, 0, 0, false, 0, 0).MinRemaining));
        for (var d = 0; d <= 9; d++)
        {
            best = Math.Min(best, GrammarMath.Add(1, new NumberFrame(this, false, 1, d, false, 0, 0).MinRemaining));
        }

        return best;
    }

    public override void Begin(byte b, GrammarStack rest, List<GrammarStack> sink)
    {
        NumberFrame? frame = b switch
        {
            (byte)'-' => new NumberFrame(this, true, 0, 0, false, 0, 0),
            >= (byte)'0' and <= (byte)'9' => new NumberFrame(this, false, 1, b - '0', false, 0, 0),
            _ => null,
        };
        if (frame is not null)
        {
            var stack = new GrammarStack(frame, rest);
            if (stack.Alive)
            {
                sink.Add(stack);
            }
        }
    }

    private static decimal Pow10(int exponent)
    {
        var value = 1m;
        for (var i = 0; i < exponent; i++)
        {
            value *= 10m;
        }

        return value;
    }

    private static decimal NegPow10(int exponent) => 1m / PowersOfTen[exponent];

    /// <summary>Whether some value in low, low + step, ..., high lies within the bounds.</summary>
    private bool Feasible(decimal low, decimal high, decimal step)
    {
        var v = low;
        if (Minimum is { } min)
        {
            if (v < min)
            {
                v = low + (decimal.Ceiling((min - low) / step) * step);
            }

            if (ExclusiveMinimum && v == min)
            {
                v += step;
            }
        }

        if (v > high)
        {
            return false;
        }

        return Maximum is not { } max || (ExclusiveMaximum ? v < max : v <= max);
    }

    /// <summary>Whether a number with these magnitudes (an arithmetic progression) and sign can be in range.</summary>
    private bool FeasibleSigned(bool negative, decimal low, decimal high, decimal step) =>
        negative ? Feasible(-high, -low, step) : Feasible(low, high, step);

    /// <summary>A prefix: sign, integer digits (count and value), and after a dot the fraction digits (count and value).</summary>
    private sealed class NumberFrame : GrammarFrame
    {
        private readonly NumberNode _node;
        private readonly bool _negative;
        private readonly int _intDigits;
        private readonly decimal _intValue;
        private readonly bool _dot;
        private readonly int _fracDigits;
        private readonly decimal _fracValue; // the fraction's value, 0.xyz

        public NumberFrame(NumberNode node, bool negative, int intDigits, decimal intValue, bool dot, int fracDigits, decimal fracValue)
        {
            _node = node;
            _negative = negative;
            _intDigits = intDigits;
            _intValue = intValue;
            _dot = dot;
            _fracDigits = fracDigits;
            _fracValue = fracValue;
            MinRemaining = ComputeMin();
            CanEnd = MinRemaining == 0;
        }

        public override int MinRemaining { get; }

        public override bool CanEnd { get; }

        public override void Feed(byte b, GrammarStack? rest, List<GrammarStack> sink)
        {
            if (b is >= (byte)'0' and <= (byte)'9')
            {
                var digit = b - '0';
                if (!_dot && _intDigits < _node.MaxIntegerDigits && !(_intDigits == 1 && _intValue == 0))
                {
                    Emit(sink, new NumberFrame(_node, _negative, _intDigits + 1, (_intValue * 10) + digit, false, 0, 0), rest);
                }
                else if (_dot && _fracDigits < _node.MaxFractionDigits)
                {
                    Emit(sink, new NumberFrame(_node, _negative, _intDigits, _intValue, true, _fracDigits + 1, _fracValue + (digit * NegPow10(_fracDigits + 1))), rest);
                }
            }
            else if (b == '.' && !_dot && _intDigits > 0 && _node.MaxFractionDigits > 0)
            {
                Emit(sink, new NumberFrame(_node, _negative, _intDigits, _intValue, true, 0, 0), rest);
            }

            if (CanEnd)
            {
                Forward(b, rest, sink);
            }
        }

        private int ComputeMin()
        {
            var longest = _node.MaxIntegerDigits + _node.MaxFractionDigits + 1;
            for (var length = 0; length <= longest; length++)
            {
                if (ExistsCompletion(length))
                {
                    return length;
                }
            }

            return GrammarMath.Infinite;
        }

        /// <summary>Whether some completion of exactly <paramref name="length"/> more bytes is a number within bounds.</summary>
        private bool ExistsCompletion(int length)
        {
            if (_dot)
            {
                var more = length;
                if ((_fracDigits == 0 && more == 0) || _fracDigits + more > _node.MaxFractionDigits)
                {
                    return false;
                }

                var magnitude = _intValue + _fracValue;
                if (more == 0)
                {
                    return _node.FeasibleSigned(_negative, magnitude, magnitude, 1m);
                }

                var step = NegPow10(_fracDigits + more);
                return _node.FeasibleSigned(_negative, magnitude, magnitude + NegPow10(_fracDigits) - step, step);
            }

            // a more integer digits, then optionally '.' and f fraction digits: length = a + (f > 0 ? f + 1 : 0).
            for (var fraction = 0; fraction <= _node.MaxFractionDigits; fraction++)
            {
                var a = length - (fraction > 0 ? fraction + 1 : 0);
                if (a < 0)
                {
                    break;
                }

                if (_intDigits + a > _node.MaxIntegerDigits || (_intDigits == 0 && a == 0))
                {
                    continue;
                }

                if (_intDigits == 1 && _intValue == 0 && a > 0)
                {
                    continue; // no digit after a leading zero
                }

                decimal low, high;
                if (_intDigits == 0)
                {
                    low = a == 1 ? 0 : PowersOfTen[a - 1];
                    high = PowersOfTen[a] - 1;
                }
                else
                {
                    low = _intValue * PowersOfTen[a];
                    high = low + PowersOfTen[a] - 1;
                }

                if (fraction == 0)
                {
                    if (_node.FeasibleSigned(_negative, low, high, 1m))
                    {
                        return true;
                    }
                }
                else
                {
                    var step = NegPow10(fraction);
                    if (_node.FeasibleSigned(_negative, low, high + 1 - step, step))
                    {
                        return true;
                    }
                }
            }

            return false;
        }
    }
}
