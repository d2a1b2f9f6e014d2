using System.Threading.Channels;

namespace Enclave.Bench.Ledger;

/// <summary>
/// The queueing of <c>SqliteLedger</c> without its storage: the same bounded channel, the same dedicated
/// sequencer thread draining up to a batch, the same <see cref="TaskCompletionSource{TResult}"/> per append with
/// asynchronous continuations. Its commit only numbers the entries, optionally after blocking for a fixed time
/// (to stand in for an fsync). Measures the ceiling that the plumbing and the callers' own work put on throughput.
/// </summary>
internal sealed class NullSequencer : IAsyncDisposable
{
    private readonly Channel<Pending> _queue;
    private readonly Thread _writer;
    private readonly TimeSpan _commitDelay;
    private readonly int _maxBatch;
    private long _size;

    public NullSequencer(TimeSpan commitDelay, int maxBatch = 4096, int maxPending = 65536)
    {
        _commitDelay = commitDelay;
        _maxBatch = maxBatch;
        _queue = Channel.CreateBounded<Pending>(new BoundedChannelOptions(maxPending) { SingleReader = true, FullMode = BoundedChannelFullMode.Wait });
        _writer = new Thread(WriterLoop) { IsBackground = true, Name = "bench-null-sequencer" };
        _writer.Start();
    }

    public long Size => Interlocked.Read(ref _size);

    public async ValueTask<long> AppendAsync(byte[] entry, CancellationToken cancellationToken = default)
    {
        var pending = new Pending(entry);
        await _queue.Writer.WriteAsync(pending, cancellationToken).ConfigureAwait(false);
        return await pending.Completion.Task.WaitAsync(cancellationToken).ConfigureAwait(false);
    }

    private void WriterLoop()
    {
        var batch = new List<Pending>(_maxBatch);
        Task<bool>? waiting = null;
        while (true)
        {
            if (!_queue.Reader.TryRead(out var first))
            {
                waiting ??= _queue.Reader.WaitToReadAsync().AsTask();
                waiting.Wait();
                var more = waiting.Result;
                waiting = null;
                if (!more)
                {
                    return;
                }

                continue;
            }

            batch.Add(first);
            while (batch.Count < _maxBatch && _queue.Reader.TryRead(out var next))
            {
                batch.Add(next);
            }

            if (_commitDelay > TimeSpan.Zero)
            {
                Thread.Sleep(_commitDelay);
            }

            var size = _size;
            foreach (var p in batch)
            {
                p.Index = size++;
            }

            Interlocked.Exchange(ref _size, size);
            foreach (var p in batch)
            {
                p.Completion.TrySetResult(p.Index);
            }

            batch.Clear();
        }
    }

    public async ValueTask DisposeAsync()
    {
        _queue.Writer.TryComplete();
        await Task.Run(_writer.Join).ConfigureAwait(false);
    }

    private sealed class Pending(byte[] data)
    {
        public byte[] Data { get; } = data;

        public long Index { get; set; }

        public TaskCompletionSource<long> Completion { get; } = new(TaskCreationOptions.RunContinuationsAsynchronously);
    }
}
