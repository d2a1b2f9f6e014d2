namespace Enclave.Ledger.Tests;

/// <summary>
/// The sequencer's wait for appends (<see cref="QuietTaskWaiter"/>): it reports a task's completion, whether it came
/// before the wait, during it, or after an earlier wait on the same task timed out, and a completed task's signal never
/// leaks into the wait for the next one.
/// </summary>
public sealed class QuietTaskWaiterTests
{
    private static readonly TimeSpan Short = TimeSpan.FromMilliseconds(20);
    private static readonly TimeSpan Deadline = TimeSpan.FromSeconds(30);

    [Fact]
    public void Wait_ReturnsTrue_ForACompletedTask()
    {
        var waiter = new QuietTaskWaiter();

        Assert.True(waiter.Wait(Task.CompletedTask, TimeSpan.Zero));
    }

    [Fact]
    public void Wait_ReturnsFalse_WhileTheTaskIsPending_ThenTrueOnceItCompletes()
    {
        var waiter = new QuietTaskWaiter();
        var pending = new TaskCompletionSource<bool>(TaskCreationOptions.RunContinuationsAsynchronously);

        Assert.False(waiter.Wait(pending.Task, Short));
        Assert.False(waiter.Wait(pending.Task, Short)); // the same task again after a timeout: still pending

        pending.SetResult(true);

        Assert.True(waiter.Wait(pending.Task, Deadline));
    }

    [Fact]
    public void Wait_DoesNotSeeThePreviousTasksCompletion_WhenWaitingForTheNext()
    {
        var waiter = new QuietTaskWaiter();
        // Continuations on the thread pool, as the ledger's channel runs them: the first task is seen complete before
        // its continuation sets the waiter's event, which may then happen during the wait for the second.
        var first = new TaskCompletionSource<bool>(TaskCreationOptions.RunContinuationsAsynchronously);
        Assert.False(waiter.Wait(first.Task, Short)); // the waiter now watches the first task
        first.SetResult(true);
        Assert.True(waiter.Wait(first.Task, Deadline));

        var second = new TaskCompletionSource<bool>();

        Assert.False(waiter.Wait(second.Task, Short));
        second.SetResult(false);
        Assert.True(waiter.Wait(second.Task, Deadline));
    }

    [Fact]
    public void Wait_WithoutATimeout_WakesWhenAnotherThreadCompletesTheTask()
    {
        var waiter = new QuietTaskWaiter();
        var pending = new TaskCompletionSource<bool>(TaskCreationOptions.RunContinuationsAsynchronously);
        var waited = false;
        var started = new ManualResetEventSlim();
        var thread = new Thread(() =>
        {
            started.Set();
            waited = waiter.Wait(pending.Task, Timeout.InfiniteTimeSpan);
        });
        thread.Start();
        Assert.True(started.Wait(Deadline));

        pending.SetResult(true);

        Assert.True(thread.Join(Deadline), "the waiting thread did not wake when the task completed");
        Assert.True(waited);
    }
}
