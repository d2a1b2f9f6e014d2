using Enclave.Inference.Backends;
using Enclave.Inference.Onnx;

namespace Enclave.Inference.Tests.Onnx;

public sealed class SequenceSchedulerTests
{
    [Fact]
    public async Task Slots_AreHandedOverInArrivalOrder()
    {
        var scheduler = new SequenceScheduler("m", maxConcurrent: 1, maxQueued: 3, TimeSpan.FromSeconds(1));
        var first = await scheduler.EnterAsync(CancellationToken.None);
        var second = scheduler.EnterAsync(CancellationToken.None).AsTask();
        var third = scheduler.EnterAsync(CancellationToken.None).AsTask();
        Assert.Equal(2, scheduler.Queued);

        first.Dispose();
        var secondLease = await second;
        Assert.False(third.IsCompleted);
        Assert.Equal(1, scheduler.Running);

        secondLease.Dispose();
        (await third).Dispose();
        Assert.Equal(0, scheduler.Running);
        Assert.Equal(0, scheduler.Queued);
    }

    [Fact]
    public async Task ACancelledWaiter_LeavesTheQueue_AndMakesRoom()
    {
        var scheduler = new SequenceScheduler("m", maxConcurrent: 1, maxQueued: 1, TimeSpan.FromSeconds(3));
        using var held = await scheduler.EnterAsync(CancellationToken.None);
        using var cts = new CancellationTokenSource();
        var waiting = scheduler.EnterAsync(cts.Token).AsTask();

        var overloaded = Assert.Throws<BackendException>(() => scheduler.EnterAsync(CancellationToken.None));
        Assert.Equal(503, overloaded.StatusCode);
        Assert.Equal(TimeSpan.FromSeconds(3), overloaded.RetryAfter);
        Assert.Contains("1 sequences are generating and 1 requests are waiting", overloaded.Message, StringComparison.Ordinal);

        await cts.CancelAsync();
        await Assert.ThrowsAnyAsync<OperationCanceledException>(() => waiting);
        Assert.Equal(0, scheduler.Queued);

        var next = scheduler.EnterAsync(CancellationToken.None).AsTask();
        Assert.False(next.IsCompleted);
        held.Dispose();
        (await next).Dispose();
        Assert.Equal(0, scheduler.Running);
    }

    [Fact]
    public async Task DisposingALeaseTwice_GivesTheSlotBackOnce()
    {
        var scheduler = new SequenceScheduler("m", maxConcurrent: 2, maxQueued: 0, TimeSpan.Zero);
        var a = await scheduler.EnterAsync(CancellationToken.None);
        using var b = await scheduler.EnterAsync(CancellationToken.None);
        a.Dispose();
        a.Dispose();
        Assert.Equal(1, scheduler.Running);
    }
}
