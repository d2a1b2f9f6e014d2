using System.Text.Json;
using Enclave.Inference.Backends;
using Enclave.Inference.Text;
using Microsoft.ML.OnnxRuntime;
using Microsoft.ML.OnnxRuntime.Tensors;

namespace Enclave.Inference.Onnx;

/// <summary>
/// A BERT-style feature-extraction export (<c>input_ids</c>, <c>attention_mask</c>, optional <c>token_type_ids</c> to
/// <c>last_hidden_state</c>) turned into sentence embeddings: mean over the tokens the attention mask keeps, then
/// L2-normalised, as sentence-transformers' mean pooling + Normalize modules do.
/// </summary>
public sealed class OnnxEmbeddingModel : ITextEmbedder, IDisposable
{
    private readonly InferenceSession _session;
    private readonly SessionOptions _sessionOptions;
    private readonly OnnxEngineOptions _options;
    private readonly bool _hasTokenTypes;

    private OnnxEmbeddingModel(string directory, InferenceSession session, SessionOptions sessionOptions, OnnxEngineOptions options, int dimensions, int vocabSize, int maxPositions, bool hasTokenTypes)
    {
        Directory = directory;
        _session = session;
        _sessionOptions = sessionOptions;
        _options = options;
        Dimensions = dimensions;
        VocabSize = vocabSize;
        MaxPositions = maxPositions;
        _hasTokenTypes = hasTokenTypes;
        Scheduler = new SequenceScheduler(Path.GetFileName(directory), options.MaxConcurrentSequences, options.MaxQueuedSequences, options.RetryAfter);
    }

    public string Directory { get; }

    /// <summary>Length of each embedding (<c>hidden_size</c>).</summary>
    public int Dimensions { get; }

    public int VocabSize { get; }

    /// <summary>Longest input, in tokens: <c>max_position_embeddings</c>, or the tokenizer's <c>model_max_length</c> when smaller.</summary>
    public int MaxPositions { get; }

    /// <summary>Admission of this model's batches (one slot per call).</summary>
    public SequenceScheduler Scheduler { get; }

    /// <exception cref="InvalidModelException">The folder was refused; every problem found is listed.</exception>
    public static OnnxEmbeddingModel Load(string directory, OnnxEngineOptions? options = null)
    {
        options ??= new OnnxEngineOptions();
        options.Validate();
        var problems = new List<ModelProblem>();
        var (full, modelPath) = ModelFolder.Locate(directory, options, problems);
        int hidden = 0, vocab = 0, positions = 0;
        using (var config = ModelFolder.ReadJson(full, "config.json", options.MaxConfigBytes, required: true, problems))
        {
            if (config is not null)
            {
                var reader = new ConfigReader(config.RootElement, "config.json", problems);
                hidden = reader.Int("hidden_size", 1, 1 << 20);
                vocab = reader.Int("vocab_size", 1, 1 << 24);
                positions = reader.Int("max_position_embeddings", 1, 1 << 24);
            }
        }

        // The tokenizer's model_max_length (sentence-transformers' max_seq_length, 256 for all-MiniLM-L6-v2) bounds
        // inputs further; Hugging Face writes a huge number there when a tokenizer has no limit of its own.
        using (var tokenizerConfig = ModelFolder.ReadJson(full, "tokenizer_config.json", options.MaxConfigBytes, required: false, problems))
        {
            if (tokenizerConfig is not null && tokenizerConfig.RootElement.TryGetProperty("model_max_length", out var max)
                && max.ValueKind == JsonValueKind.Number && max.TryGetInt32(out var maxLength) && maxLength >= 1 && maxLength < positions)
            {
                positions = maxLength;
            }
        }

        if (problems.Count > 0)
        {
            throw new InvalidModelException(full, problems);
        }

        var sessionOptions = OnnxDecoderModel.CreateSessionOptions(options);
        InferenceSession? session = null;
        var handedOver = false;
        try
        {
            session = new InferenceSession(modelPath, sessionOptions);
            foreach (var required in new[] { "input_ids", "attention_mask" })
            {
                if (!session.InputMetadata.ContainsKey(required))
                {
                    problems.Add(new ModelProblem(ModelRejectionReason.IncompatibleGraph, $"the graph has no '{required}' input"));
                }
            }

            foreach (var input in session.InputNames.Where(name => name is not ("input_ids" or "attention_mask" or "token_type_ids")))
            {
                problems.Add(new ModelProblem(ModelRejectionReason.IncompatibleGraph, $"the graph has an input '{input}' that a feature-extraction export does not have"));
            }

            if (!session.OutputMetadata.TryGetValue("last_hidden_state", out var output) || output.ElementDataType != TensorElementType.Float
                || output.Dimensions.Length != 3 || (output.Dimensions[2] > 0 && output.Dimensions[2] != hidden))
            {
                problems.Add(new ModelProblem(ModelRejectionReason.IncompatibleGraph, $"the graph has no float32 'last_hidden_state' output of [batch, sequence, {hidden}]"));
            }

            if (problems.Count > 0)
            {
                throw new InvalidModelException(full, problems);
            }

            var model = new OnnxEmbeddingModel(full, session, sessionOptions, options, hidden, vocab, positions, session.InputMetadata.ContainsKey("token_type_ids"));
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

    /// <summary>One unit-length embedding per input, in order.</summary>
    /// <exception cref="BackendException">400 for an empty, oversized or out-of-vocabulary input; 503 when at capacity.</exception>
    public async Task<float[][]> EmbedAsync(IReadOnlyList<IReadOnlyList<int>> inputs, CancellationToken cancellationToken = default)
    {
        ArgumentNullException.ThrowIfNull(inputs);
        Validate(inputs);
        using var lease = await Scheduler.EnterAsync(cancellationToken).ConfigureAwait(false);
        return Run(inputs, cancellationToken);
    }

    /// <summary>Embeddings of texts, tokenized with the model's tokenizer, and the number of tokens they took.</summary>
    public async Task<(float[][] Embeddings, int Tokens)> EmbedTextsAsync(IReadOnlyList<string> texts, ITextTokenizer tokenizer, CancellationToken cancellationToken = default)
    {
        ArgumentNullException.ThrowIfNull(texts);
        ArgumentNullException.ThrowIfNull(tokenizer);
        if (texts.Count > _options.MaxEmbeddingBatch)
        {
            throw new BackendException(400, "invalid_request_error", $"{texts.Count} inputs in one request; at most {_options.MaxEmbeddingBatch} are allowed (parameter 'input')");
        }

        var ids = texts.Select(text => tokenizer.Encode(text, addSpecialTokens: true)).ToList();
        var embeddings = await EmbedAsync(ids, cancellationToken).ConfigureAwait(false);
        return (embeddings, ids.Sum(i => i.Count));
    }

    public void Dispose()
    {
        _session.Dispose();
        _sessionOptions.Dispose();
    }

    private void Validate(IReadOnlyList<IReadOnlyList<int>> inputs)
    {
        if (inputs.Count == 0 || inputs.Count > _options.MaxEmbeddingBatch)
        {
            throw new BackendException(400, "invalid_request_error", $"give 1 to {_options.MaxEmbeddingBatch} inputs (was {inputs.Count}) (parameter 'input')");
        }

        for (var i = 0; i < inputs.Count; i++)
        {
            var ids = inputs[i];
            if (ids.Count == 0 || ids.Count > MaxPositions)
            {
                throw new BackendException(400, "invalid_request_error", $"input {i} has {ids.Count} tokens; this model takes 1 to {MaxPositions} (parameter 'input')");
            }

            foreach (var id in ids)
            {
                if ((uint)id >= (uint)VocabSize)
                {
                    throw new BackendException(400, "invalid_request_error", $"input {i} has token ID {id}, outside this model's vocabulary of {VocabSize} (parameter 'input')");
                }
            }
        }
    }

    private float[][] Run(IReadOnlyList<IReadOnlyList<int>> inputs, CancellationToken cancellationToken)
    {
        var batch = inputs.Count;
        var length = inputs.Max(i => i.Count);
        var ids = new long[batch * length];
        var mask = new long[batch * length];
        for (var b = 0; b < batch; b++)
        {
            for (var t = 0; t < inputs[b].Count; t++)
            {
                ids[(b * length) + t] = inputs[b][t];
                mask[(b * length) + t] = 1;
            }
        }

        long[] shape = [batch, length];
        using var idsValue = OrtValue.CreateTensorValueFromMemory(ids, shape);
        using var maskValue = OrtValue.CreateTensorValueFromMemory(mask, shape);
        using var typesValue = OrtValue.CreateTensorValueFromMemory(new long[batch * length], shape);
        var names = _hasTokenTypes ? new[] { "input_ids", "attention_mask", "token_type_ids" } : ["input_ids", "attention_mask"];
        var values = _hasTokenTypes ? new[] { idsValue, maskValue, typesValue } : [idsValue, maskValue];

        using var runOptions = new RunOptions();
        using var registration = cancellationToken.Register(static state => ((RunOptions)state!).Terminate = true, runOptions);
        IDisposableReadOnlyCollection<OrtValue> outputs;
        try
        {
            outputs = _session.Run(runOptions, names, values, ["last_hidden_state"]);
        }
        catch (OnnxRuntimeException) when (cancellationToken.IsCancellationRequested)
        {
            throw new OperationCanceledException("the embeddings request was cancelled", cancellationToken);
        }

        using (outputs)
        {
            var hidden = outputs[0].GetTensorDataAsSpan<float>();
            var result = new float[batch][];
            for (var b = 0; b < batch; b++)
            {
                var sums = new double[Dimensions];
                var count = inputs[b].Count;
                for (var t = 0; t < count; t++)
                {
                    var row = hidden.Slice(((b * length) + t) * Dimensions, Dimensions);
                    for (var d = 0; d < Dimensions; d++)
                    {
                        sums[d] += row[d];
                    }
                }

                var norm = 0.0;
                for (var d = 0; d < Dimensions; d++)
                {
                    sums[d] /= count;
                    norm += sums[d] * sums[d];
                }

                norm = Math.Sqrt(norm);
                var embedding = new float[Dimensions];
                for (var d = 0; d < Dimensions; d++)
                {
                    embedding[d] = norm > 0 ? (float)(sums[d] / norm) : 0f;
                }

                result[b] = embedding;
            }

            return result;
        }
    }
}
