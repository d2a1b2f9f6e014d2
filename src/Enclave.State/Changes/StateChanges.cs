using System.Collections.Concurrent;
using System.Data.Common;
using Enclave.State.Postgres;
using Microsoft.Extensions.Logging;
using Microsoft.Extensions.Logging.Abstractions;
using Npgsql;

namespace Enclave.State.Changes;

/// <summary>
/// How a replica learns that another changed state it keeps in memory (keys, principals). The stores announce each
/// change in the transaction that makes it (<c>pg_notify</c> on channel <see cref="Channel"/>, delivered when it
/// commits, with the <see cref="StateTopics">topic</see> as payload); every replica listens on a connection of its own
/// and calls the topic's subscribers, which reload that area from the database. Whenever the listening connection is
/// (re)established every subscriber reloads in full, since notifications sent while it was down are lost. On SQLite there
/// is one server and nothing to listen to: <see cref="Subscribe"/> registers nothing.
/// </summary>
public sealed class StateChanges : IDisposable
{
    /// <summary>The PostgreSQL notification channel.</summary>
    public const string Channel = "enclave_state";

    private static readonly TimeSpan Reconnect = TimeSpan.FromSeconds(1);
    private readonly PostgresConnectionFactory? _postgres;
    private readonly ILogger _logger;
    private readonly ConcurrentDictionary<string, Action[]> _subscribers = new(StringComparer.Ordinal);
    private readonly ManualResetEventSlim _stop = new();
    private readonly ManualResetEventSlim _listening = new();
    private readonly Lock _gate = new();
    private Thread? _listener;
    private long _reloads;

    private StateChanges(PostgresConnectionFactory? postgres, ILogger logger)
    {
        _postgres = postgres;
        _logger = logger;
    }

    /// <summary>The change feed of <paramref name="state"/>: listening on PostgreSQL, inert on SQLite.</summary>
    /// <param name="state">The enclave's state.</param>
    /// <param name="logger">The listener's connection and reload failures (event IDs 1101–1103); default none.</param>
    public static StateChanges For(StateConnectionFactory state, ILogger<StateChanges>? logger = null)
    {
        ArgumentNullException.ThrowIfNull(state);
        return new StateChanges(state as PostgresConnectionFactory, (ILogger?)logger ?? NullLogger.Instance);
    }

    /// <summary>Whether other replicas share this state (PostgreSQL), so that their changes arrive here.</summary>
    public bool Shared => _postgres is not null;

    /// <summary>Reloads run so far (announced changes and full reloads on connect), for tests and metrics.</summary>
    public long Reloads => Interlocked.Read(ref _reloads);

    /// <summary>
    /// Calls <paramref name="reload"/> (on the listener's thread) whenever a replica commits a change of
    /// <paramref name="topic"/>, and when the listener (re)connects. Starts the listener on first use. A reload that
    /// throws is logged; the next change or reconnect tries again.
    /// </summary>
    public void Subscribe(string topic, Action reload)
    {
        ArgumentException.ThrowIfNullOrEmpty(topic);
        ArgumentNullException.ThrowIfNull(reload);
        if (_postgres is null)
        {
            return;
        }

        _subscribers.AddOrUpdate(topic, [reload], (_, current) => [.. current, reload]);
        lock (_gate)
        {
            ObjectDisposedException.ThrowIf(_stop.IsSet, this);
            if (_listener is null)
            {
                _listener = new Thread(Listen) { IsBackground = true, Name = "enclave-state-changes" };
                _listener.Start();
            }
        }
    }

    /// <summary>Waits until the listener is connected (a test's starting line); false when it is not within <paramref name="timeout"/>.</summary>
    public bool WaitUntilListening(TimeSpan timeout) => _postgres is null || _listening.Wait(timeout);

    /// <summary>Announces a change of <paramref name="topic"/> inside <paramref name="transaction"/>: sent when it commits.</summary>
    internal static void Announce(SqlDialect dialect, DbConnection connection, DbTransaction transaction, string topic) =>
        dialect.Announce(connection, transaction, Channel, topic);

    /// <inheritdoc/>
    public void Dispose()
    {
        Thread? listener;
        lock (_gate)
        {
            if (_stop.IsSet)
            {
                return;
            }

            _stop.Set();
            listener = _listener;
        }

        listener?.Join();
        _stop.Dispose();
        _listening.Dispose();
    }

    private void Listen()
    {
        var failures = 0;
        while (!_stop.IsSet)
        {
            try
            {
                using var connection = _postgres!.OpenDedicated(StateDatabase.Enclave, "enclave-state-changes");
                connection.Notification += OnNotification;
                using (var listen = new NpgsqlCommand($"LISTEN {Channel}", connection))
                {
                    listen.ExecuteNonQuery();
                }

                if (failures > 0)
                {
                    StateLog.ChangeFeedReconnected(_logger, failures);
                }

                failures = 0;
                // Anything announced before this point (while starting, or while disconnected) is lost: reload it all.
                foreach (var topic in _subscribers.Keys)
                {
                    Reload(topic);
                }

                _listening.Set();
                while (!_stop.IsSet)
                {
                    connection.Wait(TimeSpan.FromMilliseconds(250));
                }
            }
            catch (Exception ex) when (ex is DbException or InvalidOperationException or TimeoutException or IOException)
            {
                _listening.Reset();
                if (failures++ == 0)
                {
                    StateLog.ChangeFeedLost(_logger, ex);
                }

                _stop.Wait(Reconnect);
            }
        }
    }

    private void OnNotification(object sender, NpgsqlNotificationEventArgs e)
    {
        if (e.Channel == Channel)
        {
            Reload(e.Payload);
        }
    }

    private void Reload(string topic)
    {
        if (!_subscribers.TryGetValue(topic, out var reloads))
        {
            return;
        }

        foreach (var reload in reloads)
        {
            try
            {
                reload();
                Interlocked.Increment(ref _reloads);
            }
#pragma warning disable CA1031 // a subscriber's failure must not stop the feed: logged, and the next change or reconnect reloads again
            catch (Exception ex)
#pragma warning restore CA1031
            {
                StateLog.ReloadFailed(_logger, ex, topic);
            }
        }
    }
}
