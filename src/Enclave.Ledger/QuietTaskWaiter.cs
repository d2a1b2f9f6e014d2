namespace Enclave.Ledger;

/// <summary>
/// Blocks one dedicated thread until a task completes, without spinning first. <see cref="Task.Wait(TimeSpan)"/> spins
/// (<see cref="SpinWait"/>, which calls <c>sched_yield</c>) and then blocks on an event that spins again before it
/// sleeps: for the ledger's sequencer, which waits once per commit, that was about 10 % of the gateway's
/// <c>sched_yield</c> calls at a moderate open-loop rate, each a context switch on a busy machine (issue 18). Here a
/// continuation on the task sets an event that does not spin (<c>spinCount: 0</c>), and the thread sleeps in the kernel
/// until it is set or the timeout passes. Waiting again on the same task after a timeout reuses the continuation.
/// One thread uses an instance at a time. It is not disposed: a continuation may still set the event after its thread
/// has seen the task complete and gone, and the event holds no kernel handle as long as nobody asks for its
/// <see cref="ManualResetEventSlim.WaitHandle"/>.
/// </summary>
#pragma warning disable CA1001 // see above: disposing the event could fault a late continuation on the thread pool
internal sealed class QuietTaskWaiter
#pragma warning restore CA1001
{
    private readonly ManualResetEventSlim _done = new(initialState: false, spinCount: 0);
    private readonly Action _set;
    private Task? _watched;

    public QuietTaskWaiter() => _set = _done.Set;

    /// <summary>
    /// Whether <paramref name="task"/> completed within <paramref name="timeout"/> (<see cref="Timeout.InfiniteTimeSpan"/>:
    /// no limit). Its result or exception is the caller's to read afterwards.
    /// </summary>
    public bool Wait(Task task, TimeSpan timeout)
    {
        ArgumentNullException.ThrowIfNull(task);
        if (task.IsCompleted)
        {
            return true;
        }

        if (!ReferenceEquals(task, _watched))
        {
            // A new task: the last one completed (or was given up) before this was asked for, so its signal is stale.
            _done.Reset();
            _watched = task;
            task.ConfigureAwait(false).GetAwaiter().UnsafeOnCompleted(_set);
        }

        var start = System.Diagnostics.Stopwatch.GetTimestamp();
        while (true)
        {
            var remaining = timeout == Timeout.InfiniteTimeSpan
                ? Timeout.InfiniteTimeSpan
                : timeout - System.Diagnostics.Stopwatch.GetElapsedTime(start);
            if (remaining != Timeout.InfiniteTimeSpan && remaining < TimeSpan.Zero)
            {
                remaining = TimeSpan.Zero;
            }

            if (!_done.Wait(remaining))
            {
                return task.IsCompleted;
            }

            if (task.IsCompleted)
            {
                return true;
            }

            // Set by an earlier task's continuation that ran late (its task was seen complete before it ran): clear it
            // and wait on; this task's continuation is registered, and a completion in between is seen just below.
            _done.Reset();
            if (task.IsCompleted)
            {
                return true;
            }
        }
    }
}
