namespace Enclave.Inference.Onnx;

/// <summary>
/// Picks the next token from a row of logits: argmax at temperature 0 (or top_k 1), else temperature, top-k, top-p,
/// and a draw from the request's own seeded generator. Only the candidates a cut can keep are sorted: top-k selects
/// with a k-sized heap, and top-p alone sorts just the tokens of probability at least (1 - p) / V, which always
/// contain the nucleus (the others together weigh less than 1 - p). Reuses its scratch arrays across steps.
/// </summary>
internal sealed class Sampler
{
    private readonly SamplingOptions _options;
    private readonly Random _random;
    private int[] _indices = [];
    private float[] _keys = [];
    private double[] _weights = [];

    public Sampler(SamplingOptions options, int seed)
    {
        _options = options;
#pragma warning disable CA5394 // Sampling must be reproducible from the request's seed; nothing secret depends on it.
        _random = new Random(seed);
#pragma warning restore CA5394
    }

    public int Next(ReadOnlySpan<float> logits)
    {
        if (_options.Temperature <= 0f || _options.TopK == 1)
        {
            return ArgMax(logits);
        }

        var vocab = logits.Length;
        if (_indices.Length < vocab)
        {
            _indices = new int[vocab];
            _keys = new float[vocab];
            _weights = new double[vocab];
        }

        var inverseTemperature = 1.0 / _options.Temperature;
        var max = logits[ArgMax(logits)];
        int count;
        var sorted = true;
        var mass = double.NaN; // the mass top-p cuts: the whole distribution, or the top-k renormalised
        if (_options.TopK > 0 && _options.TopK < vocab)
        {
            count = SelectTopK(logits, _options.TopK);
        }
        else if (_options.TopP < 1f)
        {
            var total = 0.0;
            for (var i = 0; i < vocab; i++)
            {
                total += _weights[i] = Math.Exp((logits[i] - max) * inverseTemperature);
            }

            mass = total;
            var floor = (1.0 - _options.TopP) / vocab * total;
            count = 0;
            for (var i = 0; i < vocab; i++)
            {
                if (_weights[i] >= floor)
                {
                    _indices[count++] = i;
                }
            }
        }
        else
        {
            count = vocab;
            for (var i = 0; i < vocab; i++)
            {
                _indices[i] = i;
            }

            sorted = false;
        }

        var candidates = _indices.AsSpan(0, count);
        if (sorted)
        {
            SortDescending(logits, candidates);
        }

        var weights = _weights.AsSpan(0, count);
        var sum = 0.0;
        for (var i = 0; i < count; i++)
        {
            sum += weights[i] = Math.Exp((logits[candidates[i]] - max) * inverseTemperature);
        }

        var kept = count;
        if (_options.TopP < 1f)
        {
            var target = _options.TopP * (double.IsNaN(mass) ? sum : mass);
            var cumulative = 0.0;
            for (var i = 0; i < count; i++)
            {
                cumulative += weights[i];
                if (cumulative >= target)
                {
                    kept = i + 1;
                    break;
                }
            }

            sum = 0;
            for (var i = 0; i < kept; i++)
            {
                sum += weights[i];
            }
        }

#pragma warning disable CA5394
        var draw = _random.NextDouble() * sum;
#pragma warning restore CA5394
        var last = candidates[0];
        for (var i = 0; i < kept; i++)
        {
            draw -= weights[i];
            if (draw < 0)
            {
                return candidates[i];
            }

            if (weights[i] > 0)
            {
                last = candidates[i];
            }
        }

        // Rounding left a crumb of the draw: the last candidate that can be drawn at all (never a masked one).
        return last;
    }

    public static int ArgMax(ReadOnlySpan<float> logits)
    {
        var best = 0;
        for (var i = 1; i < logits.Length; i++)
        {
            if (logits[i] > logits[best])
            {
                best = i;
            }
        }

        return best;
    }

    /// <summary>Puts the <paramref name="k"/> best tokens (higher logit, then lower ID) in _indices[..k], unordered.</summary>
    private int SelectTopK(ReadOnlySpan<float> logits, int k)
    {
        // A min-heap of the best k so far: its root is the worst of them.
        var heap = _indices.AsSpan(0, k);
        for (var i = 0; i < k; i++)
        {
            heap[i] = i;
            SiftUp(logits, heap, i);
        }

        for (var i = k; i < logits.Length; i++)
        {
            if (Better(logits, i, heap[0]))
            {
                heap[0] = i;
                SiftDown(logits, heap, 0);
            }
        }

        return k;
    }

    private static bool Better(ReadOnlySpan<float> logits, int a, int b) => logits[a] > logits[b] || (logits[a] == logits[b] && a < b);

    private static void SiftUp(ReadOnlySpan<float> logits, Span<int> heap, int i)
    {
        while (i > 0)
        {
            var parent = (i - 1) / 2;
            if (!Better(logits, heap[parent], heap[i]))
            {
                break;
            }

            (heap[parent], heap[i]) = (heap[i], heap[parent]);
            i = parent;
        }
    }

    private static void SiftDown(ReadOnlySpan<float> logits, Span<int> heap, int i)
    {
        while (true)
        {
            var worst = i;
            var left = (2 * i) + 1;
            var right = left + 1;
            if (left < heap.Length && Better(logits, heap[worst], heap[left]))
            {
                worst = left;
            }

            if (right < heap.Length && Better(logits, heap[worst], heap[right]))
            {
                worst = right;
            }

            if (worst == i)
            {
                return;
            }

            (heap[worst], heap[i]) = (heap[i], heap[worst]);
            i = worst;
        }
    }

    /// <summary>Orders candidates by logit, highest first, ties by lower ID (Span.Sort is not stable, so ties are fixed up).</summary>
    private void SortDescending(ReadOnlySpan<float> logits, Span<int> candidates)
    {
        var keys = _keys.AsSpan(0, candidates.Length);
        for (var i = 0; i < candidates.Length; i++)
        {
            keys[i] = -logits[candidates[i]];
        }

        keys.Sort(candidates);
        var start = 0;
        for (var i = 1; i <= keys.Length; i++)
        {
            if (i == keys.Length || keys[i] != keys[start])
            {
                if (i - start > 1)
                {
                    candidates[start..i].Sort();
                }

                start = i;
            }
        }
    }
}
