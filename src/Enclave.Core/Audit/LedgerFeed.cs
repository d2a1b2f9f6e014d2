using System.Threading.Channels;

namespace Enclave.Core.Audit;

/// <summary>
/// The append feed: a consumer's view of the ledger's entries after they are durable, in index order, from any
/// index it names. The writer side (<see cref="OnAppended"/>, called by the ledger's sequencer) never blocks: entries go
/// into a bounded channel and, when it is full, are dropped (counted in <see cref="Dropped"/>). The reader side
/// (<see cref="TryNext"/>) takes the entry it asks for from the channel when it is there and otherwise reads it back from
/// the store by index, so a consumer that lags, starts late or resumes from a persisted cursor after a restart sees
/// every entry exactly once, in order, without slowing appends. One consumer per feed.
/// </summary>
public sealed class LedgerFeed : ILedgerObserver
{
    /// <summary>Default capacity of the channel, in entries.</summary>
    public const int DefaultCapacity = 16_384;

    private readonly ILedger _ledger;
    private readonly Channel<(long Index, byte[] Entry)> _channel;
    private long _dropped;
    private long _fromChannel;
    private long _fromStore;

    /// <summary>A feed over <paramref name="ledger"/> (which must call <see cref="OnAppended"/>, e.g. <c>SqliteLedger.Subscribe</c>).</summary>
    public LedgerFeed(ILedger ledger, int capacity = DefaultCapacity)
    {
        ArgumentNullException.ThrowIfNull(ledger);
        ArgumentOutOfRangeException.ThrowIfLessThan(capacity, 1);
        _ledger = ledger;
        _channel = Channel.CreateBounded<(long, byte[])>(
            new BoundedChannelOptions(capacity) { FullMode = BoundedChannelFullMode.DropWrite, SingleReader = true, SingleWriter = true },
            _ => Interlocked.Increment(ref _dropped));
    }

    /// <summary>Entries the channel was too full to take (the consumer read them back from the store instead).</summary>
    public long Dropped => Interlocked.Read(ref _dropped);

    /// <summary>Entries handed over through the channel.</summary>
    public long FromChannel => Interlocked.Read(ref _fromChannel);

    /// <summary>Entries the consumer read back from the store (catching up, or after a drop).</summary>
    public long FromStore => Interlocked.Read(ref _fromStore);

    /// <summary>The ledger's durable size: the index after the last entry a consumer can get now.</summary>
    public long LedgerSize => _ledger.Size;

    /// <inheritdoc/>
    public void OnAppended(long index, byte[] entry) => _channel.Writer.TryWrite((index, entry));

    /// <summary>
    /// Gets entry <paramref name="next"/> if it is durable: from the channel when it is at the channel's head, from the
    /// store otherwise (entries before it still in the channel are discarded: the consumer has them already).
    /// False when <paramref name="next"/> is not in the ledger yet.
    /// </summary>
    public bool TryNext(long next, out byte[] entry)
    {
        ArgumentOutOfRangeException.ThrowIfNegative(next);
        while (_channel.Reader.TryPeek(out var head))
        {
            if (head.Index < next)
            {
                _channel.Reader.TryRead(out _);
                continue;
            }

            if (head.Index == next)
            {
                _channel.Reader.TryRead(out _);
                Interlocked.Increment(ref _fromChannel);
                entry = head.Entry;
                return true;
            }

            break; // a gap: entries were dropped, read them back
        }

        if (next < _ledger.Size)
        {
            entry = _ledger.ReadEntry(next);
            Interlocked.Increment(ref _fromStore);
            return true;
        }

        entry = [];
        return false;
    }

    /// <summary>Waits until an entry arrives in the channel, <paramref name="timeout"/> passes, or cancellation.</summary>
    public async Task WaitAsync(TimeSpan timeout, CancellationToken cancellationToken)
    {
        using var cts = CancellationTokenSource.CreateLinkedTokenSource(cancellationToken);
        cts.CancelAfter(timeout);
        try
        {
            await _channel.Reader.WaitToReadAsync(cts.Token).ConfigureAwait(false);
        }
        catch (OperationCanceledException) when (!cancellationToken.IsCancellationRequested)
        {
            // timed out: the caller checks the store (entries dropped at the channel's tail) and its clock
        }
    }
}
