using System.Text.Json;
using Enclave.Core.Audit;

namespace Enclave.OperatorConsole.Live;

/// <summary>
/// Tells the console's open live parts (Interactive Server components, one per browser page) what changed: the
/// <see cref="ConsoleLiveFeed"/> reads each ledger entry once for the whole server and publishes its
/// <see cref="LiveTopics">topics</see> here; every subscribed part reloads what it shows from the in-process stores and
/// re-renders. No part reads the ledger or polls the database itself.
/// </summary>
public sealed class ConsoleLiveUpdates
{
    private readonly Lock _gate = new();
    private Action<LiveTopics>[] _subscribers = [];

    /// <summary>Parts subscribed now (one per open page with live parts), for tests and metrics.</summary>
    public int Subscribers => Volatile.Read(ref _subscribers).Length;

    /// <summary>Changes published so far (batches of entries with at least one topic).</summary>
    public long Published => Interlocked.Read(ref _published);

    private long _published;
    private long _fromChangeFeed;

    /// <summary>Changes published because another replica (or this one) announced them on the state change feed.</summary>
    public long FromChangeFeed => Interlocked.Read(ref _fromChangeFeed);

    /// <summary>
    /// Publishes <paramref name="topics"/> on a state change feed's announcement (a change committed by any replica,
    /// <see cref="Enclave.State.Changes.StateChanges"/>): called on the feed's listener thread.
    /// </summary>
    public void PublishAnnounced(LiveTopics topics)
    {
        Interlocked.Increment(ref _fromChangeFeed);
        Publish(topics);
    }

    /// <summary>
    /// Calls <paramref name="changed"/> (on the feed's thread: hand the work to the component's dispatcher) with the
    /// topics of each batch of new entries, until the returned handle is disposed. A subscriber must not throw.
    /// </summary>
    public IDisposable Subscribe(Action<LiveTopics> changed)
    {
        ArgumentNullException.ThrowIfNull(changed);
        lock (_gate)
        {
            _subscribers = [.. _subscribers, changed];
        }

        return new Subscription(this, changed);
    }

    /// <summary>Tells every subscriber that <paramref name="topics"/> changed (nothing when none).</summary>
    public void Publish(LiveTopics topics)
    {
        if (topics == LiveTopics.None)
        {
            return;
        }

        Interlocked.Increment(ref _published);
        foreach (var subscriber in Volatile.Read(ref _subscribers))
        {
            subscriber(topics);
        }
    }

    /// <summary>At most this many entries make one batch (one publication).</summary>
    public const int MaxBatch = 4096;

    /// <summary>
    /// Reads every entry of <paramref name="feed"/> available now from index <paramref name="next"/> on (at most
    /// <see cref="MaxBatch"/>), moves <paramref name="next"/> past them and returns their topics together: what
    /// <see cref="ConsoleLiveFeed"/> publishes for one batch.
    /// </summary>
    public static LiveTopics Drain(LedgerFeed feed, ref long next)
    {
        ArgumentNullException.ThrowIfNull(feed);
        var topics = LiveTopics.None;
        for (var i = 0; i < MaxBatch && feed.TryNext(next, out var entry); i++)
        {
            topics |= TopicOf(entry);
            next++;
        }

        return topics;
    }

    /// <summary>
    /// The topic of a canonical ledger entry, from its top-level <c>type</c> alone (read with a forward JSON reader;
    /// nested details are skipped, nothing is allocated). An entry that is not a JSON object has none.
    /// </summary>
    public static LiveTopics TopicOf(ReadOnlySpan<byte> entry)
    {
        var reader = new Utf8JsonReader(entry);
        try
        {
            if (!reader.Read() || reader.TokenType != JsonTokenType.StartObject)
            {
                return LiveTopics.None;
            }

            while (reader.Read() && reader.TokenType == JsonTokenType.PropertyName)
            {
                if (!reader.ValueTextEquals("type"u8))
                {
                    reader.Skip();
                    continue;
                }

                reader.Read();
                if (reader.TokenType != JsonTokenType.String)
                {
                    return LiveTopics.None;
                }

                return reader.ValueSpan.StartsWith("import."u8) ? LiveTopics.Airlock
                    : reader.ValueSpan.StartsWith("alert."u8) ? LiveTopics.Alerts
                    : reader.ValueTextEquals("key.revoked"u8) || reader.ValueTextEquals("user.disabled"u8) || reader.ValueTextEquals("user.updated"u8) ? LiveTopics.Identity
                    : LiveTopics.None;
            }
        }
        catch (JsonException)
        {
            // Not an entry the ledger writes: nothing to tell.
        }

        return LiveTopics.None;
    }

    private void Unsubscribe(Action<LiveTopics> changed)
    {
        lock (_gate)
        {
            var index = Array.IndexOf(_subscribers, changed);
            if (index >= 0)
            {
                _subscribers = [.. _subscribers[..index], .. _subscribers[(index + 1)..]];
            }
        }
    }

    private sealed class Subscription(ConsoleLiveUpdates owner, Action<LiveTopics> changed) : IDisposable
    {
        private int _disposed;

        public void Dispose()
        {
            if (Interlocked.Exchange(ref _disposed, 1) == 0)
            {
                owner.Unsubscribe(changed);
            }
        }
    }
}
