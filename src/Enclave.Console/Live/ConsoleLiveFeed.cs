using Enclave.Core.Audit;
using Enclave.Ledger;
using Enclave.OperatorConsole.Backend;
using Enclave.State.Changes;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Hosting;
using Microsoft.Extensions.Logging;

namespace Enclave.OperatorConsole.Live;

/// <summary>
/// The console's one reader of the ledger's append feed: from the ledger's size at start, each new entry's type is
/// mapped to its <see cref="LiveTopics">topic</see> and each batch of entries that arrived together is published once
/// to <see cref="ConsoleLiveUpdates"/> (so a burst of requests costs the open pages nothing, and a burst of airlock
/// entries one reload). The ledger is written first and the store that holds the change (an import's row, an alert)
/// right after, so a batch's topics are published again once <see cref="Settle"/> has passed without new ones: the
/// open parts' second reload sees the committed change. On PostgreSQL (several replicas) the entries other replicas
/// appended reach this feed too, once the tree that holds them is integrated (this replica's integrator reads the tree
/// size every 10 to 100 ms and the feed reads them back); and the airlock's changes come at once, and exactly when they
/// are committed, from the state change feed (<see cref="StateChanges"/>: topics <see cref="StateTopics.Imports"/> and
/// <see cref="StateTopics.Artifacts"/>, announced by the store in the transaction that makes the change, on every
/// replica), as do alerts raised or changed anywhere (<see cref="StateTopics.Alerts"/>) and keys revoked or principals
/// disabled anywhere (<see cref="StateTopics.Principals"/>: every open part checks its principal again at once). A failure to read is logged and retried from the same index. The ledger is resolved when the service runs (the
/// start-up stages registered before it have opened it), not when the host constructs it.
/// </summary>
internal sealed partial class ConsoleLiveFeed(IServiceProvider services, ConsoleLiveUpdates updates, ILogger<ConsoleLiveFeed> logger) : BackgroundService
{
    /// <summary>How long the feed waits for an appended entry before it looks at the ledger's size again (entries other replicas wrote, or dropped from a full channel).</summary>
    internal static readonly TimeSpan Wait = TimeSpan.FromMilliseconds(250);

    /// <summary>How long after a batch with topics they are published again (the store commits right after the ledger).</summary>
    internal static readonly TimeSpan Settle = TimeSpan.FromMilliseconds(300);

    protected override async Task ExecuteAsync(CancellationToken stoppingToken)
    {
        await Task.Yield();
        var ledger = services.GetRequiredService<SqliteLedger>();
        var feed = new LedgerFeed(ledger);
        ledger.Subscribe(feed);
        var clock = services.GetRequiredService<TimeProvider>();
        if (services.GetService<StateChanges>() is { Shared: true } changes)
        {
            changes.Subscribe(StateTopics.Imports, () => updates.PublishAnnounced(LiveTopics.Airlock));
            changes.Subscribe(StateTopics.Artifacts, () => updates.PublishAnnounced(LiveTopics.Airlock));
            changes.Subscribe(StateTopics.Alerts, () => updates.PublishAnnounced(LiveTopics.Alerts));

            // A key revoked or a principal disabled on another replica: every open part checks its principal at once.
            // The identity store reloads on the same topic and subscribed when it was made; the backend holds it, so
            // resolving the backend first puts the store's reload before this one (the feed calls a topic's
            // subscribers in order, on one thread), and the parts' check reads the reloaded keys.
            _ = services.GetRequiredService<IConsoleBackend>();
            changes.Subscribe(StateTopics.Principals, () => updates.PublishAnnounced(LiveTopics.Identity));
            LogFollowsChangeFeed(logger);
        }

        var next = feed.LedgerSize;
        var settling = LiveTopics.None;
        var since = 0L;
        LogStarted(logger, next);
        while (!stoppingToken.IsCancellationRequested)
        {
            try
            {
                var topics = ConsoleLiveUpdates.Drain(feed, ref next);
                updates.Publish(topics);
                if (topics != LiveTopics.None)
                {
                    settling |= topics;
                    since = clock.GetTimestamp();
                }
                else if (settling != LiveTopics.None && clock.GetElapsedTime(since) >= Settle)
                {
                    updates.Publish(settling);
                    settling = LiveTopics.None;
                }

                await feed.WaitAsync(settling != LiveTopics.None ? Settle : Wait, stoppingToken).ConfigureAwait(false);
            }
            catch (OperationCanceledException) when (stoppingToken.IsCancellationRequested)
            {
                return;
            }
            catch (Exception ex) when (ex is IOException or InvalidOperationException or InvalidDataException or LedgerVerificationException or System.Data.Common.DbException)
            {
                LogStepFailed(logger, next, ex.GetType().Name, ex.Message);
                try
                {
                    await Task.Delay(Wait * 20, stoppingToken).ConfigureAwait(false);
                }
                catch (OperationCanceledException)
                {
                    return;
                }
            }
        }
    }

    [LoggerMessage(EventId = 10501, Level = LogLevel.Information, Message = "console live updates started at ledger index {Next}")]
    private static partial void LogStarted(ILogger logger, long next);

    [LoggerMessage(EventId = 10700, Level = LogLevel.Information, Message = "console live updates follow the state change feed: airlock, alert and identity changes committed by any replica reach the open pages at once")]
    private static partial void LogFollowsChangeFeed(ILogger logger);

    [LoggerMessage(EventId = 10502, Level = LogLevel.Error, Message = "console live updates stopped at ledger index {Next} ({Error}: {Reason}); open pages stop updating until it is read again from the same index")]
    private static partial void LogStepFailed(ILogger logger, long next, string error, string reason);
}
