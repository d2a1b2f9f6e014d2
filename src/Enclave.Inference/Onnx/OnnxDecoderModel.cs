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
public sealed class OnnxDecoderModel : ITextGenerator, IDisposable
{
    private readonly SessionOptions _sessionOptions;
    private readonly OnnxEngineOptions _options;
    private readonly DecodingLoop _loop;
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
        // Batching needs position_ids: a graph without them derives positions from the cache length, which the
        // padding of a batch would shift; such a model decodes each sequence on its own session run.
        Batcher = options.ContinuousBatching && hasPositionIds ? new ContinuousBatcher(this) : null;
        _loop = new DecodingLoop(config.MaxPositions, config.VocabSize, config.EosTokenIds, options, Scheduler, () => new DecoderSequence(this), Batcher);
    }

    /// <summary>Absolute path of the model folder.</summary>
    public string Directory { get; }

    public DecoderModelConfig Config { get; }

    /// <summary>Admission of this model's sequences.</summary>
    public SequenceScheduler Scheduler { get; }

    internal InferenceSession Session { get; }

    /// <summary>The continuous batcher all of this model's sequences decode in, or null where each runs on its own.</summary>
    internal ContinuousBatcher? Batcher { get; }

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
        return _loop.GenerateTokensAsync(promptIds, sampling, cancellationToken);
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
    /// once and each choice continues from a copy of its cache, each with its own seed (the request's seed plus the
    /// choice's index); with continuous batching the choices decode together as rows of the model's batch. Chunks
    /// carry their choice's <see cref="GenerationChunk.Index"/> and come choice by choice; each choice ends with its
    /// own last chunk.
    /// </summary>
    /// <exception cref="BackendException">400 for an invalid request, 503 when the model is at capacity.</exception>
    public IAsyncEnumerable<GenerationChunk> GenerateTextAsync(IReadOnlyList<int> promptIds, ITextTokenizer tokenizer, SamplingOptions sampling, int choices, CancellationToken cancellationToken = default)
    {
        return _loop.GenerateTextAsync(promptIds, tokenizer, sampling, choices, cancellationToken);
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
        Batcher?.Dispose();
        Session.Dispose();
        _sessionOptions.Dispose();
    }

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
