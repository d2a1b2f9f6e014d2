using System.Runtime.CompilerServices;
using System.Security.Cryptography;
using Enclave.Inference.Backends;
using Enclave.Inference.Structured;
using Enclave.Inference.Text;

namespace Enclave.Inference.Onnx;

/// <summary>One sequence's KV cache in a runtime: append tokens, read the logits after the last one.</summary>
internal interface IDecoderSequence : IDisposable
{
    /// <summary>Runs the model over <paramref name="ids"/>, extending the cache.</summary>
    void Append(ReadOnlySpan<int> ids, CancellationToken cancellationToken);

    /// <summary>Logits after the last appended token (one per row of the model's vocabulary).</summary>
    ReadOnlySpan<float> Logits { get; }
}

/// <summary>
/// The engine's generation loop over any runtime's <see cref="IDecoderSequence"/> (ONNX Runtime, llama.cpp): request
/// bounds (400s), the scheduler slot (503s), our <see cref="Sampler"/> over the runtime's logits (seed, temperature,
/// top-k, top-p), the constrained-decoding mask of <see cref="GrammarConstraint"/>, EOS, stop sequences and the
/// incremental detokenizer. So every runtime samples, stops and refuses the same way.
/// </summary>
internal sealed class DecodingLoop(int context, int vocabSize, IReadOnlySet<int> modelEos, OnnxEngineOptions options, SequenceScheduler scheduler, Func<IDecoderSequence> open)
{
    private readonly int _context = context;
    private readonly int _vocabSize = vocabSize;
    private readonly OnnxEngineOptions _options = options;
    private readonly Func<IDecoderSequence> _open = open;

    public SequenceScheduler Scheduler { get; } = scheduler;

    public IAsyncEnumerable<GeneratedToken> GenerateTokensAsync(IReadOnlyList<int> promptIds, SamplingOptions sampling, CancellationToken cancellationToken)
    {
        ArgumentNullException.ThrowIfNull(promptIds);
        ArgumentNullException.ThrowIfNull(sampling);
        var maxTokens = ValidateRequest(promptIds, sampling);
        if (sampling.Grammar is not null)
        {
            throw new ArgumentException("constrained decoding needs the model's tokenizer: use GenerateTextAsync", nameof(sampling));
        }

        return GenerateCoreAsync(promptIds, sampling, maxTokens, sampling.IgnoreEos ? new HashSet<int>() : modelEos, null, cancellationToken);
    }

    public IAsyncEnumerable<GenerationChunk> GenerateTextAsync(IReadOnlyList<int> promptIds, ITextTokenizer tokenizer, SamplingOptions sampling, CancellationToken cancellationToken)
    {
        ArgumentNullException.ThrowIfNull(promptIds);
        ArgumentNullException.ThrowIfNull(tokenizer);
        ArgumentNullException.ThrowIfNull(sampling);
        var maxTokens = ValidateRequest(promptIds, sampling);
        var eos = new HashSet<int>();
        if (!sampling.IgnoreEos)
        {
            eos.UnionWith(modelEos);
            eos.UnionWith(tokenizer.EndOfSequenceIds);
        }

        var vocabulary = sampling.Grammar is null ? null : TokenVocabulary.For(tokenizer, _vocabSize);
        return GenerateTextCoreAsync(promptIds, tokenizer, sampling, maxTokens, eos, vocabulary, cancellationToken);
    }

    private async IAsyncEnumerable<GeneratedToken> GenerateCoreAsync(
        IReadOnlyList<int> promptIds,
        SamplingOptions sampling,
        int maxTokens,
        IReadOnlySet<int> eos,
        TokenVocabulary? vocabulary,
        [EnumeratorCancellation] CancellationToken cancellationToken)
    {
        using var lease = await Scheduler.EnterAsync(cancellationToken).ConfigureAwait(false);
        using var sequence = _open();
        var sampler = new Sampler(sampling, sampling.Seed ?? RandomNumberGenerator.GetInt32(int.MaxValue));
        var constraint = sampling.Grammar is { } grammar ? new GrammarConstraint(grammar, vocabulary!, eos) : null;
        var masked = constraint is null ? null : new float[_vocabSize];
        sequence.Append(promptIds.ToArray(), cancellationToken);
        var next = new int[1];
        for (var generated = 1; ; generated++)
        {
            cancellationToken.ThrowIfCancellationRequested();
            int id;
            if (constraint is null)
            {
                id = sampler.Next(sequence.Logits);
            }
            else
            {
                sequence.Logits.CopyTo(masked);
                constraint.Mask(masked, maxTokens - generated);
                id = sampler.Next(masked);
            }

            if (eos.Contains(id))
            {
                yield return new GeneratedToken(id, FinishReason.Stop);
                yield break;
            }

            if (generated == maxTokens)
            {
                yield return new GeneratedToken(id, FinishReason.Length);
                yield break;
            }

            constraint?.Accept(id);
            yield return new GeneratedToken(id, null);
            next[0] = id;
            sequence.Append(next, cancellationToken);
        }
    }

    private async IAsyncEnumerable<GenerationChunk> GenerateTextCoreAsync(
        IReadOnlyList<int> promptIds,
        ITextTokenizer tokenizer,
        SamplingOptions sampling,
        int maxTokens,
        IReadOnlySet<int> eos,
        TokenVocabulary? vocabulary,
        [EnumeratorCancellation] CancellationToken cancellationToken)
    {
        var detokenizer = new IncrementalDetokenizer(tokenizer);
        var stops = new StopSequenceMatcher(sampling.Stop);
        var completion = 0;
        var finish = FinishReason.Length;
        await foreach (var token in GenerateCoreAsync(promptIds, sampling, maxTokens, eos, vocabulary, cancellationToken).ConfigureAwait(false))
        {
            completion++;
            if (token.FinishReason == FinishReason.Stop)
            {
                finish = FinishReason.Stop;
                break;
            }

            var text = stops.Push(detokenizer.Push(token.Id));
            if (text.Length > 0)
            {
                yield return new GenerationChunk { Text = text, PromptTokens = promptIds.Count, CompletionTokens = completion };
            }

            if (stops.Stopped)
            {
                finish = FinishReason.Stop;
                break;
            }
        }

        if (!stops.Stopped)
        {
            var rest = stops.Push(detokenizer.Flush());
            rest += stops.Stopped ? string.Empty : stops.Flush();
            if (stops.Stopped)
            {
                finish = FinishReason.Stop;
            }

            if (rest.Length > 0)
            {
                yield return new GenerationChunk { Text = rest, PromptTokens = promptIds.Count, CompletionTokens = completion };
            }
        }

        yield return new GenerationChunk { Text = string.Empty, FinishReason = finish, PromptTokens = promptIds.Count, CompletionTokens = completion };
    }

    /// <summary>The number of tokens to generate at most, or 400 with what is wrong.</summary>
    private int ValidateRequest(IReadOnlyList<int> promptIds, SamplingOptions sampling)
    {
        var context = _context;
        if (promptIds.Count == 0)
        {
            throw Invalid("the prompt is empty; give at least one token", "prompt");
        }

        if (promptIds.Count >= context)
        {
            throw new BackendException(400, "invalid_request_error", $"the prompt has {promptIds.Count} tokens; this model's context is {context} tokens, which must hold the prompt and at least one generated token");
        }

        foreach (var id in promptIds)
        {
            if ((uint)id >= (uint)_vocabSize)
            {
                throw Invalid($"token ID {id} is outside this model's vocabulary of {_vocabSize}", "prompt");
            }
        }

        if (!float.IsFinite(sampling.Temperature) || sampling.Temperature is < 0f or > 2f)
        {
            throw Invalid($"temperature must be between 0 and 2 (was {sampling.Temperature})", "temperature");
        }

        if (!float.IsFinite(sampling.TopP) || sampling.TopP is <= 0f or > 1f)
        {
            throw Invalid($"top_p must be greater than 0 and at most 1 (was {sampling.TopP})", "top_p");
        }

        if (sampling.TopK < 0)
        {
            throw Invalid($"top_k must be 0 (off) or positive (was {sampling.TopK})", "top_k");
        }

        if (sampling.MaxTokens is < 1)
        {
            throw Invalid($"max_tokens must be at least 1 (was {sampling.MaxTokens})", "max_tokens");
        }

        if (sampling.Stop.Count > _options.MaxStopSequences || sampling.Stop.Any(s => string.IsNullOrEmpty(s) || s.Length > _options.MaxStopLength))
        {
            throw Invalid($"stop takes at most {_options.MaxStopSequences} non-empty sequences of at most {_options.MaxStopLength} characters", "stop");
        }

        if (sampling.Grammar is not null && sampling.IgnoreEos)
        {
            throw Invalid("ignore_eos cannot be combined with a JSON response_format: generation ends when the document does", "ignore_eos");
        }

        var room = context - promptIds.Count;
        return Math.Min(sampling.MaxTokens ?? room, room);
    }

    private static BackendException Invalid(string message, string parameter) =>
        new(400, "invalid_request_error", $"{message} (parameter '{parameter}')") { Param = parameter };
}
