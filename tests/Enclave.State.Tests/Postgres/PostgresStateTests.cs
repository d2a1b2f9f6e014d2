using System.Globalization;
using Enclave.State.Migrations;
using Enclave.State.Postgres;
using Microsoft.Extensions.Time.Testing;
using Npgsql;

namespace Enclave.State.Tests.Postgres;

/// <summary>
/// The PostgreSQL provider's own behaviour on a real server: the same versioned migrations as SQLite (the same tables and
/// columns), each step in a transaction, a newer schema refused, concurrent start-ups migrating once, and start-up errors
/// that say what to fix.
/// </summary>
public sealed class PostgresStateTests(PostgresDatabase database) : IClassFixture<PostgresDatabase>, IDisposable
{
    private readonly FakeTimeProvider _clock = new(DateTimeOffset.Parse("2027-01-02T03:04:05Z", CultureInfo.InvariantCulture));
    private readonly PostgresTarget _target = database.Target();
    private readonly List<PostgresConnectionFactory> _factories = [];

    public void Dispose() => _factories.ForEach(f => f.Dispose());

    private PostgresConnectionFactory Factory()
    {
        var factory = new PostgresConnectionFactory(_target.ConnectionString);
        _factories.Add(factory);
        return factory;
    }

    [Fact]
    public void Fresh_GetsTheLatestVersion_WithExactlyTheTablesAndColumnsOfSqlite()
    {
        var result = StateMigrator.Migrate(Factory(), StateDatabase.Enclave, _clock);

        Assert.Equal(new MigrationResult { Database = "enclave", From = 0, To = StateDatabase.Enclave.LatestVersion, Fresh = true }, result);
        Assert.Equal(StateDatabase.Enclave.LatestVersion, StateMigrator.ReadVersion(Factory(), StateDatabase.Enclave));
        Assert.Empty(new StateUpgrades(Factory()).Pending());

        using var sqlite = new SqliteTarget();
        sqlite.Open(_clock);
        Assert.Equal(SqliteColumns(sqlite).Order(StringComparer.Ordinal), PostgresColumns("enclave").Select(c => c.Split(' ')[0]).Order(StringComparer.Ordinal));
        Assert.Contains("ledger_entries.idx bigint", PostgresColumns("enclave"));
        Assert.Contains("vuln_findings.score double precision", PostgresColumns("enclave"));
    }

    [Fact]
    public void MigratingTwice_ChangesNothing_AndRetentionHasItsOwnSchemaAndVersion()
    {
        StateMigrator.Migrate(Factory(), StateDatabase.Enclave, _clock);
        var again = StateMigrator.Migrate(Factory(), StateDatabase.Enclave, _clock);
        var retention = StateMigrator.Migrate(Factory(), StateDatabase.Retention, _clock);

        Assert.Equal((StateDatabase.Enclave.LatestVersion, StateDatabase.Enclave.LatestVersion, false), (again.From, again.To, again.Upgraded));
        Assert.Equal((0, StateDatabase.Retention.LatestVersion, true), (retention.From, retention.To, retention.Fresh));
        Assert.Equal(StateDatabase.Enclave.LatestVersion, Scalar<int>("SELECT count(*)::int FROM enclave.state_migrations"));
        Assert.Equal(StateDatabase.Retention.LatestVersion, Scalar<int>("SELECT count(*)::int FROM retention.state_migrations"));
        Assert.Equal(["retained", "state_migrations"], PostgresColumns("retention").Select(c => c.Split('.')[0]).Distinct().ToArray());
    }

    [Fact]
    public void ConcurrentStartUps_MigrateOnce_AndAllSucceed()
    {
        var results = new MigrationResult[4];
        Parallel.For(0, results.Length, new ParallelOptions { MaxDegreeOfParallelism = results.Length }, i =>
        {
            results[i] = StateMigrator.Migrate(Factory(), StateDatabase.Enclave, _clock);
        });

        Assert.All(results, r => Assert.Equal(StateDatabase.Enclave.LatestVersion, r.To));
        Assert.Equal(StateDatabase.Enclave.LatestVersion, Scalar<int>("SELECT count(*)::int FROM enclave.state_migrations"));
        Assert.Equal(
            Enumerable.Range(1, StateDatabase.Enclave.LatestVersion).Select(v => (long)v),
            Column<long>("SELECT version FROM enclave.state_migrations ORDER BY version"));
    }

    [Fact]
    public void DatabaseNewerThanTheBinary_IsRefusedNamingBothVersionsAndWhere()
    {
        StateMigrator.Migrate(Factory(), StateDatabase.Enclave, _clock);
        var future = StateDatabase.Enclave.LatestVersion + 5;
        _target.Execute($"INSERT INTO state_migrations (version, description, from_version, applied, upgrade, recorded) VALUES ({future}, 'from the future', 1, '2030-01-01T00:00:00Z', 1, 0)");

        var ex = Assert.Throws<StateException>(() => StateMigrator.Migrate(Factory(), StateDatabase.Enclave, _clock));

        Assert.Equal(StateFailure.NewerThanBinary, ex.Reason);
        Assert.Contains($"schema version {future}", ex.Message, StringComparison.Ordinal);
        Assert.Contains($"versions up to {StateDatabase.Enclave.LatestVersion}", ex.Message, StringComparison.Ordinal);
        Assert.Contains($"schema 'enclave' of PostgreSQL database '{new NpgsqlConnectionStringBuilder(_target.ConnectionString).Database}'", ex.Message, StringComparison.Ordinal);
        var reading = Assert.Throws<StateException>(() => new State.Ledger.SqliteLedgerStore(Factory()).OpenReader());
        Assert.Equal(StateFailure.NewerThanBinary, reading.Reason);
    }

    [Fact]
    public void FailingMigration_IsRolledBack_DdlIncluded()
    {
        StateMigrator.Migrate(Factory(), StateDatabase.Enclave, _clock);
        _target.Execute("INSERT INTO quota_usage (principal, period, requests, tokens) VALUES ('user:alice', 'd:2027-01-02', 1, 10)");
        var next = StateDatabase.Enclave.LatestVersion + 1;
        var failing = new Migration(next, "half done, then broken", context =>
        {
            context.Execute("CREATE TABLE half_done (x INTEGER NOT NULL)");
            context.Execute("UPDATE quota_usage SET requests = 99");
            context.Execute("INSERT INTO no_such_table VALUES (1)");
        });

        var ex = Assert.Throws<StateException>(() => StateMigrator.Migrate(Factory(), StateDatabase.Enclave, [.. StateDatabase.Enclave.Migrations, failing], _clock));

        Assert.Equal(StateFailure.MigrationFailed, ex.Reason);
        Assert.Contains($"at version {next - 1} as before", ex.Message, StringComparison.Ordinal);
        Assert.Equal(1L, Scalar<long>("SELECT requests FROM enclave.quota_usage"));
        Assert.False(Scalar<bool>("SELECT to_regclass('enclave.half_done') IS NOT NULL"));
        Assert.Equal(StateDatabase.Enclave.LatestVersion, StateMigrator.ReadVersion(Factory(), StateDatabase.Enclave));
    }

    [Fact]
    public void TextComparesByCodePoint_WhateverTheDatabaseLocale()
    {
        StateMigrator.Migrate(Factory(), StateDatabase.Enclave, _clock);
        var models = new State.Models.SqliteModelRegistryStore(Factory());
        foreach (var id in (string[])["b", "B", "a", "_x", "Z"])
        {
            models.Upsert(new State.Models.LocalModelRow(id, "chat", "/m", "sha256:00", "dev", _clock.GetUtcNow(), null));
        }

        // SQLite's BINARY collation: upper case before '_' before lower case.
        Assert.Equal(["B", "Z", "_x", "a", "b"], models.List().Select(m => m.Id));
    }

    [Fact]
    public void UnreachableServer_IsAClearStartUpError_WithoutThePassword()
    {
        var closed = new NpgsqlConnectionStringBuilder(_target.ConnectionString) { Port = ClosedPort(), Password = "s3cret-pw", Timeout = 3 }.ConnectionString;

        var ex = Assert.Throws<StateException>(() => EnclaveState.Open("unused", new StateSettings { Provider = StateProvider.Postgres, ConnectionString = closed }, _clock));

        Assert.Equal(StateFailure.Unavailable, ex.Reason);
        Assert.Contains("cannot open schema 'enclave' of PostgreSQL database", ex.Message, StringComparison.Ordinal);
        Assert.Contains("State:ConnectionString", ex.Message, StringComparison.Ordinal);
        Assert.DoesNotContain("s3cret-pw", ex.Message, StringComparison.Ordinal);
    }

    [Fact]
    public void Settings_ListEveryProblem()
    {
        Assert.Empty(StateSettings.Embedded.Validate());
        Assert.Empty(StateSettings.From("postgres", "Host=db;Database=enclave;Username=enclave;Password=x").Validate());
        Assert.Equal(StateProvider.Postgres, StateSettings.From("PostgreSQL", "Host=db;Database=e").Provider);

        Assert.Contains("State:Provider 'mysql' is not known", Assert.Single(StateSettings.From("mysql", null).Validate()), StringComparison.Ordinal);
        Assert.Contains("State:ConnectionString is empty", Assert.Single(StateSettings.From("postgres", " ").Validate()), StringComparison.Ordinal);
        Assert.Contains("Provider is 'sqlite'", Assert.Single(StateSettings.From(null, "Host=db;Database=e").Validate()), StringComparison.Ordinal);
        Assert.Contains("not a valid PostgreSQL connection string", Assert.Single(StateSettings.From("postgres", "Hots=db;Database=e").Validate()), StringComparison.Ordinal);
        Assert.Contains("names no Database", Assert.Single(StateSettings.From("postgres", "Host=db").Validate()), StringComparison.Ordinal);
        Assert.DoesNotContain("hunter2", StateSettings.From("postgres", "Host=db;Database=e;Password=hunter2").ToString(), StringComparison.Ordinal);

        var ex = Assert.Throws<StateException>(() => EnclaveState.Open("unused", StateSettings.From("postgres", null), _clock));
        Assert.Equal(StateFailure.Unavailable, ex.Reason);
    }

    [Fact]
    public void Ddl_WrittenForSqlite_IsMappedForPostgres()
    {
        const string Sqlite = "CREATE TABLE t (seq INTEGER PRIMARY KEY AUTOINCREMENT, n INTEGER NOT NULL, r REAL, b BLOB NOT NULL, s TEXT) WITHOUT ROWID;";

        Assert.Equal(Sqlite, SqlDialect.Sqlite.Ddl(Sqlite));
        Assert.Equal(
            "CREATE TABLE t (seq BIGINT GENERATED BY DEFAULT AS IDENTITY PRIMARY KEY, n BIGINT NOT NULL, r DOUBLE PRECISION, b BYTEA NOT NULL, s TEXT COLLATE \"C\");",
            SqlDialect.Postgres.Ddl(Sqlite));
        Assert.Equal("SELECT a FROM t WHERE a = @a AND b = @b_2", SqlDialect.Postgres.Sql("SELECT a FROM t WHERE a = $a AND b = $b_2"));
    }

    private static List<string> SqliteColumns(SqliteTarget target)
    {
        var factory = (SqliteConnectionFactory)target.Open(new FakeTimeProvider());
        using var connection = factory.OpenWriter(StateDatabase.Enclave, pooled: false);
        using var command = connection.CreateCommand();
        command.CommandText = """
            SELECT m.name || '.' || p.name FROM sqlite_master m JOIN pragma_table_info(m.name) p
            WHERE m.type = 'table' AND m.name NOT LIKE 'sqlite_%' ORDER BY 1
            """;
        using var reader = command.ExecuteReader();
        var columns = new List<string>();
        while (reader.Read())
        {
            columns.Add(reader.GetString(0));
        }

        return columns;
    }

    private List<string> PostgresColumns(string schema) =>
        Column<string>($"SELECT table_name || '.' || column_name || ' ' || data_type FROM information_schema.columns WHERE table_schema = '{schema}' ORDER BY table_name COLLATE \"C\", column_name COLLATE \"C\"")
            .ToList();

    private T Scalar<T>(string sql)
    {
        using var connection = new NpgsqlConnection(_target.ConnectionString);
        connection.Open();
        using var command = new NpgsqlCommand(sql, connection);
        return (T)command.ExecuteScalar()!;
    }

    private List<T> Column<T>(string sql)
    {
        using var connection = new NpgsqlConnection(_target.ConnectionString);
        connection.Open();
        using var command = new NpgsqlCommand(sql, connection);
        using var reader = command.ExecuteReader();
        var values = new List<T>();
        while (reader.Read())
        {
            values.Add(reader.GetFieldValue<T>(0));
        }

        return values;
    }

    private static int ClosedPort()
    {
        using var listener = new System.Net.Sockets.TcpListener(System.Net.IPAddress.Loopback, 0);
        listener.Start();
        return ((System.Net.IPEndPoint)listener.LocalEndpoint).Port;
    }
}
