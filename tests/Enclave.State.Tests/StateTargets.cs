using Enclave.State.Postgres;
using Enclave.State.Tests.Postgres;
using Npgsql;

namespace Enclave.State.Tests;

/// <summary>
/// One test's enclave state on one engine, fresh and empty: the store contract tests are abstract classes over this, with
/// one concrete class per engine (<c>...OnSqlite</c>, <c>...OnPostgres</c>), so every store is held to the same tests on both.
/// </summary>
public abstract class StateTarget : IDisposable
{
    /// <summary>The engine's name, for messages.</summary>
    public abstract string Engine { get; }

    /// <summary>Opens the state (migrating it; the first call creates it): calling it again is a restart of the process.</summary>
    public abstract StateConnectionFactory Open(TimeProvider clock);

    /// <summary>Raw SQL on the <c>enclave</c> database from outside the state layer (to set up or sabotage a test).</summary>
    public abstract void Execute(string sql);

    /// <summary>The engine's connection factory, nothing migrated (to build the schema of an earlier release step by step).</summary>
    public abstract StateConnectionFactory Unmigrated();

    /// <summary>A binary literal in the engine's SQL (<c>x'01'</c>, <c>'\x01'::bytea</c>).</summary>
    public abstract string BlobLiteral(string hex);

    public void Dispose()
    {
        Dispose(true);
        GC.SuppressFinalize(this);
    }

    protected abstract void Dispose(bool disposing);
}

/// <summary>A data directory with SQLite files.</summary>
public sealed class SqliteTarget : StateTarget
{
    private readonly TempDataDirectory _dir = new();

    public override string Engine => "sqlite";

    public override StateConnectionFactory Open(TimeProvider clock) => EnclaveState.Open(_dir.Path, clock);

    public override void Execute(string sql) => Raw.Execute(_dir.EnclaveDb, sql);

    public override StateConnectionFactory Unmigrated() => new SqliteConnectionFactory(_dir.Path);

    public override string BlobLiteral(string hex) => $"x'{hex}'";

    protected override void Dispose(bool disposing) => _dir.Dispose();
}

/// <summary>The schemas of a PostgreSQL database of the test assembly's server, dropped before the test starts.</summary>
public sealed class PostgresTarget : StateTarget
{
    private readonly string _connectionString;
    private readonly List<StateConnectionFactory> _opened = [];

    internal PostgresTarget(string connectionString) => _connectionString = connectionString;

    public override string Engine => "postgres";

    public string ConnectionString => _connectionString;

    public override StateConnectionFactory Open(TimeProvider clock)
    {
        var factory = EnclaveState.Open("unused-by-postgres", new StateSettings { Provider = StateProvider.Postgres, ConnectionString = _connectionString }, clock);
        _opened.Add(factory);
        return factory;
    }

    public override StateConnectionFactory Unmigrated()
    {
        var factory = new PostgresConnectionFactory(_connectionString);
        _opened.Add(factory);
        return factory;
    }

    public override void Execute(string sql)
    {
        using var connection = new NpgsqlConnection(new NpgsqlConnectionStringBuilder(_connectionString) { SearchPath = "enclave" }.ConnectionString);
        connection.Open();
        using var command = new NpgsqlCommand(sql, connection);
        command.ExecuteNonQuery();
    }

    public override string BlobLiteral(string hex) => $"'\\x{hex}'::bytea";

    protected override void Dispose(bool disposing)
    {
        foreach (var factory in _opened)
        {
            ((PostgresConnectionFactory)factory).Dispose();
        }
    }
}

/// <summary>
/// A class fixture: one PostgreSQL database per test class (on the assembly's <see cref="PostgresServer"/>), dropped after
/// the class. Each test gets it back empty (<see cref="Target"/> drops the state's schemas).
/// </summary>
public sealed class PostgresDatabase : IDisposable
{
    public PostgresDatabase() => ConnectionString = PostgresServer.Shared.CreateDatabase("state");

    public string ConnectionString { get; }

    /// <summary>The database with no enclave state in it.</summary>
    public PostgresTarget Target()
    {
        using (var connection = new NpgsqlConnection(ConnectionString))
        {
            connection.Open();
            using var command = new NpgsqlCommand("DROP SCHEMA IF EXISTS enclave CASCADE; DROP SCHEMA IF EXISTS retention CASCADE", connection);
            command.ExecuteNonQuery();
        }

        return new PostgresTarget(ConnectionString);
    }

    public void Dispose() => PostgresServer.Shared.DropDatabase(ConnectionString);
}
