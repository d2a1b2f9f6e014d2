using System.Threading.Channels;
using Microsoft.ML.OnnxRuntime;

namespace Enclave.Inference.Onnx;

/// <summary>
/// Continuous batching of one model's sequences: a worker thread decodes every running sequence of the model in one
/// ONNX Runtime run per step, its row of <c>input_ids</c> [rows, 1] holding the sequence's last token, its
/// <c>position_ids</c> its own position and its row of <c>attention_mask</c> [rows, T + 1] masking the padding in
/// front of its cache. The caches are one batched tensor per layer, [rows, kv heads, T, head dim], each sequence's
/// entries right-aligned (left padding up to the longest, T): between membership changes the <c>present.*</c> outputs
/// of a step are fed back as the next step's <c>past_key_values.*</c> unchanged, as for a single sequence; when a
/// sequence joins or leaves, the tensor is assembled again from the rows that stay (trimmed to the new longest) and
/// the newcomers' own caches.
/// <para>
/// A new prompt is prefilled on its own cache, at most <see cref="OnnxEngineOptions.PrefillChunkTokens"/> prompt tokens
/// (of one or more prompts, first come first served) between two decode steps, so a long prompt delays the running
/// sequences by one piece's run at most and short prompts that arrive together join together; when it is done its choices (OpenAI's <c>n</c>) draw their first tokens from its logits and join as rows that copy
/// its cache. Each sequence keeps its own <see cref="SequenceDecoder"/> (seed, penalties, constraint, logprobs,
/// budget) and reads only its row of the logits, so it decodes the tokens it would alone. A sequence whose reader
/// leaves (cancellation, a stop sequence) is dropped at the next step boundary; the others run on untouched.
/// </para>
/// </summary>
internal sealed class ContinuousBatcher : ISequenceBatcher, IDisposable
{
    private readonly OnnxDecoderModel _model;
    private readonly Lock _gate = new();
    private readonly SemaphoreSlim _wake = new(0);
    private readonly Queue<BatchJoin> _incoming = new();
    private readonly List<BatchJoin> _prefilling = [];
    private readonly List<BatchMember> _rows = [];
    private readonly List<DecoderSequence> _sources = [];
    private readonly RunOptions _runOptions = new();
    private readonly OrtValue[] _inputs;
    private readonly int _vocab;
    private readonly int _kvHeads;
    private readonly int _headDim;
    private readonly int _chunk;
    private OrtValue[]? _past;
    private int _pastLength;
    private Thread? _thread;
    private bool _disposed;
    private int _pending;
    private long _steps;
    private int _maxRows;

    public ContinuousBatcher(OnnxDecoderModel model)
    {
        _model = model;
        _vocab = model.Config.VocabSize;
        _kvHeads = model.Config.KeyValueHeads;
        _headDim = model.Config.HeadDim;
        _chunk = model.PrefillChunkTokens;
        _inputs = new OrtValue[model.InputNames.Length];
    }

    /// <summary>Called on the worker before each of its iterations (tests hold the worker here to line up joins).</summary>
    internal Action<BatchProgress>? BeforeStep { get; set; }

    /// <summary>Prompts given to <see cref="Join"/> whose prefill has not finished.</summary>
    internal int Pending => Volatile.Read(ref _pending);

    /// <summary>The most rows one decode run has had.</summary>
    internal int MaxRows => Volatile.Read(ref _maxRows);

    /// <inheritdoc/>
    public int MaxChoices => int.MaxValue;

    /// <summary>
    /// Queues <paramref name="prompt"/> for prefill; once it is run, one sequence per decoder continues from its cache
    /// in the batch. Each returned member's tokens arrive on its channel, the last one with its finish reason; the
    /// reader calls <see cref="BatchMember.Leave"/> when it stops reading.
    /// </summary>
    public BatchMember[] Join(IReadOnlyList<int> prompt, IReadOnlyList<SequenceDecoder> decoders, CancellationToken cancellationToken)
    {
        var members = decoders.Select(d => new BatchMember(d, this)).ToArray();
        lock (_gate)
        {
            ObjectDisposedException.ThrowIf(_disposed, this);
            _incoming.Enqueue(new BatchJoin([.. prompt], members, cancellationToken));
            Interlocked.Increment(ref _pending);
            if (_thread is null)
            {
                _thread = new Thread(Work) { IsBackground = true, Name = "enclave-batch " + Path.GetFileName(_model.Directory) };
                _thread.Start();
            }

            _wake.Release();
        }

        return members;
    }

    /// <inheritdoc/>
    public void Wake()
    {
        lock (_gate)
        {
            if (!_disposed)
            {
                _wake.Release();
            }
        }
    }

    private void Work()
    {
        while (true)
        {
            lock (_gate)
            {
                if (_disposed)
                {
                    break;
                }

                while (_incoming.TryDequeue(out var join))
                {
                    _prefilling.Add(join);
                }
            }

            if (_rows.Count == 0 && _prefilling.Count == 0)
            {
                _wake.Wait();
                continue;
            }

            try
            {
                Step();
            }
#pragma warning disable CA1031 // the worker serves many readers: whatever a run throws goes to each of them, and the worker goes on
            catch (Exception e)
#pragma warning restore CA1031
            {
                FailAll(e);
            }
        }

        FailAll(new ObjectDisposedException(nameof(OnnxDecoderModel), "the model was unloaded while it generated"));
    }

    /// <summary>One iteration: drop the rows whose readers left, one prefill piece, reassemble the caches if the rows changed, one decode step.</summary>
    private void Step()
    {
        BeforeStep?.Invoke(new BatchProgress(_steps, _rows.Count, _prefilling.Count));
        var changed = _rows.RemoveAll(member =>
        {
            if (member.Left)
            {
                member.Tokens.Writer.TryComplete();
                return true;
            }

            return false;
        }) > 0;

        // Prompts are prefilled first come first served, PrefillChunkTokens tokens per iteration in all: several short
        // prompts that arrive together join at the same step, and a long one runs a piece per iteration.
        var budget = _chunk;
        while (budget > 0 && _prefilling.Count > 0)
        {
            var join = _prefilling[0];
            changed |= Prefill(join, ref budget);
            if (_prefilling.Count > 0 && _prefilling[0] == join)
            {
                break;
            }
        }

        if (changed)
        {
            Assemble();
        }

        if (_rows.Count > 0)
        {
            Decode();
        }
    }

    /// <summary>
    /// Runs the next piece of <paramref name="join"/>'s prompt, at most <paramref name="budget"/> tokens (taken from it);
    /// at the prompt's end draws each choice's first token. True when rows joined.
    /// </summary>
    private bool Prefill(BatchJoin join, ref int budget)
    {
        if (join.Members.All(m => m.Left) || join.CancellationToken.IsCancellationRequested)
        {
            Drop(join, new OperationCanceledException("generation was cancelled before its prompt had run", join.CancellationToken));
            return false;
        }

        join.Sequence ??= new DecoderSequence(_model);
        var count = Math.Min(budget, join.Prompt.Length - join.Done);
        budget -= count;
        try
        {
            join.Sequence.Append(join.Prompt.AsSpan(join.Done, count), join.CancellationToken);
        }
        catch (OperationCanceledException e)
        {
            Drop(join, e);
            return false;
        }

        join.Done += count;
        if (join.Done < join.Prompt.Length)
        {
            return false;
        }

        _prefilling.Remove(join);
        Interlocked.Decrement(ref _pending);
        var joined = false;
        foreach (var member in join.Members)
        {
            if (member.Left)
            {
                member.Tokens.Writer.TryComplete();
                continue;
            }

            var token = member.Decoder.Next(join.Sequence.Logits);
            member.Tokens.Writer.TryWrite(token);
            if (token.FinishReason is not null)
            {
                member.Tokens.Writer.TryComplete();
                continue;
            }

            member.Input = token.Id;
            member.Length = join.Prompt.Length;
            member.Source = join.Sequence;
            _rows.Add(member);
            joined = true;
        }

        if (joined)
        {
            _sources.Add(join.Sequence);
        }
        else
        {
            join.Sequence.Dispose();
        }

        join.Sequence = null;
        return joined;
    }

    private void Drop(BatchJoin join, Exception reason)
    {
        _prefilling.Remove(join);
        Interlocked.Decrement(ref _pending);
        join.Sequence?.Dispose();
        join.Sequence = null;
        foreach (var member in join.Members)
        {
            member.Tokens.Writer.TryComplete(reason);
        }
    }

    /// <summary>The batched caches again, for the current rows: each row's entries right-aligned in [rows, kv, longest, head dim].</summary>
    private void Assemble()
    {
        var rows = _rows.Count;
        var length = rows == 0 ? 0 : _rows.Max(m => m.Length);
        OrtValue[]? next = null;
        if (rows > 0)
        {
            next = new OrtValue[_model.Config.Layers * 2];
            for (var i = 0; i < next.Length; i++)
            {
                var data = new float[(long)rows * _kvHeads * length * _headDim];
                for (var r = 0; r < rows; r++)
                {
                    var member = _rows[r];
                    var (source, sourceRow, sourceLength) = member.Source is { } prefilled ? (prefilled.Past[i], 0, prefilled.Length) : (_past![i], member.Row, _pastLength);
                    var from = source.GetTensorDataAsSpan<float>();
                    for (var h = 0; h < _kvHeads; h++)
                    {
                        var start = ((((sourceRow * _kvHeads) + h) * sourceLength) + sourceLength - member.Length) * _headDim;
                        var to = ((((r * _kvHeads) + h) * length) + length - member.Length) * _headDim;
                        from.Slice(start, member.Length * _headDim).CopyTo(data.AsSpan(to));
                    }
                }

                next[i] = OrtValue.CreateTensorValueFromMemory(data, [rows, _kvHeads, length, _headDim]);
            }
        }

        ReleaseCaches();
        _past = next;
        _pastLength = length;
        for (var r = 0; r < rows; r++)
        {
            _rows[r].Row = r;
            _rows[r].Source = null;
        }
    }

    /// <summary>One run over every row: each row's last token at its own position, its padding masked.</summary>
    private void Decode()
    {
        var rows = _rows.Count;
        var total = _pastLength + 1;
        var ids = new long[rows];
        var positions = new long[rows];
        var mask = new long[rows * total];
        for (var r = 0; r < rows; r++)
        {
            var member = _rows[r];
            ids[r] = member.Input;
            positions[r] = member.Length;
            mask.AsSpan((r * total) + total - (member.Length + 1), member.Length + 1).Fill(1L);
        }

        using var idsValue = OrtValue.CreateTensorValueFromMemory(ids, [rows, 1]);
        using var maskValue = OrtValue.CreateTensorValueFromMemory(mask, [rows, total]);
        using var positionsValue = OrtValue.CreateTensorValueFromMemory(positions, [rows, 1]);
        var next = 0;
        _inputs[next++] = idsValue;
        _inputs[next++] = maskValue;
        if (_model.HasPositionIds)
        {
            _inputs[next++] = positionsValue;
        }

        _past!.CopyTo(_inputs, next);
        IDisposableReadOnlyCollection<OrtValue> outputs;
        try
        {
            outputs = _model.Session.Run(_runOptions, _model.InputNames, _inputs, _model.OutputNames);
        }
        finally
        {
            Array.Clear(_inputs);
        }

        for (var i = 0; i < _past.Length; i++)
        {
            _past[i].Dispose();
            _past[i] = outputs[i + 1];
        }

        _pastLength = total;
        _model.CountRun(rows);
        _steps++;
        if (rows > _maxRows)
        {
            Volatile.Write(ref _maxRows, rows);
        }

        using var logits = outputs[0];
        var all = logits.GetTensorDataAsSpan<float>();
        for (var r = 0; r < rows; r++)
        {
            var member = _rows[r];
            member.Length++;
            if (member.Left)
            {
                continue;
            }

            var token = member.Decoder.Next(all.Slice(r * _vocab, _vocab));
            member.Tokens.Writer.TryWrite(token);
            if (token.FinishReason is null)
            {
                member.Input = token.Id;
            }
            else
            {
                member.Tokens.Writer.TryComplete();
                member.Leave();
            }
        }
    }

    private void FailAll(Exception reason)
    {
        foreach (var member in _rows)
        {
            member.Tokens.Writer.TryComplete(reason);
        }

        _rows.Clear();
        foreach (var join in _prefilling.ToArray())
        {
            Drop(join, reason);
        }

        if (reason is ObjectDisposedException)
        {
            lock (_gate)
            {
                while (_incoming.TryDequeue(out var join))
                {
                    _prefilling.Add(join);
                }
            }

            foreach (var join in _prefilling.ToArray())
            {
                Drop(join, reason);
            }
        }

        ReleaseCaches();
        _past = null;
        _pastLength = 0;
    }

    private void ReleaseCaches()
    {
        if (_past is not null)
        {
            foreach (var value in _past)
            {
                value.Dispose();
            }
        }

        foreach (var source in _sources)
        {
            source.Dispose();
        }

        _sources.Clear();
    }

    public void Dispose()
    {
        Thread? thread;
        lock (_gate)
        {
            if (_disposed)
            {
                return;
            }

            _disposed = true;
            thread = _thread;
        }

        _runOptions.Terminate = true;
        _wake.Release();
        thread?.Join();
        _wake.Dispose();
        if (thread is null)
        {
            FailAll(new ObjectDisposedException(nameof(OnnxDecoderModel)));
        }

        _runOptions.Dispose();
    }

    /// <summary>A prompt waiting for (or in) prefill, and the choices that will continue from it.</summary>
    private sealed class BatchJoin(int[] prompt, BatchMember[] members, CancellationToken cancellationToken)
    {
        public int[] Prompt { get; } = prompt;

        public BatchMember[] Members { get; } = members;

        public CancellationToken CancellationToken { get; } = cancellationToken;

        public int Done { get; set; }

        public DecoderSequence? Sequence { get; set; }
    }
}

/// <summary>Where the batch worker is, for tests: decode steps run so far, rows, prompts in prefill.</summary>
internal readonly record struct BatchProgress(long Steps, int Rows, int Prefilling);

/// <summary>One sequence of a batch (<see cref="ISequenceBatcher"/>): its decoder, its tokens' channel, its place in the batch.</summary>
internal sealed class BatchMember(SequenceDecoder decoder, ISequenceBatcher batcher)
{
    private volatile bool _left;

    public SequenceDecoder Decoder { get; } = decoder;

    /// <summary>The sequence's tokens, written by the worker, read by the request.</summary>
    public Channel<GeneratedToken> Tokens { get; } = Channel.CreateUnbounded<GeneratedToken>(new UnboundedChannelOptions { SingleReader = true, SingleWriter = true });

    public bool Left => _left;

    /// <summary>Tokens in the sequence's cache (worker only).</summary>
    internal int Length { get; set; }

    /// <summary>The token the next step runs (worker only).</summary>
    internal int Input { get; set; }

    /// <summary>Row in the batched caches, or -1 before the sequence is in them (worker only).</summary>
    internal int Row { get; set; } = -1;

    /// <summary>The prefilled cache this sequence copies when it joins the batch (worker only).</summary>
    internal DecoderSequence? Source { get; set; }

    /// <summary>The reader stops: the worker drops the sequence at its next step boundary.</summary>
    public void Leave()
    {
        if (!_left)
        {
            _left = true;
            batcher.Wake();
        }
    }
}
