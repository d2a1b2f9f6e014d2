using System.Collections.Concurrent;
using Enclave.Inference.Onnx;
using Enclave.Inference.Text;
using LLama;
using LLama.Common;
using LLama.Native;

namespace Enclave.Inference.Gguf;

/// <summary>
/// A GGUF causal LM run by llama.cpp (through LLamaSharp): the weights are loaded once, and the running sequences are
/// decoded together in one llama.cpp context, one <c>llama_decode</c> per step (<see cref="GgufBatcher"/>, continuous
/// batching, on by default); without batching (or for a request with more choices than the batch has sequences) each
/// running sequence has its own llama.cpp context (its KV cache), taken from a pool and cleared when given back, each
/// context decoded on a thread of its own (<see cref="LlamaThread"/>: llama.cpp's OpenMP team stays with one thread).
/// llama.cpp computes the logits; the engine's <see cref="DecodingLoop"/> samples from them, so
/// seed, temperature, top-p, stop sequences and structured-output masks work as for ONNX models. Load it only from
/// a file the airlock's GGUF scanner passed.
/// </summary>
public sealed class GgufDecoderModel : ITextGenerator, IDisposable
{
    private readonly LLamaWeights _weights;
    private readonly ModelParams _parameters;
    private readonly ConcurrentBag<LlamaThread> _idle = [];
    private readonly string _name;
    private readonly DecodingLoop _loop;
    private readonly int _piece;
    private int _contexts;
    private volatile bool _disposed;

    private GgufDecoderModel(string path, LLamaWeights weights, ModelParams parameters, GgufEngineOptions options, IChatTemplate? template)
    {
        Path = path;
        _weights = weights;
        _parameters = parameters;
        // Prompts are run in the pieces the batch cuts them into, so that a prompt leaves the same cache batched or not.
        _piece = Math.Min(options.BatchSize, options.Bounds.PrefillChunkTokens);
        Tokenizer = new LlamaTokenizer(weights.NativeHandle);
        ChatTemplate = template;
        ContextLength = (int)parameters.ContextSize!.Value;
        VocabSize = weights.Vocab.Count;
        var name = System.IO.Path.GetFileName(System.IO.Path.GetDirectoryName(path)) ?? path;
        _name = name;
        Scheduler = new SequenceScheduler(name, options.Bounds.MaxConcurrentSequences, options.Bounds.MaxQueuedSequences, options.Bounds.RetryAfter);
        Batcher = options.Bounds.ContinuousBatching ? new GgufBatcher(() => BatchContext(weights, parameters, options.Bounds.MaxConcurrentSequences), options.Bounds.MaxConcurrentSequences, VocabSize, options.Bounds.PrefillChunkTokens, options.BatchSize, name) : null;
        _loop = new DecodingLoop(ContextLength, VocabSize, Tokenizer.EndOfSequenceIds, options.Bounds, Scheduler, () => new Sequence(this), Batcher);
    }

    /// <summary>The continuous batch of this model's sequences (<c>Engine:Gguf:Bounds:ContinuousBatching</c>, on by default); null when each sequence runs on its own context.</summary>
    internal GgufBatcher? Batcher { get; }

    /// <summary>The model file.</summary>
    public string Path { get; }

    /// <summary>llama.cpp's tokenizer of the model.</summary>
    public ITextTokenizer Tokenizer { get; }

    /// <summary>The chat template of <c>tokenizer.chat_template</c>, rendered by the engine's Jinja; null when the file has none.</summary>
    public IChatTemplate? ChatTemplate { get; }

    /// <summary>Tokens a sequence holds, prompt and generated together.</summary>
    public int ContextLength { get; }

    /// <summary>Rows of the logits.</summary>
    public int VocabSize { get; }

    /// <inheritdoc/>
    public SequenceScheduler Scheduler { get; }

    /// <summary>Loads <paramref name="path"/> (a GGUF file) for chat.</summary>
    /// <exception cref="InvalidModelException">llama.cpp could not load it, or its chat template does not parse.</exception>
    public static GgufDecoderModel Load(string path, GgufEngineOptions? options = null, TimeProvider? timeProvider = null)
    {
        options ??= new GgufEngineOptions();
        options.ThrowIfInvalid();
        var (weights, parameters) = GgufLoader.Open(path, options, embeddings: false);
        try
        {
            IChatTemplate? template = null;
            if (weights.Metadata.TryGetValue("tokenizer.chat_template", out var source))
            {
                try
                {
                    template = JinjaChatTemplate.Parse(source, GgufLoader.SpecialTokens(weights), timeProvider: timeProvider);
                }
                catch (TokenizerException e)
                {
                    throw new InvalidModelException(path, [new ModelProblem(ModelRejectionReason.InvalidConfig, "tokenizer.chat_template: " + e.Message)], e);
                }
            }

            return new GgufDecoderModel(System.IO.Path.GetFullPath(path), weights, parameters, options, template);
        }
        catch
        {
            weights.Dispose();
            throw;
        }
    }

    /// <inheritdoc/>
    public IAsyncEnumerable<GenerationChunk> GenerateTextAsync(IReadOnlyList<int> promptIds, ITextTokenizer tokenizer, SamplingOptions sampling, CancellationToken cancellationToken = default) =>
        _loop.GenerateTextAsync(promptIds, tokenizer, sampling, 1, cancellationToken);

    /// <inheritdoc/>
    /// <remarks>Batched, further choices copy the prompt's cache in the batch's context; unbatched (or beyond the batch's sequences), each further choice runs the prompt again.</remarks>
    public IAsyncEnumerable<GenerationChunk> GenerateTextAsync(IReadOnlyList<int> promptIds, ITextTokenizer tokenizer, SamplingOptions sampling, int choices, CancellationToken cancellationToken = default) =>
        _loop.GenerateTextAsync(promptIds, tokenizer, sampling, choices, cancellationToken);

    /// <summary>Generates token IDs (no text, no grammar): the first one needs a scheduler slot.</summary>
    public IAsyncEnumerable<GeneratedToken> GenerateTokensAsync(IReadOnlyList<int> promptIds, SamplingOptions sampling, CancellationToken cancellationToken = default) =>
        _loop.GenerateTokensAsync(promptIds, sampling, cancellationToken);

    public void Dispose()
    {
        if (_disposed)
        {
            return;
        }

        _disposed = true;
        Batcher?.Dispose();
        while (_idle.TryTake(out var slot))
        {
            slot.Dispose();
        }

        _weights.Dispose();
    }

    /// <summary>
    /// The batch's context: room for <paramref name="sequences"/> sequences of the model's context length each (the KV
    /// cache split per sequence, as the contexts of unbatched sequences would hold them), with the attention and cache
    /// type of every GGUF decoder context (<see cref="GgufLoader.Open"/> says why they keep batched equal to alone).
    /// </summary>
    private static LLamaContext BatchContext(LLamaWeights weights, ModelParams parameters, int sequences)
    {
        var batched = new ModelParams(parameters.ModelPath)
        {
            GpuLayerCount = 0,
            ContextSize = parameters.ContextSize * (uint)sequences,
            SeqMax = (uint)sequences,
            KVUnified = false,
            BatchSize = parameters.BatchSize,
            UBatchSize = parameters.UBatchSize,
            Embeddings = false,
            FlashAttention = parameters.FlashAttention,
            TypeK = parameters.TypeK,
            TypeV = parameters.TypeV,
        };
        if (parameters.Threads is { } threads)
        {
            batched.Threads = threads;
        }

        if (parameters.BatchThreads is { } batchThreads)
        {
            batched.BatchThreads = batchThreads;
        }

        return weights.CreateContext(batched);
    }

    /// <summary>Called on a context's thread before each <c>llama_decode</c> of an unbatched sequence (tests).</summary>
    internal Action? BeforeDecode { get; set; }

    /// <summary>Unbatched contexts made so far (each with its thread), in the pool or in use.</summary>
    internal int Contexts => Volatile.Read(ref _contexts);

    private LlamaThread Rent()
    {
        if (_idle.TryTake(out var idle))
        {
            return idle;
        }

        ObjectDisposedException.ThrowIf(_disposed, this);
        var slot = new LlamaThread(_weights.CreateContext(_parameters), _name);
        Interlocked.Increment(ref _contexts);
        return slot;
    }

    private void Return(LlamaThread slot)
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
                // Unloaded while this was given back: the unload may have emptied the pool before it was added.
                while (_idle.TryTake(out var late))
                {
                    late.Dispose();
                }
            }
        }
    }

    /// <summary>One sequence: a pooled llama.cpp context whose KV cache holds it at sequence 0, decoded on the context's own thread.</summary>
    private sealed class Sequence : IDecoderSequence
    {
        private readonly GgufDecoderModel _model;
        private readonly LlamaThread _slot;
        private readonly LLamaBatch _batch = new();
        private readonly float[] _logits;
        private readonly Action _append;
        private int[] _pending = new int[16];
        private int _pendingCount;
        private CancellationToken _cancellation;
        private int _length;

        public Sequence(GgufDecoderModel model)
        {
            _model = model;
            _slot = model.Rent();
            _logits = new float[model.VocabSize];
            _append = AppendPending;
        }

        public ReadOnlySpan<float> Logits => _logits;

        public void Append(ReadOnlySpan<int> ids, CancellationToken cancellationToken)
        {
            if (ids.Length == 0 || _length + ids.Length > _model.ContextLength)
            {
                throw new InvalidOperationException($"cannot append {ids.Length} tokens to a sequence of {_length} (context {_model.ContextLength})");
            }

            // The ids go to the context's thread through fields (a span cannot be captured); one sequence appends at a time.
            if (_pending.Length < ids.Length)
            {
                _pending = new int[Math.Max(ids.Length, _pending.Length * 2)];
            }

            ids.CopyTo(_pending);
            _pendingCount = ids.Length;
            _cancellation = cancellationToken;
            try
            {
                _slot.Run(_append);
            }
            finally
            {
                _pendingCount = 0;
                _cancellation = CancellationToken.None;
            }
        }

        public void Dispose() => _model.Return(_slot);

        /// <summary>On the context's thread: the pending ids in pieces of the batch's prompt piece, the logits after the last.</summary>
        private void AppendPending()
        {
            var ids = _pending.AsSpan(0, _pendingCount);
            var context = _slot.Context.NativeHandle;
            for (var start = 0; start < ids.Length; start += _model._piece)
            {
                _cancellation.ThrowIfCancellationRequested();
                var count = Math.Min(_model._piece, ids.Length - start);
                _batch.Clear();
                for (var i = 0; i < count; i++)
                {
                    _batch.Add((LLamaToken)ids[start + i], _length + i, LLamaSeqId.Zero, logits: i == count - 1);
                }

                _model.BeforeDecode?.Invoke();
                var result = context.Decode(_batch);
                if (result != DecodeResult.Ok)
                {
                    throw new InvalidOperationException($"llama.cpp could not decode {count} tokens at position {_length}: {result}");
                }

                _length += count;
                context.GetLogitsIth(count - 1).CopyTo(_logits);
            }
        }
    }
}
