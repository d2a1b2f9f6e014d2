using System.Globalization;
using System.Data.Common;

namespace Enclave.State.Migrations;

/// <summary>
/// Brings a database to the schema version this binary writes. The version lives in <c>state_migrations</c> (one row
/// per applied step). Steps run in order, each in its own transaction together with its row, so a failing step leaves
/// the database exactly as it was before that step. A database newer than the binary is refused; a database made by a
/// release before versioning (tables, no <c>state_migrations</c>) is adopted as version 0 and upgraded in place.
/// Upgrades of an existing database are kept as unrecorded rows until the ledger has recorded them
/// (<see cref="StateUpgrades"/>); creating a fresh database is not an upgrade.
/// </summary>
public static class StateMigrator
{
    internal const string VersionTable = "state_migrations";

    /// <summary>Migrates <paramref name="database"/> in the factory's data directory to the latest version.</summary>
    /// <exception cref="StateException">The database is newer than this binary, or a step failed (rolled back).</exception>
    public static MigrationResult Migrate(StateConnectionFactory factory, StateDatabase database, TimeProvider clock)
    {
        ArgumentNullException.ThrowIfNull(database);
        return Migrate(factory, database, database.Migrations, clock);
    }

    /// <summary>The schema version of an existing database without changing it (0: made before versioning or empty).</summary>
    public static int ReadVersion(StateConnectionFactory factory, StateDatabase database)
    {
        ArgumentNullException.ThrowIfNull(factory);
        ArgumentNullException.ThrowIfNull(database);
        using var connection = factory.OpenReader(database);
        return connection is null ? 0 : ReadVersion(factory.Dialect, connection, null);
    }

    internal static MigrationResult Migrate(StateConnectionFactory factory, StateDatabase database, IReadOnlyList<Migration> migrations, TimeProvider clock)
    {
        ArgumentNullException.ThrowIfNull(factory);
        ArgumentNullException.ThrowIfNull(database);
        ArgumentNullException.ThrowIfNull(clock);
        var latest = migrations.Count == 0 ? 0 : migrations[^1].Version;
        var dialect = factory.Dialect;
        using var connection = Open(factory, database);
        var start = ReadVersion(dialect, connection, null);
        CheckNotNewer(factory, database, start, latest);
        if (start == latest && start > 0)
        {
            return new MigrationResult { Database = database.Name, From = start, To = start, Fresh = false };
        }

        int? from = null;
        var fresh = false;
        var current = start;
        foreach (var migration in migrations)
        {
            using var transaction = dialect.BeginWrite(connection);
            dialect.LockForMigration(connection, transaction, database.Name);
            // Another process may have migrated between our read and our write lock: read again under the lock.
            current = ReadVersion(dialect, connection, transaction);
            CheckNotNewer(factory, database, current, latest);
            if (migration.Version <= current)
            {
                continue;
            }

            if (migration.Version != current + 1)
            {
                throw new InvalidOperationException($"migrations of {database.Name} skip from version {current} to {migration.Version}");
            }

            if (from is null)
            {
                from = current;
                fresh = current == 0 && dialect.UserTables(connection, transaction).Count == 0;
            }

            try
            {
                if (!dialect.TableExists(connection, transaction, VersionTable))
                {
                    dialect.Execute(connection, transaction, dialect.Ddl($"""
                        CREATE TABLE {VersionTable} (
                            version INTEGER PRIMARY KEY, description TEXT NOT NULL, from_version INTEGER NOT NULL,
                            applied TEXT NOT NULL, upgrade INTEGER NOT NULL, recorded INTEGER NOT NULL);
                        """));
                }

                migration.Apply(new MigrationContext(connection, transaction, dialect, clock));
                dialect.NonQuery(
                    connection,
                    transaction,
                    $"INSERT INTO {VersionTable} (version, description, from_version, applied, upgrade, recorded) VALUES ($v, $d, $f, $t, $u, $r)",
                    ("$v", migration.Version),
                    ("$d", migration.Description),
                    ("$f", current),
                    ("$t", SqlDialect.FormatTime(clock.GetUtcNow())),
                    ("$u", fresh ? 0 : 1),
                    ("$r", fresh ? 1 : 0));
                transaction.Commit();
            }
            catch (Exception ex) when (ex is DbException or InvalidOperationException or IOException or FormatException)
            {
                transaction.Rollback();
                throw new StateException(
                    StateFailure.MigrationFailed,
                    $"{factory.Describe(database)}: migration {migration.Version} ({migration.Description}) failed: {ex.Message}; " +
                    $"it was rolled back and the database is at version {current} as before. Restore a backup or report the error; nothing else was changed.",
                    ex);
            }
        }

        var final = ReadVersion(dialect, connection, null);
        return new MigrationResult { Database = database.Name, From = from ?? start, To = final, Fresh = fresh };
    }

    /// <summary>Opens the migrating connection; a server that cannot be reached is a <see cref="StateException"/> that says where.</summary>
    private static DbConnection Open(StateConnectionFactory factory, StateDatabase database)
    {
        try
        {
            return factory.OpenWriter(database, pooled: true);
        }
        catch (Exception ex) when (ex is DbException or System.Net.Sockets.SocketException or TimeoutException)
        {
            throw new StateException(
                StateFailure.Unavailable,
                $"cannot open {factory.Describe(database)}: {ex.Message}. Check State:ConnectionString (host, port, database, user, " +
                "password) and that the server is running and accepts this host; nothing was changed.",
                ex);
        }
    }

    internal static int ReadVersion(SqlDialect dialect, DbConnection connection, DbTransaction? transaction)
    {
        if (!dialect.TableExists(connection, transaction, VersionTable))
        {
            return 0;
        }

        return Convert.ToInt32(dialect.Scalar(connection, transaction, $"SELECT coalesce(max(version), 0) FROM {VersionTable}"), CultureInfo.InvariantCulture);
    }

    /// <summary>Refuses a read-only connection to a database newer than this binary.</summary>
    internal static void CheckReadable(StateConnectionFactory factory, StateDatabase database, DbConnection connection) =>
        CheckNotNewer(factory, database, ReadVersion(factory.Dialect, connection, null), database.LatestVersion);

    internal static void CheckNotNewer(StateConnectionFactory factory, StateDatabase database, int version, int latest)
    {
        if (version > latest)
        {
            throw new StateException(
                StateFailure.NewerThanBinary,
                $"{factory.Describe(database)} is at schema version {version}, but this release of Enclave knows versions up to {latest}: " +
                "it was written by a newer release. Run that release (or a newer one) on this data directory, or restore a backup made with this one; nothing was changed.");
        }
    }
}

/// <summary>What a migration run did.</summary>
public sealed record MigrationResult
{
    /// <summary>The database's short name (<c>enclave</c>, <c>retention</c>).</summary>
    public required string Database { get; init; }

    /// <summary>The version before (0: fresh, or made before versioning).</summary>
    public required int From { get; init; }

    /// <summary>The version after.</summary>
    public required int To { get; init; }

    /// <summary>Whether the database was created empty (not an upgrade).</summary>
    public required bool Fresh { get; init; }

    /// <summary>Whether an existing database was upgraded.</summary>
    public bool Upgraded => !Fresh && To > From;
}
