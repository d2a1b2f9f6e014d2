using Enclave.Inference.Backends;

namespace Enclave.Inference.Onnx;

/// <summary>
/// Admission for one model: at most <c>maxConcurrent</c> sequences run, at most <c>maxQueued</c> wait in FIFO order,
/// and a request beyond both is refused at once with <see cref="BackendException"/> 503 <c>overloaded</c> and a
/// Retry-After, so a client backs off instead of piling up. A waiter whose request is cancelled leaves the queue.
/// </summary>
public sealed class SequenceScheduler
{
    private readonly Lock _gate = new();
    private readonly LinkedList<TaskCompletionSource> _waiters = new();
    private readonly string _model;
    private readonly int _maxConcurrent;
    private readonly int _maxQueued;
    private readonly TimeSpan _retryAfter;
    private int _running;

    public SequenceScheduler(string model, int maxConcurrent, int maxQueued, TimeSpan retryAfter)
    {
        ArgumentOutOfRangeException.ThrowIfLessThan(maxConcurrent, 1);
        ArgumentOutOfRangeException.ThrowIfNegative(maxQueued);
        _model = model;
        _maxConcurrent = maxConcurrent;
        _maxQueued = maxQueued;
        _retryAfter = retryAfter;
    }

    /// <summary>Sequences holding a slot now.</summary>
    public int Running
    {
        get
        {
            lock (_gate)
            {
                return _running;
            }
        }
    }

    /// <summary>Requests waiting for a slot now.</summary>
    public int Queued
    {
        get
        {
            lock (_gate)
            {
                return _waiters.Count;
            }
        }
    }

    /// <summary>
    /// A slot, at once when one is free (no await), else after the requests queued before this one.
    /// Dispose the lease to give the slot back.
    /// </summary>
    /// <exception cref="BackendException">503 <c>overloaded</c> when the slots and the queue are full.</exception>
    public ValueTask<SchedulerLease> EnterAsync(CancellationToken cancellationToken)
    {
        cancellationToken.ThrowIfCancellationRequested();
        LinkedListNode<TaskCompletionSource> node;
        lock (_gate)
        {
            if (_running < _maxConcurrent)
            {
                _running++;
                return ValueTask.FromResult(new SchedulerLease(this));
            }

            if (_waiters.Count >= _maxQueued)
            {
                throw new BackendException(
                    503,
                    "overloaded",
                    $"model '{_model}' is at capacity: {_maxConcurrent} sequences are generating and {_maxQueued} requests are waiting; retry after {_retryAfter.TotalSeconds:0.#} s",
                    _retryAfter);
            }

            node = _waiters.AddLast(new TaskCompletionSource(TaskCreationOptions.RunContinuationsAsynchronously));
        }

        return WaitAsync(node, cancellationToken);
    }

    private async ValueTask<SchedulerLease> WaitAsync(LinkedListNode<TaskCompletionSource> node, CancellationToken cancellationToken)
    {
        using (cancellationToken.Register(() =>
        {
            lock (_gate)
            {
                if (node.List is not null)
                {
                    _waiters.Remove(node);
                    node.Value.TrySetCanceled(cancellationToken);
                }
            }
        }))
        {
            await node.Value.Task.ConfigureAwait(false);
        }

        return new SchedulerLease(this);
    }

    internal void Release()
    {
        lock (_gate)
        {
            // Hand the slot straight to the oldest waiter, so a newcomer cannot overtake the queue.
            var first = _waiters.First;
            if (first is not null)
            {
                _waiters.RemoveFirst();
                first.Value.TrySetResult();
                return;
            }

            _running--;
        }
    }
}

/// <summary>A scheduler slot; disposing it (once) gives the slot back.</summary>
public sealed class SchedulerLease : IDisposable
{
    private SequenceScheduler? _scheduler;

    internal SchedulerLease(SequenceScheduler scheduler) => _scheduler = scheduler;

    public void Dispose() => Interlocked.Exchange(ref _scheduler, null)?.Release();
}
