using System.Globalization;
using System.Runtime.CompilerServices;
using System.Security.Cryptography;
using Enclave.Inference.Backends;
using Enclave.Inference.Structured;
using Enclave.Inference.Text;
using Microsoft.ML.OnnxRuntime;
using Microsoft.ML.OnnxRuntime.Tensors;

namespace Enclave.Inference.Onnx;

/// <summary>
/// A causal LM folder in the Optimum / ONNX Runtime GenAI layout, loaded into one ONNX Runtime session that all of its
/// sequences share. Generation works on token IDs with a KV cache (the prompt runs once, then one token per step);
/// text generation takes the model's <see cref="ITextTokenizer"/> for decoding, EOS IDs and stop sequences.
/// Concurrency is bounded by the model's <see cref="Scheduler"/>.
/// </summary>
public sealed class OnnxDecoderModel : IDisposable
{
    private readonly SessionOptions _sessionOptions;
    private readonly OnnxEngineOptions _options;
    private long _tokensRun;

    private OnnxDecoderModel(string directory, DecoderModelConfig config, InferenceSession session, SessionOptions sessionOptions, OnnxEngineOptions options, bool hasPositionIds)
    {
        Directory = directory;
        Config = config;
        Session = session;
        _sessionOptions = sessionOptions;
        _options = options;
        HasPositionIds = hasPositionIds;
        var inputs = new List<string> { "input_ids", "attention_mask" };
        if (hasPositionIds)
        {
            inputs.Add("position_ids");
        }

        var outputs = new List<string> { "logits" };
        for (var i = 0; i < config.Layers; i++)
        {
            inputs.Add(Name("past_key_values.{0}.key", i));
            inputs.Add(Name("past_key_values.{0}.value", i));
            outputs.Add(Name("present.{0}.key", i));
            outputs.Add(Name("present.{0}.value", i));
        }

        InputNames = [.. inputs];
        OutputNames = [.. outputs];
        Scheduler = new SequenceScheduler(Path.GetFileName(directory), options.MaxConcurrentSequences, options.MaxQueuedSequences, options.RetryAfter);
    }

    /// <summary>Absolute path of the model folder.</summary>
    public string Directory { get; }

    public DecoderModelConfig Config { get; }

    /// <summary>Admission of this model's sequences.</summary>
    public SequenceScheduler Scheduler { get; }

    internal InferenceSession Session { get; }

    internal bool HasPositionIds { get; }

    internal int PrefillChunkTokens => _options.PrefillChunkTokens;

    /// <summary>Token positions this model has run, all sequences together (tests check that nothing is recomputed).</summary>
    internal long TokensRun => Interlocked.Read(ref _tokensRun);

    internal void CountRun(int tokens) => Interlocked.Add(ref _tokensRun, tokens);

    internal string[] InputNames { get; }

    internal string[] OutputNames { get; }

    /// <summary>
    /// Validates the folder (config bounds, the graph's inputs and outputs, external data inside the folder) and opens
    /// an ONNX Runtime session (no custom operator libraries).
    /// </summary>
    /// <exception cref="InvalidModelException">The folder was refused; every problem found is listed.</exception>
    public static OnnxDecoderModel Load(string directory, OnnxEngineOptions? options = null)
    {
        options ??= new OnnxEngineOptions();
        options.Validate();
        var problems = new List<ModelProblem>();
        var (full, modelPath) = ModelFolder.Locate(directory, options, problems);
        var config = DecoderModelConfig.Read(full, options, problems);
        if (problems.Count > 0)
        {
            throw new InvalidModelException(full, problems);
        }

        var sessionOptions = CreateSessionOptions(options);
        InferenceSession? session = null;
        var handedOver = false;
        try
        {
            session = new InferenceSession(modelPath, sessionOptions);
            var hasPositionIds = CheckGraph(session, config, problems);
            if (problems.Count > 0)
            {
                throw new InvalidModelException(full, problems);
            }

            var model = new OnnxDecoderModel(full, config, session, sessionOptions, options, hasPositionIds);
            handedOver = true;
            return model;
        }
        catch (OnnxRuntimeException e)
        {
            throw new InvalidModelException(full, [new ModelProblem(ModelRejectionReason.IncompatibleGraph, $"ONNX Runtime refused {ModelFolder.ModelFileName}: {e.Message}")], e);
        }
        finally
        {
            if (!handedOver)
            {
                session?.Dispose();
                sessionOptions.Dispose();
            }
        }
    }

    /// <summary>
    /// Generates tokens after <paramref name="promptIds"/>. The first <c>MoveNextAsync</c> waits for a scheduler slot
    /// (or throws <see cref="BackendException"/> 503 when the model is at capacity) and runs the prompt; each later one
    /// runs one step. The last token carries the finish reason; leaving the loop early frees the slot and the cache.
    /// </summary>
    /// <exception cref="BackendException">400 for an invalid request (IDs, context length, sampling), 503 when overloaded.</exception>
    public IAsyncEnumerable<GeneratedToken> GenerateTokensAsync(IReadOnlyList<int> promptIds, SamplingOptions sampling, CancellationToken cancellationToken = default)
    {
        ArgumentNullException.ThrowIfNull(promptIds);
        ArgumentNullException.ThrowIfNull(sampling);
        var maxTokens = ValidateRequest(promptIds, sampling);
        if (sampling.Grammar is not null)
        {
            throw new ArgumentException("constrained decoding needs the model's tokenizer: use GenerateTextAsync", nameof(sampling));
        }

        return GenerateCoreAsync(promptIds, sampling, maxTokens, sampling.IgnoreEos ? new HashSet<int>() : Config.EosTokenIds, null, cancellationToken);
    }

    /// <summary>
    /// Generates text after <paramref name="promptIds"/>: pieces that never split a character and never contain a stop
    /// sequence, then a last chunk with the finish reason and token counts. EOS IDs are the model's and the tokenizer's.
    /// </summary>
    /// <exception cref="BackendException">400 for an invalid request, 503 when the model is at capacity.</exception>
    public IAsyncEnumerable<GenerationChunk> GenerateTextAsync(IReadOnlyList<int> promptIds, ITextTokenizer tokenizer, SamplingOptions sampling, CancellationToken cancellationToken = default) =>
        GenerateTextAsync(promptIds, tokenizer, sampling, 1, cancellationToken);

    /// <summary>
    /// Generates <paramref name="choices"/> texts after <paramref name="promptIds"/> (OpenAI's <c>n</c>): the prompt runs
    /// once and each choice continues from a copy of its cache, one choice after the other, each with its own seed
    /// (the request's seed plus the choice's index). Chunks carry their choice's <see cref="GenerationChunk.Index"/>;
    /// each choice ends with its own last chunk.
    /// </summary>
    /// <exception cref="BackendException">400 for an invalid request, 503 when the model is at capacity.</exception>
    public IAsyncEnumerable<GenerationChunk> GenerateTextAsync(IReadOnlyList<int> promptIds, ITextTokenizer tokenizer, SamplingOptions sampling, int choices, CancellationToken cancellationToken = default)
    {
        ArgumentNullException.ThrowIfNull(promptIds);
        ArgumentNullException.ThrowIfNull(tokenizer);
        ArgumentNullException.ThrowIfNull(sampling);
        ArgumentOutOfRangeException.ThrowIfLessThan(choices, 1);
        var maxTokens = ValidateRequest(promptIds, sampling);
        var eos = new HashSet<int>();
        if (!sampling.IgnoreEos)
        {
            eos.UnionWith(Config.EosTokenIds);
            eos.UnionWith(tokenizer.EndOfSequenceIds);
        }

        var vocabulary = sampling.Grammar is null ? null : TokenVocabulary.For(tokenizer, Config.VocabSize);
        return GenerateTextCoreAsync(promptIds, tokenizer, sampling, maxTokens, eos, vocabulary, choices, cancellationToken);
    }

    /// <summary>Last-position logits of <paramref name="ids"/> run from an empty cache (the reference for cache tests).</summary>
    internal float[] LogitsWithoutCache(IReadOnlyList<int> ids, CancellationToken cancellationToken = default)
    {
        using var sequence = new DecoderSequence(this);
        sequence.Append(ids.ToArray(), cancellationToken);
        return sequence.Logits.ToArray();
    }

    public void Dispose()
    {
        Session.Dispose();
        _sessionOptions.Dispose();
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
        using var sequence = new DecoderSequence(this);
        sequence.Append(promptIds.ToArray(), cancellationToken);
        foreach (var token in Decode(sequence, sampling, sampling.Seed ?? RandomNumberGenerator.GetInt32(int.MaxValue), maxTokens, eos, vocabulary, cancellationToken))
        {
            yield return token;
        }
    }

    /// <summary>
    /// The decode loop of one sequence whose prompt is in its cache: one token per step until EOS or
    /// <paramref name="maxTokens"/>. Each step's logits get the logit bias, the penalties and the constraint's mask
    /// (<see cref="StepLogits"/>), then the sampler draws.
    /// </summary>
    private IEnumerable<GeneratedToken> Decode(
        DecoderSequence sequence,
        SamplingOptions sampling,
        int seed,
        int maxTokens,
        IReadOnlySet<int> eos,
        TokenVocabulary? vocabulary,
        CancellationToken cancellationToken)
    {
        var sampler = new Sampler(sampling, seed);
        var constraint = sampling.Grammar is { } grammar ? new GrammarConstraint(grammar, vocabulary!, eos) : null;
        var step = new StepLogits(sampling, constraint, Config.VocabSize);
        var next = new int[1];
        for (var generated = 1; ; generated++)
        {
            cancellationToken.ThrowIfCancellationRequested();
            var (id, logprob) = step.Draw(sequence.Logits, sampler, maxTokens - generated);
            if (eos.Contains(id))
            {
                yield return new GeneratedToken(id, FinishReason.Stop) { Logprob = logprob };
                yield break;
            }

            if (generated == maxTokens)
            {
                yield return new GeneratedToken(id, FinishReason.Length) { Logprob = logprob };
                yield break;
            }

            constraint?.Accept(id);
            step.Generated(id);
            yield return new GeneratedToken(id, null) { Logprob = logprob };
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
        int choices,
        [EnumeratorCancellation] CancellationToken cancellationToken)
    {
        using var lease = await Scheduler.EnterAsync(cancellationToken).ConfigureAwait(false);
        using var prefilled = new DecoderSequence(this);
        prefilled.Append(promptIds.ToArray(), cancellationToken);
        var seed = sampling.Seed ?? RandomNumberGenerator.GetInt32(int.MaxValue);
        for (var choice = 0; choice < choices; choice++)
        {
            // Every choice but the last decodes from a copy of the prompt's cache; the last one takes the cache itself.
            using var copy = choice < choices - 1 ? prefilled.Fork() : null;
            var tokens = Decode(copy ?? prefilled, sampling, unchecked(seed + choice), maxTokens, eos, vocabulary, cancellationToken);
            foreach (var chunk in Text(tokens, tokenizer, sampling, promptIds.Count, choice))
            {
                yield return chunk;
            }
        }
    }

    /// <summary>The text of one choice's tokens, cut at stop sequences, as chunks that end with the finish reason.</summary>
    private static IEnumerable<GenerationChunk> Text(IEnumerable<GeneratedToken> tokens, ITextTokenizer tokenizer, SamplingOptions sampling, int promptTokens, int index)
    {
        var detokenizer = new IncrementalDetokenizer(tokenizer);
        var stops = new StopSequenceMatcher(sampling.Stop);
        var logprobs = new List<TokenLogprob>();
        var completion = 0;
        var finish = FinishReason.Length;
        foreach (var token in tokens)
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

    /// <summary>The number of tokens to generate at most, or 400 with what is wrong.</summary>
    private int ValidateRequest(IReadOnlyList<int> promptIds, SamplingOptions sampling)
    {
        var context = Config.MaxPositions;
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
            if ((uint)id >= (uint)Config.VocabSize)
            {
                throw Invalid($"token ID {id} is outside this model's vocabulary of {Config.VocabSize}", "prompt");
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
            if ((uint)id >= (uint)Config.VocabSize || !float.IsFinite(bias) || bias is < -100f or > 100f)
            {
                throw Invalid($"logit_bias maps token IDs below {Config.VocabSize} to values from -100 to 100 (token {id}: {bias})", "logit_bias");
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

    /// <summary>Session options of the engine: CPU, sequential, full graph optimisation, no custom operator libraries.</summary>
    internal static SessionOptions CreateSessionOptions(OnnxEngineOptions options)
    {
        OnnxRuntimeEnvironment.EnsureTelemetryOff(); // before the first session: runs dark
        var sessionOptions = new SessionOptions
        {
            IntraOpNumThreads = options.IntraOpThreads,
            InterOpNumThreads = 1,
            ExecutionMode = ExecutionMode.ORT_SEQUENTIAL,
            GraphOptimizationLevel = GraphOptimizationLevel.ORT_ENABLE_ALL,
        };
        sessionOptions.AddSessionConfigEntry("session.intra_op.allow_spinning", options.AllowSpinning ? "1" : "0");
        return sessionOptions;
    }

    /// <summary>Whether the graph takes position_ids; records every mismatch with the config.</summary>
    private static bool CheckGraph(InferenceSession session, DecoderModelConfig config, List<ModelProblem> problems)
    {
        var expected = new HashSet<string>(StringComparer.Ordinal) { "input_ids", "attention_mask", "position_ids" };
        for (var i = 0; i < config.Layers; i++)
        {
            foreach (var kind in new[] { "key", "value" })
            {
                var past = Name("past_key_values.{0}." + kind, i);
                var present = Name("present.{0}." + kind, i);
                expected.Add(past);
                CheckCache(session.InputMetadata, past, config, problems);
                CheckCache(session.OutputMetadata, present, config, problems);
            }
        }

        foreach (var required in new[] { "input_ids", "attention_mask" })
        {
            if (!session.InputMetadata.ContainsKey(required))
            {
                problems.Add(new ModelProblem(ModelRejectionReason.IncompatibleGraph, $"the graph has no '{required}' input"));
            }
        }

        foreach (var input in session.InputNames.Where(name => !expected.Contains(name)))
        {
            problems.Add(new ModelProblem(ModelRejectionReason.IncompatibleGraph, $"the graph has an input '{input}' that a {config.Layers}-layer causal LM export does not have"));
        }

        if (!session.OutputMetadata.TryGetValue("logits", out var logits) || logits.ElementDataType != TensorElementType.Float)
        {
            problems.Add(new ModelProblem(ModelRejectionReason.IncompatibleGraph, "the graph has no float32 'logits' output"));
        }
        else if (logits.Dimensions.Length != 3 || (logits.Dimensions[2] > 0 && logits.Dimensions[2] != config.VocabSize))
        {
            problems.Add(new ModelProblem(ModelRejectionReason.IncompatibleGraph, $"'logits' has shape [{string.Join(", ", logits.Dimensions)}], not [batch, sequence, {config.VocabSize}]"));
        }

        return session.InputMetadata.ContainsKey("position_ids");
    }

    private static void CheckCache(IReadOnlyDictionary<string, NodeMetadata> metadata, string name, DecoderModelConfig config, List<ModelProblem> problems)
    {
        if (!metadata.TryGetValue(name, out var node))
        {
            problems.Add(new ModelProblem(ModelRejectionReason.IncompatibleGraph, $"the graph has no '{name}' (config.json says {config.Layers} layers)"));
            return;
        }

        var dims = node.Dimensions;
        if (node.ElementDataType != TensorElementType.Float || dims.Length != 4
            || (dims[1] > 0 && dims[1] != config.KeyValueHeads) || (dims[3] > 0 && dims[3] != config.HeadDim))
        {
            problems.Add(new ModelProblem(
                ModelRejectionReason.IncompatibleGraph,
                $"'{name}' is {node.ElementDataType} [{string.Join(", ", dims)}], not float32 [batch, {config.KeyValueHeads}, sequence, {config.HeadDim}] as config.json describes"));
        }
    }

    private static string Name(string format, int layer) => string.Format(CultureInfo.InvariantCulture, format, layer);
}
