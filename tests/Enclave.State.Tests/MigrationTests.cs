using Enclave.State.Migrations;
using Microsoft.Extensions.Time.Testing;

namespace Enclave.State.Tests;

public sealed class MigrationTests : IDisposable
{
    private static readonly string FixtureDb = Path.Combine(AppContext.BaseDirectory, "Fixtures", "upgrade-9ad0591", "data", "enclave.db");
    private readonly TempDataDirectory _dir = new();
    private readonly FakeTimeProvider _clock = new(DateTimeOffset.Parse("2027-01-02T03:04:05Z", System.Globalization.CultureInfo.InvariantCulture));

    public void Dispose() => _dir.Dispose();

    private SqliteConnectionFactory Factory => new(_dir.Path);

    [Fact]
    public void FreshDirectory_GetsTheLatestVersion_AndThatIsNotAnUpgrade()
    {
        var result = StateMigrator.Migrate(Factory, StateDatabase.Enclave, _clock);

        Assert.Equal(new MigrationResult { Database = "enclave", From = 0, To = StateDatabase.Enclave.LatestVersion, Fresh = true }, result);
        Assert.False(result.Upgraded);
        Assert.Equal(StateDatabase.Enclave.LatestVersion, StateMigrator.ReadVersion(Factory, StateDatabase.Enclave));
        Assert.Empty(new StateUpgrades(Factory).Pending());
        Assert.Equal("2027-01-02T03:04:05.0000000Z", Raw.Scalar(_dir.EnclaveDb, "SELECT applied FROM state_migrations WHERE version = 1"));
    }

    [Fact]
    public void FreshSchemaAtVersion1_IsExactlyTheSchemaThatCommit9ad0591Created()
    {
        // Migration 1 adopts what releases before versioning created; later steps add to it.
        StateMigrator.Migrate(Factory, StateDatabase.Enclave, [StateDatabase.Enclave.Migrations[0]], _clock);

        var expected = Raw.Schema(FixtureDb);
        Assert.Contains(expected, s => s.StartsWith("table api_keys", StringComparison.Ordinal));
        Assert.Equal(expected, Raw.Schema(_dir.EnclaveDb));
    }

    [Fact]
    public void MigratingTwice_ChangesNothing()
    {
        StateMigrator.Migrate(Factory, StateDatabase.Enclave, _clock);
        var before = Raw.Dump(_dir.EnclaveDb);

        var again = StateMigrator.Migrate(Factory, StateDatabase.Enclave, _clock);

        Assert.Equal(again.From, again.To);
        Assert.False(again.Upgraded);
        Assert.Equal(before, Raw.Dump(_dir.EnclaveDb));
    }

    [Fact]
    public void DatabaseNewerThanTheBinary_IsRefusedNamingBothVersions_AndLeftUnchanged()
    {
        StateMigrator.Migrate(Factory, StateDatabase.Enclave, _clock);
        var future = StateDatabase.Enclave.LatestVersion + 1;
        Raw.Execute(_dir.EnclaveDb, $"INSERT INTO state_migrations (version, description, from_version, applied, upgrade, recorded) VALUES ({future}, 'from the future', 1, '2030-01-01T00:00:00Z', 1, 0)");
        var before = Raw.Dump(_dir.EnclaveDb);

        var ex = Assert.Throws<StateException>(() => StateMigrator.Migrate(Factory, StateDatabase.Enclave, _clock));

        Assert.Equal(StateFailure.NewerThanBinary, ex.Reason);
        Assert.Contains($"schema version {future}", ex.Message, StringComparison.Ordinal);
        Assert.Contains($"versions up to {StateDatabase.Enclave.LatestVersion}", ex.Message, StringComparison.Ordinal);
        Assert.Contains("newer release", ex.Message, StringComparison.Ordinal);
        Assert.Contains("nothing was changed", ex.Message, StringComparison.Ordinal);
        Assert.Equal(before, Raw.Dump(_dir.EnclaveDb));

        // Readers refuse it too: a newer release may have changed what the tables mean.
        var reading = Assert.Throws<StateException>(() => new Ledger.SqliteLedgerStore(Factory).OpenReader());
        Assert.Equal(StateFailure.NewerThanBinary, reading.Reason);
    }

    [Fact]
    public void FailingMigration_IsRolledBack_LeavingTheDatabaseExactlyAsBefore()
    {
        StateMigrator.Migrate(Factory, StateDatabase.Enclave, _clock);
        Raw.Execute(_dir.EnclaveDb, "INSERT INTO quota_usage (principal, period, requests, tokens) VALUES ('user:alice', 'd:2027-01-02', 1, 10)");
        var before = Raw.Dump(_dir.EnclaveDb);
        var next = StateDatabase.Enclave.LatestVersion + 1;
        var failing = new Migration(next, "half done, then broken", context =>
        {
            context.Execute("CREATE TABLE half_done (x INTEGER NOT NULL)");
            context.Execute("UPDATE quota_usage SET requests = 99");
            context.Execute("INSERT INTO no_such_table VALUES (1)");
        });

        var ex = Assert.Throws<StateException>(() => StateMigrator.Migrate(Factory, StateDatabase.Enclave, [.. StateDatabase.Enclave.Migrations, failing], _clock));

        Assert.Equal(StateFailure.MigrationFailed, ex.Reason);
        Assert.Contains($"migration {next} (half done, then broken) failed", ex.Message, StringComparison.Ordinal);
        Assert.Contains($"at version {next - 1} as before", ex.Message, StringComparison.Ordinal);
        Assert.Equal(before, Raw.Dump(_dir.EnclaveDb));
    }

    [Fact]
    public void FailingFirstMigration_OnAFreshDirectory_LeavesNoTables()
    {
        var failing = new Migration(1, "broken", context =>
        {
            context.Execute("CREATE TABLE first (x INTEGER)");
            context.Execute("THIS IS NOT SQL");
        });

        var ex = Assert.Throws<StateException>(() => StateMigrator.Migrate(Factory, StateDatabase.Enclave, [failing], _clock));

        Assert.Equal(StateFailure.MigrationFailed, ex.Reason);
        Assert.Equal(0L, Raw.Scalar(_dir.EnclaveDb, "SELECT count(*) FROM sqlite_master"));
    }

    [Fact]
    public void MigrationsRunInOrder_EachRecordedWithItsVersion()
    {
        var order = new List<int>();
        Migration Step(int version) => new(version, "step " + version, context =>
        {
            order.Add(version);
            context.Execute($"CREATE TABLE step{version} (x INTEGER)");
        });

        StateMigrator.Migrate(Factory, StateDatabase.Enclave, [Step(1)], _clock);
        var result = StateMigrator.Migrate(Factory, StateDatabase.Enclave, [Step(1), Step(2), Step(3)], _clock);

        Assert.Equal([1, 2, 3], order);
        Assert.Equal((1, 3, false), (result.From, result.To, result.Fresh));
        Assert.Equal("1,2,3", Raw.Scalar(_dir.EnclaveDb, "SELECT group_concat(version) FROM (SELECT version FROM state_migrations ORDER BY version)"));
        var pending = Assert.Single(new StateUpgrades(Factory).Pending());
        Assert.Equal(new StateUpgrade { Database = "enclave", From = 1, To = 3 }, pending);
    }

    [Fact]
    public void DirectoryFromBeforeVersioning_IsAdoptedAsVersion0_KeepingItsRows_AndTheUpgradeWaitsForTheLedger()
    {
        // What a release before versioning left after serving quota-limited requests (and nothing else).
        Raw.Execute(_dir.EnclaveDb, """
            CREATE TABLE quota_usage (
                principal TEXT NOT NULL, period TEXT NOT NULL,
                requests INTEGER NOT NULL CHECK (requests >= 0), tokens INTEGER NOT NULL CHECK (tokens >= 0),
                PRIMARY KEY (principal, period)) WITHOUT ROWID;
            INSERT INTO quota_usage VALUES ('user:bob', 'm:2026-11', 4, 400);
            CREATE TABLE api_keys (id TEXT PRIMARY KEY, secret_hash BLOB NOT NULL, name TEXT NOT NULL, role TEXT NOT NULL,
                created TEXT NOT NULL, expires TEXT, revoked TEXT) WITHOUT ROWID;
            """);

        var result = StateMigrator.Migrate(Factory, StateDatabase.Enclave, _clock);

        Assert.True(result.Upgraded);
        Assert.Equal((0, StateDatabase.Enclave.LatestVersion), (result.From, result.To));
        Assert.Equal(4L, Raw.Scalar(_dir.EnclaveDb, "SELECT requests FROM quota_usage WHERE principal = 'user:bob'"));
        Assert.Equal(1L, Raw.Scalar(_dir.EnclaveDb, "SELECT count(*) FROM pragma_table_info('api_keys') WHERE name = 'principal'"));
        Assert.Equal(1L, Raw.Scalar(_dir.EnclaveDb, "SELECT count(*) FROM sqlite_master WHERE name = 'ledger_tiles'"));
        var upgrades = new StateUpgrades(Factory);
        Assert.Equal(new StateUpgrade { Database = "enclave", From = 0, To = StateDatabase.Enclave.LatestVersion }, Assert.Single(upgrades.Pending()));

        upgrades.MarkRecorded(upgrades.Pending()[0]);
        Assert.Empty(upgrades.Pending());
    }
}
