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

    /// <summary>A copy of this sequence's cache to continue independently (OpenAI's <c>n</c>), or null where the runtime cannot copy one.</summary>
    IDecoderSequence? TryFork() => null;
}

/// <summary>
/// The engine's generation loop over any runtime's <see cref="IDecoderSequence"/> (ONNX Runtime, llama.cpp): request
/// bounds (400s), the scheduler slot (503s), our <see cref="Sampler"/> over the runtime's logits (seed, temperature,
/// top-k, top-p), the constrained-decoding mask of <see cref="GrammarConstraint"/>, EOS, stop sequences and the
/// incremental detokenizer. So every runtime samples, stops and refuses the same way.
/// </summary>
internal sealed class DecodingLoop(int context, int vocabSize, IReadOnlySet<int> modelEos, OnnxEngineOptions options, SequenceScheduler scheduler, Func<IDecoderSequence> open, ISequenceBatcher? batcher = null)
{
    private readonly ISequenceBatcher? _batcher = batcher;
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

    public IAsyncEnumerable<GenerationChunk> GenerateTextAsync(IReadOnlyList<int> promptIds, ITextTokenizer tokenizer, SamplingOptions sampling, int choices, CancellationToken cancellationToken)
    {
        ArgumentNullException.ThrowIfNull(promptIds);
        ArgumentNullException.ThrowIfNull(tokenizer);
        ArgumentNullException.ThrowIfNull(sampling);
        ArgumentOutOfRangeException.ThrowIfLessThan(choices, 1);
        var maxTokens = ValidateRequest(promptIds, sampling);
        var eos = new HashSet<int>();
        if (!sampling.IgnoreEos)
        {
            eos.UnionWith(modelEos);
            eos.UnionWith(tokenizer.EndOfSequenceIds);
        }

        var vocabulary = sampling.Grammar is null ? null : TokenVocabulary.For(tokenizer, _vocabSize);
        return GenerateTextCoreAsync(promptIds, tokenizer, sampling, maxTokens, eos, vocabulary, choices, cancellationToken);
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
        var seed = sampling.Seed ?? RandomNumberGenerator.GetInt32(int.MaxValue);
        if (_batcher is not null)
        {
            var member = _batcher.Join(promptIds, [Decoder(sampling, seed, maxTokens, eos, vocabulary)], cancellationToken)[0];
            await foreach (var token in Read(member, cancellationToken).ConfigureAwait(false))
            {
                yield return token;
            }

            yield break;
        }

        using var sequence = _open();
        sequence.Append(promptIds.ToArray(), cancellationToken);
        foreach (var token in Decode(sequence, Decoder(sampling, seed, maxTokens, eos, vocabulary), cancellationToken))
        {
            yield return token;
        }
    }

    private SequenceDecoder Decoder(SamplingOptions sampling, int seed, int maxTokens, IReadOnlySet<int> eos, TokenVocabulary? vocabulary) =>
        new(sampling, seed, maxTokens, eos, vocabulary, _vocabSize);

    /// <summary>A batched sequence's tokens as the worker writes them; leaving early (or cancelling) takes it out of the batch.</summary>
    private static async IAsyncEnumerable<GeneratedToken> Read(BatchMember member, [EnumeratorCancellation] CancellationToken cancellationToken)
    {
        try
        {
            var reader = member.Tokens.Reader;
            while (await reader.WaitToReadAsync(cancellationToken).ConfigureAwait(false))
            {
                while (reader.TryRead(out var token))
                {
                    // Tokens the worker wrote ahead are not given after a cancellation.
                    cancellationToken.ThrowIfCancellationRequested();
                    yield return token;
                    if (token.FinishReason is not null)
                    {
                        yield break;
                    }
                }
            }
        }
        finally
        {
            member.Leave();
        }
    }

    /// <summary>
    /// The decode loop of one sequence on a cache of its own whose prompt is in it: one token per step until the
    /// <paramref name="decoder"/> gives the last one.
    /// </summary>
    private static IEnumerable<GeneratedToken> Decode(IDecoderSequence sequence, SequenceDecoder decoder, CancellationToken cancellationToken)
    {
        var next = new int[1];
        while (true)
        {
            cancellationToken.ThrowIfCancellationRequested();
            var token = decoder.Next(sequence.Logits);
            yield return token;
            if (token.FinishReason is not null)
            {
                yield break;
            }

            next[0] = token.Id;
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
        int choices,
        [EnumeratorCancellation] CancellationToken cancellationToken)
    {
        using var lease = await Scheduler.EnterAsync(cancellationToken).ConfigureAwait(false);
        var seed = sampling.Seed ?? RandomNumberGenerator.GetInt32(int.MaxValue);
        if (_batcher is not null && choices <= _batcher.MaxChoices)
        {
            // All choices decode together in the batch from the one prefill; their chunks are given choice by choice.
            var decoders = Enumerable.Range(0, choices).Select(choice => Decoder(sampling, unchecked(seed + choice), maxTokens, eos, vocabulary)).ToArray();
            var members = _batcher.Join(promptIds, decoders, cancellationToken);
            try
            {
                for (var choice = 0; choice < choices; choice++)
                {
                    await foreach (var chunk in Text(Read(members[choice], cancellationToken), tokenizer, sampling, promptIds.Count, choice).ConfigureAwait(false))
                    {
                        yield return chunk;
                    }
                }
            }
            finally
            {
                foreach (var member in members)
                {
                    member.Leave();
                }
            }

            yield break;
        }

        using var prefilled = _open();
        prefilled.Append(promptIds.ToArray(), cancellationToken);
        for (var choice = 0; choice < choices; choice++)
        {
            // Every choice but the last decodes from a copy of the prompt's cache (or, where the runtime cannot copy a
            // cache, from the prompt run again); the last one takes the cache itself.
            using var copy = choice < choices - 1 ? Fork(prefilled, promptIds, cancellationToken) : null;
            var tokens = Decode(copy ?? prefilled, Decoder(sampling, unchecked(seed + choice), maxTokens, eos, vocabulary), cancellationToken);
            await foreach (var chunk in Text(Async(tokens), tokenizer, sampling, promptIds.Count, choice).ConfigureAwait(false))
            {
                yield return chunk;
            }
        }
    }

#pragma warning disable CS1998 // an iterator over a synchronous loop: the tokens of a sequence decoded on the caller's thread
    private static async IAsyncEnumerable<GeneratedToken> Async(IEnumerable<GeneratedToken> tokens)
#pragma warning restore CS1998
    {
        foreach (var token in tokens)
        {
            yield return token;
        }
    }

    /// <summary>The text of one choice's tokens, cut at stop sequences, as chunks that end with the finish reason.</summary>
    private static async IAsyncEnumerable<GenerationChunk> Text(IAsyncEnumerable<GeneratedToken> tokens, ITextTokenizer tokenizer, SamplingOptions sampling, int promptTokens, int index)
    {
        var detokenizer = new IncrementalDetokenizer(tokenizer);
        var stops = new StopSequenceMatcher(sampling.Stop);
        var logprobs = new List<TokenLogprob>();
        var completion = 0;
        var finish = FinishReason.Length;
        await foreach (var token in tokens.ConfigureAwait(false))
        {
            completion++;
            if (token.FinishReason == FinishReason.Stop)
            {
                finish = FinishReason.Stop; // an EOS token: counted, but not text, so it has no logprob entry
                break;
            }

            if (token.Logprob is { } logprob)
            {
                logprobs.Add(logprob);
            }

            var text = stops.Push(detokenizer.Push(token.Id));
            if (text.Length > 0)
            {
                yield return new GenerationChunk { Text = text, Index = index, PromptTokens = promptTokens, CompletionTokens = completion, Logprobs = Take(logprobs) };
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
                yield return new GenerationChunk { Text = rest, Index = index, PromptTokens = promptTokens, CompletionTokens = completion, Logprobs = Take(logprobs) };
            }
        }

        yield return new GenerationChunk { Text = string.Empty, Index = index, FinishReason = finish, PromptTokens = promptTokens, CompletionTokens = completion, Logprobs = Take(logprobs) };
    }

    private static TokenLogprob[] Take(List<TokenLogprob> logprobs)
    {
        if (logprobs.Count == 0)
        {
            return [];
        }

        var taken = logprobs.ToArray();
        logprobs.Clear();
        return taken;
    }

    /// <summary>A copy of <paramref name="prefilled"/>, or a new sequence with the prompt run again where the runtime cannot copy a cache.</summary>
    private IDecoderSequence Fork(IDecoderSequence prefilled, IReadOnlyList<int> promptIds, CancellationToken cancellationToken)
    {
        if (prefilled.TryFork() is { } copy)
        {
            return copy;
        }

        var fresh = _open();
        try
        {
            fresh.Append(promptIds.ToArray(), cancellationToken);
            return fresh;
        }
        catch
        {
            fresh.Dispose();
            throw;
        }
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

        if (!float.IsFinite(sampling.PresencePenalty) || sampling.PresencePenalty is < -2f or > 2f)
        {
            throw Invalid($"presence_penalty must be between -2 and 2 (was {sampling.PresencePenalty})", "presence_penalty");
        }

        if (!float.IsFinite(sampling.FrequencyPenalty) || sampling.FrequencyPenalty is < -2f or > 2f)
        {
            throw Invalid($"frequency_penalty must be between -2 and 2 (was {sampling.FrequencyPenalty})", "frequency_penalty");
        }

        foreach (var (id, bias) in sampling.LogitBias)
        {
            if ((uint)id >= (uint)_vocabSize || !float.IsFinite(bias) || bias is < -100f or > 100f)
            {
                throw Invalid($"logit_bias maps token IDs below {_vocabSize} to values from -100 to 100 (token {id}: {bias})", "logit_bias");
            }
        }

        if (sampling.Logprobs is < 0 or > StepLogits.MaxTopLogprobs)
        {
            throw Invalid($"top_logprobs must be from 0 to {StepLogits.MaxTopLogprobs} (was {sampling.Logprobs})", "top_logprobs");
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
