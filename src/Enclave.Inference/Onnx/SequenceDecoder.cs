using Enclave.Inference.Structured;

namespace Enclave.Inference.Onnx;

/// <summary>
/// One sequence's choice of tokens, step by step: its own <see cref="Sampler"/> (seed), <see cref="StepLogits"/>
/// (logit bias, penalties, logprobs), constraint mask, EOS set and token budget. It only reads logits, so the same
/// sequence decodes alike whether its logits come from a run of its own or from its row of a batched run.
/// </summary>
internal sealed class SequenceDecoder
{
    private readonly Sampler _sampler;
    private readonly GrammarConstraint? _constraint;
    private readonly StepLogits _step;
    private readonly IReadOnlySet<int> _eos;
    private readonly int _maxTokens;
    private int _generated;

    public SequenceDecoder(SamplingOptions sampling, int seed, int maxTokens, IReadOnlySet<int> eos, TokenVocabulary? vocabulary, int vocabSize)
    {
        _sampler = new Sampler(sampling, seed);
        _constraint = sampling.Grammar is { } grammar ? new GrammarConstraint(grammar, vocabulary!, eos) : null;
        _step = new StepLogits(sampling, _constraint, vocabSize);
        _eos = eos;
        _maxTokens = maxTokens;
    }

    /// <summary>The next token from the logits after the sequence's last one; the last token of the sequence carries its finish reason.</summary>
    public GeneratedToken Next(ReadOnlySpan<float> logits)
    {
        var generated = ++_generated;
        var (id, logprob) = _step.Draw(logits, _sampler, _maxTokens - generated);
        if (_eos.Contains(id))
        {
            return new GeneratedToken(id, FinishReason.Stop) { Logprob = logprob };
        }

        if (generated == _maxTokens)
        {
            return new GeneratedToken(id, FinishReason.Length) { Logprob = logprob };
        }

        _constraint?.Accept(id);
        _step.Generated(id);
        return new GeneratedToken(id, null) { Logprob = logprob };
    }
}
