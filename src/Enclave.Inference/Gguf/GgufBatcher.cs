using Enclave.Inference.Onnx;
using LLama;
using LLama.Native;

namespace Enclave.Inference.Gguf;

/// <summary>
/// Continuous batching of one GGUF model's sequences in llama.cpp: one context whose KV cache holds every running
/// sequence under a sequence id of its own (<c>n_seq_max</c> = <c>MaxConcurrentSequences</c>, each with the model's
/// context length), and a worker thread that decodes all of them in one <c>llama_decode</c> per step, one token per
/// sequence at its own position and id, each with its logits. Each sequence keeps its own <see cref="SequenceDecoder"/>
/// (seed, penalties, constraint, logprobs, budget) and reads only its own logits, so it draws the tokens it would alone:
/// a sequence's logits do not depend on the other sequences of its step (with flash attention off, or on over a BF16 or
/// Q8_0 cache, see <see cref="GgufLoader.Open"/>), except in the last bits of an F16 or F32 model's logits when it is alone in a step
/// (one row takes another matmul kernel, see <see cref="Decode"/>).
/// <para>
/// A new prompt is prefilled between two steps, at most <see cref="OnnxEngineOptions.PrefillChunkTokens"/> tokens per
/// iteration (of one prompt or several, first come first served, each cut into pieces of the same length whatever runs
/// beside it), under the sequence id of its first choice; its other
/// choices (OpenAI's <c>n</c>) copy that sequence's cache (<c>llama_memory_seq_cp</c>) and all of them join the batch at
/// the next step. A sequence whose reader leaves is removed from the cache at the next step boundary, its id free for
/// the next prompt; a prompt waits in the queue while there are not ids enough for its choices.
/// </para>
/// </summary>
internal sealed class GgufBatcher : ISequenceBatcher, IDisposable
{
    private readonly Func<LLamaContext> _open;
    private readonly LLamaBatch _batch = new();
    private readonly Lock _gate = new();
    private readonly SemaphoreSlim _wake = new(0);
    private readonly Queue<Waiting> _incoming = new();
    private readonly List<Waiting> _prefilling = [];
    private readonly List<Row> _rows = [];
    private readonly Stack<int> _free = new();
    private bool _cacheUsed;
    private readonly float[] _logits;
    private readonly int _sequences;
    private readonly int _chunk;
    private readonly int _piece;
    private readonly int _batchSize;
    private readonly string _name;
    private LLamaContext? _context;
    private Thread? _thread;
    private bool _disposed;
    private int _pending;
    private long _steps;
    private int _maxRows;

    /// <param name="open">Creates the batch's context (its KV cache is allocated then), on the first join.</param>
    /// <param name="sequences">Sequences the context holds (its <c>n_seq_max</c>).</param>
    /// <param name="vocabSize">Rows of the logits.</param>
    /// <param name="chunk">Prompt tokens run between two steps.</param>
    /// <param name="batchSize">Tokens one <c>llama_decode</c> takes (the context's <c>n_batch</c>).</param>
    /// <param name="name">The model, for the worker thread's name.</param>
    public GgufBatcher(Func<LLamaContext> open, int sequences, int vocabSize, int chunk, int batchSize, string name)
    {
        _open = open;
        _sequences = sequences;
        _logits = new float[vocabSize];
        _chunk = chunk;
        _batchSize = batchSize;
        _piece = Math.Min(chunk, batchSize);
        _name = name;
        for (var id = sequences - 1; id >= 0; id--)
        {
            _free.Push(id);
        }
    }

    /// <summary>Called on the worker before each of its iterations (tests hold the worker here to line up joins).</summary>
    internal Action<BatchProgress>? BeforeStep { get; set; }

    /// <summary>Prompts given to <see cref="Join"/> whose prefill has not finished.</summary>
    internal int Pending => Volatile.Read(ref _pending);

    /// <summary>The most sequences one decode step has had.</summary>
    internal int MaxRows => Volatile.Read(ref _maxRows);

    /// <inheritdoc/>
    public int MaxChoices => _sequences;

    /// <summary>The batch's context (worker only, once a prompt has joined).</summary>
    private SafeLLamaContextHandle Native => _context!.NativeHandle;

    /// <inheritdoc/>
    public BatchMember[] Join(IReadOnlyList<int> prompt, IReadOnlyList<SequenceDecoder> decoders, CancellationToken cancellationToken)
    {
        ArgumentNullException.ThrowIfNull(prompt);
        ArgumentNullException.ThrowIfNull(decoders);
        ArgumentOutOfRangeException.ThrowIfGreaterThan(decoders.Count, _sequences);
        var members = decoders.Select(d => new BatchMember(d, this)).ToArray();
        lock (_gate)
        {
            ObjectDisposedException.ThrowIf(_disposed, this);
            _context ??= _open();
            _incoming.Enqueue(new Waiting([.. prompt], members, cancellationToken));
            Interlocked.Increment(ref _pending);
            if (_thread is null)
            {
                _thread = new Thread(Work) { IsBackground = true, Name = "enclave-gguf-batch " + _name };
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
#pragma warning disable CA1031 // the worker serves many readers: whatever a step throws goes to each of them, and the worker goes on
            catch (Exception e)
#pragma warning restore CA1031
            {
                FailAll(e);
            }
        }

        FailAll(new ObjectDisposedException(nameof(GgufDecoderModel), "the model was unloaded while it generated"));
    }

    /// <summary>One iteration: drop the sequences whose readers left, prefill up to a chunk of prompt tokens, one decode step.</summary>
    private void Step()
    {
        BeforeStep?.Invoke(new BatchProgress(_steps, _rows.Count, _prefilling.Count));
        _rows.RemoveAll(row =>
        {
            if (row.Member.Left)
            {
                row.Member.Tokens.Writer.TryComplete();
                Free(row.Sequence);
                return true;
            }

            return false;
        });

        if (_cacheUsed && _rows.Count == 0 && _prefilling.All(j => j.Sequences is null))
        {
            // Nothing runs: start the next prompt on an empty cache with the sequence ids in their first order, so that
            // a request that runs alone lays out its cache as it would in a fresh context. llama.cpp's sums over the
            // cache are not bit-identical across layouts, and with sampling a last-bit difference can change a token:
            // the same seed must give the same text to requests made one after another.
            ResetCache();
        }

        var budget = _chunk;
        var before = budget;
        while (budget > 0 && _prefilling.Count > 0)
        {
            if (!Prefill(_prefilling[0], ref budget))
            {
                break;
            }
        }

        if (_rows.Count > 0)
        {
            Decode();
        }
        else if (budget == before && _prefilling.Count > 0)
        {
            // Nothing ran: the first prompt waits for sequence ids that no running sequence will free. Not expected
            // (a prompt never asks for more than MaxChoices); wait for a wake rather than spin.
            _wake.Wait(TimeSpan.FromMilliseconds(10));
        }
    }

    /// <summary>
    /// Runs the next piece of <paramref name="join"/>'s prompt, at most <paramref name="budget"/> tokens (taken from it);
    /// at the prompt's end its choices draw their first tokens and join. True when the prompt is done (or dropped), so
    /// that the next one may use the rest of the budget.
    /// </summary>
    private bool Prefill(Waiting join, ref int budget)
    {
        if (join.Members.All(m => m.Left) || join.CancellationToken.IsCancellationRequested)
        {
            Drop(join, new OperationCanceledException("generation was cancelled before its prompt had run", join.CancellationToken));
            return true;
        }

        // A prompt is cut into pieces of the same length whatever runs beside it (a piece that does not fit the rest of
        // this iteration's budget waits for the next one), so that its cache is the same as when it runs alone.
        var count = Math.Min(_piece, join.Prompt.Length - join.Done);
        if (count > budget)
        {
            return false;
        }

        if (join.Sequences is null)
        {
            if (_free.Count < join.Members.Length)
            {
                return false; // waits for sequences to end
            }

            join.Sequences = [.. join.Members.Select(_ => _free.Pop())];
        }

        var sequence = (LLamaSeqId)join.Sequences[0];
        budget -= count;
        _batch.Clear();
        for (var i = 0; i < count; i++)
        {
            _batch.Add((LLamaToken)join.Prompt[join.Done + i], join.Done + i, sequence, logits: join.Done + i == join.Prompt.Length - 1);
        }

        Run(count, join.Done);
        join.Done += count;
        if (join.Done < join.Prompt.Length)
        {
            return false;
        }

        _prefilling.Remove(join);
        Interlocked.Decrement(ref _pending);
        Native.GetLogitsIth(count - 1).CopyTo(_logits);
        for (var i = 1; i < join.Members.Length; i++)
        {
            if (!join.Members[i].Left)
            {
                Native.MemorySequenceCopy(sequence, (LLamaSeqId)join.Sequences[i], 0, -1);
            }
        }

        for (var i = 0; i < join.Members.Length; i++)
        {
            var member = join.Members[i];
            if (member.Left)
            {
                member.Tokens.Writer.TryComplete();
                Free(join.Sequences[i]);
                continue;
            }

            var token = member.Decoder.Next(_logits);
            member.Tokens.Writer.TryWrite(token);
            if (token.FinishReason is not null)
            {
                member.Tokens.Writer.TryComplete();
                Free(join.Sequences[i]);
                continue;
            }

            _rows.Add(new Row(member, join.Sequences[i]) { Input = token.Id, Length = join.Prompt.Length });
        }

        join.Sequences = null;
        return true;
    }

    /// <summary>One step over every sequence (in pieces of at most the batch size): its last token at its position, under its id.</summary>
    private void Decode()
    {
        for (var start = 0; start < _rows.Count; start += _batchSize)
        {
            var count = Math.Min(_batchSize, _rows.Count - start);
            _batch.Clear();
            for (var r = 0; r < count; r++)
            {
                var row = _rows[start + r];
                _batch.Add((LLamaToken)row.Input, row.Length, (LLamaSeqId)row.Sequence, logits: true);
            }

            // A lone row is not padded to two: llama.cpp's CPU matmul takes another kernel for one row than for two or
            // more, whose sums differ in the last bits of F16 and F32 logits (Q4_0's agree bit for bit), but a second
            // row with logits made a single stream 1.8x (F16) to 2.4x (Q4_0) slower, the common case of a model
            // serving one request. So a sequence of an F16 or F32 model decoded alone may draw from logits that differ
            // in the last bits from those it would have beside others (docs/models.md).
            Run(count, -1);
            for (var r = 0; r < count; r++)
            {
                var row = _rows[start + r];
                row.Length++;
                if (row.Member.Left)
                {
                    continue;
                }

                var token = row.Member.Decoder.Next(Native.GetLogitsIth(r));
                row.Member.Tokens.Writer.TryWrite(token);
                if (token.FinishReason is null)
                {
                    row.Input = token.Id;
                }
                else
                {
                    row.Member.Tokens.Writer.TryComplete();
                    row.Member.Leave();
                }
            }
        }

        _steps++;
        if (_rows.Count > _maxRows)
        {
            Volatile.Write(ref _maxRows, _rows.Count);
        }
    }

    private void Run(int count, int position)
    {
        _cacheUsed = true;
        var result = Native.Decode(_batch);
        if (result != DecodeResult.Ok)
        {
            throw new InvalidOperationException(position < 0
                ? $"llama.cpp could not decode a step of {count} sequences: {result}"
                : $"llama.cpp could not decode {count} prompt tokens at position {position}: {result}");
        }
    }

    private void Free(int sequence)
    {
        Native.MemorySequenceRemove((LLamaSeqId)sequence, -1, -1);
        _free.Push(sequence);
    }

    private void Drop(Waiting join, Exception reason)
    {
        _prefilling.Remove(join);
        Interlocked.Decrement(ref _pending);
        if (join.Sequences is { } sequences)
        {
            foreach (var sequence in sequences)
            {
                Free(sequence);
            }

            join.Sequences = null;
        }

        foreach (var member in join.Members)
        {
            member.Tokens.Writer.TryComplete(reason);
        }
    }

    private void FailAll(Exception reason)
    {
        foreach (var row in _rows)
        {
            row.Member.Tokens.Writer.TryComplete(reason);
        }

        _rows.Clear();
        if (reason is ObjectDisposedException)
        {
            lock (_gate)
            {
                while (_incoming.TryDequeue(out var join))
                {
                    _prefilling.Add(join);
                }
            }
        }

        foreach (var join in _prefilling.ToArray())
        {
            Drop(join, reason);
        }

        // Every sequence is gone: the cache is cleared and every id is free again.
        ResetCache();
    }

    private void ResetCache()
    {
        _context?.NativeHandle.MemoryClear(data: false);
        _free.Clear();
        for (var id = _sequences - 1; id >= 0; id--)
        {
            _free.Push(id);
        }

        _cacheUsed = false;
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

        _wake.Release();
        thread?.Join();
        _wake.Dispose();
        if (thread is null)
        {
            FailAll(new ObjectDisposedException(nameof(GgufDecoderModel)));
        }

        _context?.Dispose();
    }

    /// <summary>A prompt waiting for (or in) prefill, the choices that continue from it, and their sequence ids once it has them.</summary>
    private sealed class Waiting(int[] prompt, BatchMember[] members, CancellationToken cancellationToken)
    {
        public int[] Prompt { get; } = prompt;

        public BatchMember[] Members { get; } = members;

        public CancellationToken CancellationToken { get; } = cancellationToken;

        public int Done { get; set; }

        public int[]? Sequences { get; set; }
    }

    /// <summary>A sequence in the batch: its member, its id in the cache, the token the next step runs and its length.</summary>
    private sealed class Row(BatchMember member, int sequence)
    {
        public BatchMember Member { get; } = member;

        public int Sequence { get; } = sequence;

        public int Input { get; set; }

        public int Length { get; set; }
    }
}
