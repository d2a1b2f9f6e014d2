namespace Enclave.Inference.Onnx;

/// <summary>
/// Picks the next token from a row of logits: argmax at temperature 0, else temperature, top-k, top-p, and a draw from
/// the request's own seeded generator. Reuses its scratch arrays across the steps of one sequence.
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

        var inverseTemperature = 1.0 / _options.Temperature;
        var count = logits.Length;
        var topK = _options.TopK > 0 ? Math.Min(_options.TopK, count) : count;
        var needsOrder = topK < count || _options.TopP < 1f;
        if (_indices.Length < count)
        {
            _indices = new int[count];
            _keys = new float[count];
            _weights = new double[count];
        }

        var indices = _indices.AsSpan(0, count);
        for (var i = 0; i < count; i++)
        {
            indices[i] = i;
        }

        if (needsOrder)
        {
            // Descending by logit, ties by lower ID, so that the cut is deterministic.
            var keys = _keys.AsSpan(0, count);
            for (var i = 0; i < count; i++)
            {
                keys[i] = -logits[i];
            }

            keys.Sort(indices);
            StableTies(keys, indices);
        }

        var candidates = indices[..topK];
        var max = double.NegativeInfinity;
        foreach (var index in candidates)
        {
            max = Math.Max(max, logits[index]);
        }

        var weights = _weights.AsSpan(0, topK);
        var total = 0.0;
        for (var i = 0; i < topK; i++)
        {
            weights[i] = Math.Exp((logits[candidates[i]] - max) * inverseTemperature);
            total += weights[i];
        }

        var kept = topK;
        if (_options.TopP < 1f)
        {
            var cumulative = 0.0;
            for (var i = 0; i < topK; i++)
            {
                cumulative += weights[i];
                if (cumulative >= _options.TopP * total)
                {
                    kept = i + 1;
                    break;
                }
            }

            total = 0;
            for (var i = 0; i < kept; i++)
            {
                total += weights[i];
            }
        }

#pragma warning disable CA5394
        var draw = _random.NextDouble() * total;
#pragma warning restore CA5394
        for (var i = 0; i < kept; i++)
        {
            draw -= weights[i];
            if (draw < 0)
            {
                return candidates[i];
            }
        }

        return candidates[kept - 1];
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

    /// <summary>Span.Sort is not stable: order runs of equal keys by index.</summary>
    private static void StableTies(Span<float> keys, Span<int> indices)
    {
        var start = 0;
        for (var i = 1; i <= keys.Length; i++)
        {
            if (i == keys.Length || keys[i] != keys[start])
            {
                if (i - start > 1)
                {
                    indices[start..i].Sort();
                }

                start = i;
            }
        }
    }
}
