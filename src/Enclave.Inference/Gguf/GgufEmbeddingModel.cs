using Enclave.Inference.Backends;
using Enclave.Inference.Onnx;
using Enclave.Inference.Text;
using LLama;
using LLama.Common;
using LLama.Native;

namespace Enclave.Inference.Gguf;

/// <summary>
/// A GGUF embedding model run by llama.cpp with mean pooling: one input per decode, the pooled vector normalised to
/// unit length (as the ONNX embedding model gives them). Concurrency is bounded by the model's scheduler; each
/// running request has its own pooled llama.cpp context, decoded on a thread of its own (<see cref="LlamaThread"/>).
/// </summary>
public sealed class GgufEmbeddingModel : ITextEmbedder, IDisposable
{
    private readonly LLamaWeights _weights;
    private readonly ModelParams _parameters;
    private readonly GgufEngineOptions _options;
    private readonly System.Collections.Concurrent.ConcurrentBag<LlamaThread> _idle = [];
    private readonly string _name;
    private volatile bool _disposed;

    private GgufEmbeddingModel(LLamaWeights weights, ModelParams parameters, GgufEngineOptions options, string path)
    {
        _weights = weights;
        _parameters = parameters;
        _options = options;
        Tokenizer = new LlamaTokenizer(weights.NativeHandle);
        Dimensions = weights.EmbeddingSize;
        ContextLength = (int)parameters.ContextSize!.Value;
        _name = Path.GetFileName(Path.GetDirectoryName(path)) ?? path;
        Scheduler = new SequenceScheduler(_name, options.Bounds.MaxConcurrentSequences, options.Bounds.MaxQueuedSequences, options.Bounds.RetryAfter);
    }

    /// <summary>llama.cpp's tokenizer of the model.</summary>
    public ITextTokenizer Tokenizer { get; }

    /// <inheritdoc/>
    public int Dimensions { get; }

    /// <summary>Most tokens of one input.</summary>
    public int ContextLength { get; }

    /// <summary>Called on a context's thread before each <c>llama_decode</c> (tests).</summary>
    internal Action? BeforeDecode { get; set; }

    /// <summary>Admission of this model's inputs.</summary>
    public SequenceScheduler Scheduler { get; }

    /// <summary>Loads <paramref name="path"/> (a GGUF file) for embeddings, mean-pooled.</summary>
    /// <exception cref="InvalidModelException">llama.cpp could not load it.</exception>
    public static GgufEmbeddingModel Load(string path, GgufEngineOptions? options = null)
    {
        options ??= new GgufEngineOptions();
        options.ThrowIfInvalid();
        var (weights, parameters) = GgufLoader.Open(path, options, embeddings: true);
        return new GgufEmbeddingModel(weights, parameters, options, Path.GetFullPath(path));
    }

    /// <inheritdoc/>
    /// <exception cref="BackendException">400 for an empty, oversized or out-of-vocabulary input; 503 when at capacity.</exception>
    public async Task<float[][]> EmbedAsync(IReadOnlyList<IReadOnlyList<int>> inputs, CancellationToken cancellationToken = default)
    {
        ArgumentNullException.ThrowIfNull(inputs);
        var max = _options.Bounds.MaxEmbeddingBatch;
        if (inputs.Count == 0 || inputs.Count > max)
        {
            throw new BackendException(400, "invalid_request_error", $"give 1 to {max} inputs (was {inputs.Count}) (parameter 'input')");
        }

        for (var i = 0; i < inputs.Count; i++)
        {
            if (inputs[i].Count == 0 || inputs[i].Count > ContextLength)
            {
                throw new BackendException(400, "invalid_request_error", $"input {i} has {inputs[i].Count} tokens; this model takes 1 to {ContextLength} (parameter 'input')");
            }

            if (inputs[i].Any(id => (uint)id >= (uint)Tokenizer.VocabularySize))
            {
                throw new BackendException(400, "invalid_request_error", $"input {i} has a token ID outside this model's vocabulary of {Tokenizer.VocabularySize} (parameter 'input')");
            }
        }

        using var lease = await Scheduler.EnterAsync(cancellationToken).ConfigureAwait(false);
        ObjectDisposedException.ThrowIf(_disposed, this);
        var slot = _idle.TryTake(out var idle) ? idle : new LlamaThread(_weights.CreateContext(_parameters), _name);
        try
        {
            var vectors = new float[inputs.Count][];
            slot.Run(() => Embed(slot.Context, inputs, vectors, cancellationToken));
            return vectors;
        }
        finally
        {
            slot.Context.NativeHandle.MemoryClear(data: false);
            if (_disposed)
            {
                slot.Dispose();
            }
            else
            {
                _idle.Add(slot);
                if (_disposed)
                {
                    while (_idle.TryTake(out var late))
                    {
                        late.Dispose();
                    }
                }
            }
        }
    }

    public void Dispose()
    {
        if (_disposed)
        {
            return;
        }

        _disposed = true;
        while (_idle.TryTake(out var slot))
        {
            slot.Dispose();
        }

        _weights.Dispose();
    }

    /// <summary>On the context's thread: each input decoded alone on a cleared cache, its mean-pooled vector normalised.</summary>
    private void Embed(LLamaContext context, IReadOnlyList<IReadOnlyList<int>> inputs, float[][] vectors, CancellationToken cancellationToken)
    {
        var batch = new LLamaBatch();
        for (var i = 0; i < inputs.Count; i++)
        {
            cancellationToken.ThrowIfCancellationRequested();
            context.NativeHandle.MemoryClear(data: false);
            batch.Clear();
            var ids = inputs[i];
            for (var p = 0; p < ids.Count; p++)
            {
                batch.Add((LLamaToken)ids[p], p, LLamaSeqId.Zero, logits: true);
            }

            BeforeDecode?.Invoke();
            var result = context.NativeHandle.Decode(batch);
            if (result != DecodeResult.Ok)
            {
                throw new InvalidOperationException($"llama.cpp could not embed input {i} ({ids.Count} tokens): {result}");
            }

            vectors[i] = Normalise(context.NativeHandle.GetEmbeddingsSeq(LLamaSeqId.Zero));
        }
    }

    private static float[] Normalise(ReadOnlySpan<float> pooled)
    {
        var vector = pooled.ToArray();
        var norm = MathF.Sqrt(vector.Sum(v => v * v));
        if (norm > 0f)
        {
            for (var i = 0; i < vector.Length; i++)
            {
                vector[i] /= norm;
            }
        }

        return vector;
    }
}
