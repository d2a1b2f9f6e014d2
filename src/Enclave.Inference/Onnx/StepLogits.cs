using Enclave.Inference.Structured;

namespace Enclave.Inference.Onnx;

/// <summary>
/// One sequence's per-step logit processing, in OpenAI's order: <c>logit_bias</c> added, the presence and frequency
/// penalties subtracted for tokens already generated, then the constraint's mask; then the sampler draws, and the
/// token's log probability (and the <c>top_logprobs</c> best) is read from the same processed logits, before
/// temperature. Without any of these the sampler reads the model's logits directly (no copy).
/// </summary>
internal sealed class StepLogits
{
    /// <summary>Most alternatives <c>top_logprobs</c> may ask for (OpenAI's limit).</summary>
    public const int MaxTopLogprobs = 20;

    private readonly SamplingOptions _sampling;
    private readonly GrammarConstraint? _constraint;
    private readonly float[]? _work;
    private readonly Dictionary<int, int>? _counts;

    public StepLogits(SamplingOptions sampling, GrammarConstraint? constraint, int vocabSize)
    {
        _sampling = sampling;
        _constraint = constraint;
        var penalties = sampling.PresencePenalty != 0 || sampling.FrequencyPenalty != 0;
        _counts = penalties ? [] : null;
        _work = penalties || constraint is not null || sampling.LogitBias.Count > 0 || sampling.Logprobs is not null ? new float[vocabSize] : null;
    }

    /// <summary>The next token (and its log probability when asked) from <paramref name="logits"/>; <paramref name="tokensLeft"/> as for the constraint.</summary>
    public (int Id, TokenLogprob? Logprob) Draw(ReadOnlySpan<float> logits, Sampler sampler, int tokensLeft)
    {
        if (_work is null)
        {
            return (sampler.Next(logits), null);
        }

        logits.CopyTo(_work);
        foreach (var (id, bias) in _sampling.LogitBias)
        {
            _work[id] += bias;
        }

        if (_counts is not null)
        {
            foreach (var (id, count) in _counts)
            {
                _work[id] -= _sampling.PresencePenalty + (_sampling.FrequencyPenalty * count);
            }
        }

        _constraint?.Mask(_work, tokensLeft);
        var chosen = sampler.Next(_work);
        return (chosen, _sampling.Logprobs is { } top ? Logprob(_work, chosen, top) : null);
    }

    /// <summary>Counts a generated token for the penalties.</summary>
    public void Generated(int id)
    {
        if (_counts is not null)
        {
            _counts[id] = _counts.GetValueOrDefault(id) + 1;
        }
    }

    /// <summary>The log-softmax of <paramref name="logits"/> at <paramref name="id"/>, and the <paramref name="top"/> best tokens (higher first, then lower ID).</summary>
    internal static TokenLogprob Logprob(ReadOnlySpan<float> logits, int id, int top)
    {
        var max = float.NegativeInfinity;
        foreach (var logit in logits)
        {
            max = Math.Max(max, logit);
        }

        var sum = 0.0;
        foreach (var logit in logits)
        {
            if (logit > float.NegativeInfinity)
            {
                sum += Math.Exp(logit - max);
            }
        }

        var logSum = max + (float)Math.Log(sum);
        var best = new List<TokenAlternative>(top + 1);
        if (top > 0)
        {
            for (var i = 0; i < logits.Length; i++)
            {
                if (logits[i] == float.NegativeInfinity || (best.Count == top && logits[i] <= best[^1].Logprob))
                {
                    continue;
                }

                var at = best.Count;
                while (at > 0 && best[at - 1].Logprob < logits[i])
                {
                    at--;
                }

                best.Insert(at, new TokenAlternative(i, logits[i]));
                if (best.Count > top)
                {
                    best.RemoveAt(top);
                }
            }
        }

        return new TokenLogprob(id, logits[id] - logSum, [.. best.Select(b => b with { Logprob = b.Logprob - logSum })]);
    }
}
