using Microsoft.ML.OnnxRuntime;

namespace Enclave.Inference.Onnx;

/// <summary>
/// One sequence's KV cache on a shared session. <see cref="Append"/> runs the model over new tokens only: the prompt
/// once, then one token per step. The <c>present.*</c> outputs of a run are passed unchanged (no copy) as the
/// <c>past_key_values.*</c> inputs of the next, and the previous cache is released.
/// </summary>
internal sealed class DecoderSequence : IDecoderSequence
{
    private readonly OnnxDecoderModel _model;
    private readonly OrtValue[] _past;
    private readonly int _context;
    private readonly int _chunk;
    private long[] _mask = [];
    private readonly float[] _logits;
    private readonly RunOptions _runOptions = new();
    private readonly OrtValue[] _inputs;
    private int _length;

    public DecoderSequence(OnnxDecoderModel model)
    {
        _model = model;
        var config = model.Config;
        _context = config.MaxPositions;
        _chunk = model.PrefillChunkTokens;
        _logits = new float[config.VocabSize];
        _past = new OrtValue[config.Layers * 2];
        for (var i = 0; i < _past.Length; i++)
        {
            _past[i] = OrtValue.CreateTensorValueFromMemory(Array.Empty<float>(), [1, config.KeyValueHeads, 0, config.HeadDim]);
        }

        _inputs = new OrtValue[model.InputNames.Length];
    }

    /// <summary>Tokens in the cache.</summary>
    public int Length => _length;

    /// <summary>The cache, <c>present.*</c> of the last run in the order of the model's outputs: [1, kv heads, <see cref="Length"/>, head dim] each.</summary>
    internal OrtValue[] Past => _past;

    /// <summary>Logits after the last appended token.</summary>
    public ReadOnlySpan<float> Logits => _logits;

    /// <summary>
    /// A new sequence with a copy of this one's cache and logits (the choices of a request with <c>n</c> &gt; 1 share
    /// their prompt's prefill this way); the two then grow independently.
    /// </summary>
    IDecoderSequence? IDecoderSequence.TryFork() => Fork();

    public DecoderSequence Fork()
    {
        var copy = new DecoderSequence(_model);
        for (var i = 0; i < _past.Length; i++)
        {
            var shape = _past[i].GetTensorTypeAndShape().Shape;
            var data = _past[i].GetTensorDataAsSpan<float>().ToArray();
            copy._past[i].Dispose();
            copy._past[i] = OrtValue.CreateTensorValueFromMemory(data, shape);
        }

        _logits.CopyTo(copy._logits);
        copy._length = _length;
        return copy;
    }

    /// <summary>Runs the model over <paramref name="ids"/> (in pieces of at most the prefill chunk), extending the cache.</summary>
    public void Append(ReadOnlySpan<int> ids, CancellationToken cancellationToken)
    {
        if (ids.Length == 0 || _length + ids.Length > _context)
        {
            throw new InvalidOperationException($"cannot append {ids.Length} tokens to a sequence of {_length} (context {_context})");
        }

        for (var start = 0; start < ids.Length; start += _chunk)
        {
            Run(ids.Slice(start, Math.Min(_chunk, ids.Length - start)), cancellationToken);
        }
    }

    private void Run(ReadOnlySpan<int> ids, CancellationToken cancellationToken)
    {
        cancellationToken.ThrowIfCancellationRequested();
        var count = ids.Length;
        var total = _length + count;
        if (_mask.Length < total)
        {
            // The attention mask is all ones (one sequence, no padding); grow it geometrically, never past the context.
            _mask = new long[Math.Min(_context, Math.Max(total, _mask.Length * 2))];
            Array.Fill(_mask, 1L);
        }

        var inputIds = new long[count];
        var positions = new long[count];
        for (var i = 0; i < count; i++)
        {
            inputIds[i] = ids[i];
            positions[i] = _length + i;
        }

        using var idsValue = OrtValue.CreateTensorValueFromMemory(inputIds, [1, count]);
        using var maskValue = OrtValue.CreateTensorValueFromMemory(OrtMemoryInfo.DefaultInstance, _mask.AsMemory(0, total), [1, total]);
        using var positionsValue = OrtValue.CreateTensorValueFromMemory(positions, [1, count]);
        var next = 0;
        _inputs[next++] = idsValue;
        _inputs[next++] = maskValue;
        if (_model.HasPositionIds)
        {
            _inputs[next++] = positionsValue;
        }

        _past.CopyTo(_inputs, next);

        IDisposableReadOnlyCollection<OrtValue> outputs;
        using (cancellationToken.Register(static state => ((RunOptions)state!).Terminate = true, _runOptions))
        {
            try
            {
                outputs = _model.Session.Run(_runOptions, _model.InputNames, _inputs, _model.OutputNames);
            }
            catch (OnnxRuntimeException) when (cancellationToken.IsCancellationRequested)
            {
                throw new OperationCanceledException("generation was cancelled while the model ran", cancellationToken);
            }
            finally
            {
                Array.Clear(_inputs);
            }
        }

        // The collection is not disposed: its present.* values become the cache; logits are copied and released.
        using (var logits = outputs[0])
        {
            var vocab = _logits.Length;
            logits.GetTensorDataAsSpan<float>().Slice((count - 1) * vocab, vocab).CopyTo(_logits);
        }

        for (var i = 0; i < _past.Length; i++)
        {
            _past[i].Dispose();
            _past[i] = outputs[i + 1];
        }

        _length = total;
        _model.CountRun(count);
    }

    public void Dispose()
    {
        foreach (var value in _past)
        {
            value.Dispose();
        }

        _runOptions.Dispose();
    }
}
