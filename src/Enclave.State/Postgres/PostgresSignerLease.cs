using System.Data.Common;
using Enclave.State.Ledger;
using Npgsql;

namespace Enclave.State.Postgres;

/// <summary>
/// The checkpoint signer's election on PostgreSQL: <c>pg_try_advisory_lock</c> on a dedicated, unpooled connection (a
/// session-level lock lives exactly as long as that session). A background thread checks every interval: a holder that
/// its session still answers keeps the lease; a writer without it tries to take it. When the holder's session ends
/// (process stopped or killed, connection broken, backend terminated), PostgreSQL releases the lock and the next
/// writer to try takes it, so a new signer is elected within about one interval. A writer that lost its lease through a
/// failure sits out two intervals before trying again, so that a healthy replica takes over first.
/// </summary>
internal sealed class PostgresSignerLease : ICheckpointSignerLease
{
    /// <summary>The advisory lock's key, <c>"Enclave1"</c> in ASCII: one ledger per database.</summary>
    internal const long LockKey = 0x456E_636C_6176_6531;

    private const int SitOutAfterFailure = 2;

    /// <summary>
    /// The lease session's <c>application_name</c>: <c>enclave-signer:HOST:PID</c>, so that an operator (and the cluster
    /// test) finds which replica signs with <c>SELECT application_name FROM pg_locks JOIN pg_stat_activity USING (pid)
    /// WHERE locktype = 'advisory'</c>.
    /// </summary>
    internal static readonly string ApplicationName = Truncate($"enclave-signer:{Environment.MachineName}:{Environment.ProcessId}");
    private readonly PostgresConnectionFactory _factory;
    private readonly TimeSpan _interval;
    private readonly ManualResetEventSlim _stop = new();
    private readonly Lock _gate = new();
    private readonly Thread _thread;
    private NpgsqlConnection? _connection;
    private volatile bool _held;
    private volatile Exception? _lastFailure;
    private int _sitOut;

    public PostgresSignerLease(PostgresConnectionFactory factory, TimeSpan interval)
    {
        _factory = factory;
        _interval = interval;
        Check(); // the first writer to open holds the lease from the start
        _thread = new Thread(Run) { IsBackground = true, Name = "enclave-ledger-signer-lease" };
        _thread.Start();
    }

    public bool Shared => true;

    public bool IsHeld => _held;

    public Exception? LastFailure => _lastFailure;

    public void Dispose()
    {
        if (_stop.IsSet)
        {
            return;
        }

        _stop.Set();
        _thread.Join();
        lock (_gate)
        {
            _held = false;
            _connection?.Dispose(); // ends the session: the lock is released for the next writer
            _connection = null;
        }

        _stop.Dispose();
    }

    private static string Truncate(string name) => name.Length <= 63 ? name : name[..63];

    private void Run()
    {
        while (!_stop.Wait(_interval))
        {
            Check();
        }
    }

    private void Check()
    {
        lock (_gate)
        {
            if (_sitOut > 0)
            {
                _sitOut--;
                return;
            }

            try
            {
                _connection ??= _factory.OpenDedicated(StateDatabase.Enclave, ApplicationName);
                using var command = _connection.CreateCommand();
                if (_held)
                {
                    // The session-level lock lasts as long as the session: one that still answers still holds it.
                    command.CommandText = "SELECT 1";
                    command.ExecuteScalar();
                }
                else
                {
                    command.CommandText = "SELECT pg_try_advisory_lock(@k)";
                    command.Parameters.AddWithValue("k", LockKey);
                    _held = command.ExecuteScalar() is true;
                }

                _lastFailure = null;
            }
            catch (Exception ex) when (ex is DbException or InvalidOperationException or TimeoutException or IOException)
            {
                if (_held)
                {
                    _sitOut = SitOutAfterFailure;
                }

                _held = false;
                _lastFailure = ex;
                _connection?.Dispose();
                _connection = null;
            }
        }
    }
}
