using Enclave.Core.Audit;

namespace Enclave.Ledger.Tests;

/// <summary>
/// The append feed: a consumer sees every durable entry once, in index order, whether it came through the channel or,
/// after the channel filled and dropped, from the store; an observer that throws never disturbs the ledger.
/// </summary>
public sealed class LedgerFeedTests
{
    [Fact]
    public async Task ConsumerThatLags_GetsEveryEntryInOrder_DroppedOnesReadBackFromTheStore()
    {
        using var test = new TestLedger();
        await using var ledger = test.Open();
        var feed = new LedgerFeed(ledger, capacity: 8);
        ledger.Subscribe(feed);

        // 100 appends while nobody reads: the channel keeps 8 and drops the rest; appends are never held up.
        var appends = Enumerable.Range(0, 100).Select(n => ledger.AppendAsync(TestLedger.Event(n)).AsTask()).ToList();
        await Task.WhenAll(appends);

        var seen = new List<long>();
        for (long next = 0; feed.TryNext(next, out var entry); next++)
        {
            Assert.Equal(ledger.ReadEntry(next), entry);
            seen.Add(next);
        }

        Assert.Equal(Enumerable.Range(0, 100).Select(i => (long)i), seen);
        Assert.Equal(92, feed.Dropped);
        Assert.True(feed.FromStore >= 92);
        Assert.Equal(100, feed.FromChannel + feed.FromStore);
        Assert.False(feed.TryNext(100, out _));
    }

    [Fact]
    public async Task ConsumerResumingFromACursor_StartsThere_AndEarlierChannelEntriesAreDiscarded()
    {
        using var test = new TestLedger();
        await using var ledger = test.Open();
        for (var n = 0; n < 5; n++)
        {
            await ledger.AppendAsync(TestLedger.Event(n));
        }

        var feed = new LedgerFeed(ledger);
        ledger.Subscribe(feed);
        for (var n = 5; n < 10; n++)
        {
            await ledger.AppendAsync(TestLedger.Event(n));
        }

        // Resume at 3: 3 and 4 predate the subscription (store), 5.. come through the channel.
        var seen = new List<long>();
        for (long next = 3; feed.TryNext(next, out _); next++)
        {
            seen.Add(next);
        }

        Assert.Equal([3, 4, 5, 6, 7, 8, 9], seen);
        Assert.Equal(2, feed.FromStore);
        Assert.Equal(5, feed.FromChannel);

        // A consumer further ahead than the channel's head skips what it already has.
        await ledger.AppendAsync(TestLedger.Event(10));
        await ledger.AppendAsync(TestLedger.Event(11));
        Assert.True(feed.TryNext(11, out var eleventh));
        Assert.Equal(ledger.ReadEntry(11), eleventh);
    }

    [Fact]
    public async Task ObserverThatThrows_IsCounted_AndAppendsAndOtherObserversGoOn()
    {
        using var test = new TestLedger();
        await using var ledger = test.Open();
        ledger.Subscribe(new Throwing());
        var feed = new LedgerFeed(ledger);
        ledger.Subscribe(feed);

        Assert.Equal(0, await ledger.AppendAsync(TestLedger.Event(0)));
        Assert.Equal(1, await ledger.AppendAsync(TestLedger.Event(1)));

        Assert.True(feed.TryNext(0, out _));
        Assert.True(feed.TryNext(1, out _));
        Assert.Equal(2, feed.FromChannel);
        await WaitForAsync(() => ledger.ObserverFaults == 2);
    }

    [Fact]
    public async Task WaitAsync_ReturnsWhenAnEntryArrives_OrAfterItsTimeout()
    {
        using var test = new TestLedger();
        await using var ledger = test.Open();
        var feed = new LedgerFeed(ledger);
        ledger.Subscribe(feed);

        await feed.WaitAsync(TimeSpan.FromMilliseconds(20), CancellationToken.None); // nothing: times out, no exception
        var waiting = feed.WaitAsync(TimeSpan.FromMinutes(5), CancellationToken.None);
        await ledger.AppendAsync(TestLedger.Event(0));
        await waiting.WaitAsync(TimeSpan.FromMinutes(1));
        Assert.True(feed.TryNext(0, out _));
    }

    private static async Task WaitForAsync(Func<bool> condition)
    {
        var deadline = DateTime.UtcNow.AddSeconds(30);
        while (!condition())
        {
            Assert.True(DateTime.UtcNow < deadline, "condition not met within 30 s");
            await Task.Delay(10);
        }
    }

    private sealed class Throwing : ILedgerObserver
    {
        public void OnAppended(long index, byte[] entry) => throw new InvalidOperationException("observer bug");
    }
}
