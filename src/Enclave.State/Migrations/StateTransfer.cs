using System.Data.Common;
using System.Globalization;
using System.Text.RegularExpressions;
using Enclave.Core.Storage;
using Enclave.State.Postgres;
using Microsoft.Data.Sqlite;
using Npgsql;

namespace Enclave.State.Migrations;

/// <summary>
/// Copies an enclave's state from the SQLite files of its data directory into a PostgreSQL database
/// (<c>enclave state migrate --to postgres</c>): both are migrated to this binary's schema, then every row of every
/// table is copied as it is (ledger entries, tiles and the signed checkpoint byte for byte, so the log has the same root
/// and checkpoints; principals and keys, airlock imports and trusted state, quotas, alerts, intel, usage) in one
/// PostgreSQL transaction per database: a failure leaves the target empty. The data directory's lock is held throughout,
/// so no server writes the source while it is read. A target that holds any row already is refused.
/// </summary>
public static partial class StateTransfer
{
    /// <summary>Rows copied per table, by database.</summary>
    public sealed record Result(IReadOnlyDictionary<string, IReadOnlyDictionary<string, long>> Rows)
    {
        /// <summary>All rows copied.</summary>
        public long Total => Rows.Values.Sum(t => t.Values.Sum());
    }

    /// <summary>Copies the state of <paramref name="dataDirectory"/> into the PostgreSQL database <paramref name="connectionString"/> names.</summary>
    /// <exception cref="StateException">The target holds data (<see cref="StateFailure.TargetNotEmpty"/>) or cannot be reached.</exception>
    /// <exception cref="DataDirectoryLockedException">A server holds the data directory.</exception>
    public static Result ToPostgres(string dataDirectory, string connectionString, TimeProvider clock)
    {
        ArgumentException.ThrowIfNullOrWhiteSpace(dataDirectory);
        ArgumentException.ThrowIfNullOrWhiteSpace(connectionString);
        ArgumentNullException.ThrowIfNull(clock);
        if (!File.Exists(Path.Combine(dataDirectory, StateDatabase.Enclave.FileName)))
        {
            throw new FileNotFoundException($"'{dataDirectory}' holds no {StateDatabase.Enclave.FileName}: there is no enclave to copy", Path.Combine(dataDirectory, StateDatabase.Enclave.FileName));
        }

        using var dirLock = DataDirectoryLock.Acquire(dataDirectory, "enclave state migrate", clock);
        using var target = new PostgresConnectionFactory(connectionString);
        var databases = new List<StateDatabase> { StateDatabase.Enclave };
        if (File.Exists(Path.Combine(dataDirectory, StateDatabase.Retention.FileName)))
        {
            databases.Add(StateDatabase.Retention);
        }

        var source = new SqliteConnectionFactory(dataDirectory);
        var rows = new Dictionary<string, IReadOnlyDictionary<string, long>>(StringComparer.Ordinal);
        foreach (var database in databases)
        {
            StateMigrator.Migrate(source, database, clock);
            StateMigrator.Migrate(target, database, clock);
        }

        // Every target database is checked before anything is copied: nothing is written to a target that holds data.
        foreach (var database in databases)
        {
            using var connection = target.OpenWriter(database);
            foreach (var table in PostgresTables(connection))
            {
                using var command = new NpgsqlCommand($"SELECT count(*) FROM {table}", connection);
                var count = Convert.ToInt64(command.ExecuteScalar(), CultureInfo.InvariantCulture);
                if (count > 0)
                {
                    throw new StateException(StateFailure.TargetNotEmpty, $"{target.Describe(database)} is not empty: table {table} holds {count} rows; nothing was copied. Copy into a new, empty database.");
                }
            }
        }

        foreach (var database in databases)
        {
            rows[database.Name] = Copy(source, target, database);
        }

        return new Result(rows);
    }

    private static Dictionary<string, long> Copy(SqliteConnectionFactory source, PostgresConnectionFactory target, StateDatabase database)
    {
        using var from = (SqliteConnection)source.OpenReader(database)!;
        using var to = target.OpenWriter(database);
        using var transaction = to.BeginTransaction();
        var targetTables = PostgresTables(to, transaction).ToHashSet(StringComparer.Ordinal);
        var counts = new Dictionary<string, long>(StringComparer.Ordinal);
        foreach (var table in SqliteTables(from))
        {
            if (!targetTables.Contains(table))
            {
                throw new StateException(StateFailure.Unrecognised, $"table {table} of {source.Describe(database)} has no counterpart in {target.Describe(database)}; nothing was copied");
            }

            counts[table] = CopyTable(from, to, transaction, table);
        }

        // Identity columns continue after the copied rows.
        using (var identities = new NpgsqlCommand("SELECT table_name, column_name FROM information_schema.columns WHERE table_schema = current_schema() AND is_identity = 'YES'", to, transaction))
        {
            var columns = new List<(string Table, string Column)>();
            using (var reader = identities.ExecuteReader())
            {
                while (reader.Read())
                {
                    columns.Add((Identifier(reader.GetString(0)), Identifier(reader.GetString(1))));
                }
            }

            foreach (var (table, column) in columns)
            {
                using var reset = new NpgsqlCommand($"SELECT setval(pg_get_serial_sequence('{table}', '{column}'), coalesce(max({column}), 0) + 1, false) FROM {table}", to, transaction);
                reset.ExecuteNonQuery();
            }
        }

        transaction.Commit();
        return counts;
    }

    private static long CopyTable(SqliteConnection from, NpgsqlConnection to, NpgsqlTransaction transaction, string table)
    {
        var columns = new List<string>();
        using (var info = from.CreateCommand())
        {
            info.CommandText = $"SELECT name FROM pragma_table_info('{table}') ORDER BY cid";
            using var reader = info.ExecuteReader();
            while (reader.Read())
            {
                columns.Add(Identifier(reader.GetString(0)));
            }
        }

        using var select = from.CreateCommand();
        select.CommandText = $"SELECT {string.Join(", ", columns)} FROM {table}";
        using var insert = new NpgsqlCommand($"INSERT INTO {table} ({string.Join(", ", columns)}) VALUES ({string.Join(", ", columns.Select((_, i) => "$" + (i + 1).ToString(CultureInfo.InvariantCulture)))})", to, transaction);
        var parameters = columns.Select(_ => new NpgsqlParameter()).ToArray();
        insert.Parameters.AddRange(parameters);
        long count = 0;
        using var rows = select.ExecuteReader();
        while (rows.Read())
        {
            for (var i = 0; i < parameters.Length; i++)
            {
                parameters[i].Value = rows.GetValue(i);
            }

            insert.ExecuteNonQuery();
            count++;
        }

        return count;
    }

    private static List<string> SqliteTables(SqliteConnection connection)
    {
        using var command = connection.CreateCommand();
        command.CommandText = $"SELECT name FROM sqlite_master WHERE type = 'table' AND name NOT LIKE 'sqlite_%' AND name <> '{StateMigrator.VersionTable}' ORDER BY name";
        using var reader = command.ExecuteReader();
        var tables = new List<string>();
        while (reader.Read())
        {
            tables.Add(Identifier(reader.GetString(0)));
        }

        return tables;
    }

    /// <summary>The tables of the connection's schema, less the schema version (each side keeps its own).</summary>
    private static List<string> PostgresTables(NpgsqlConnection connection, NpgsqlTransaction? transaction = null)
    {
        using var command = new NpgsqlCommand("SELECT table_name FROM information_schema.tables WHERE table_schema = current_schema() AND table_type = 'BASE TABLE' AND table_name <> @v ORDER BY table_name", connection, transaction);
        command.Parameters.AddWithValue("v", StateMigrator.VersionTable);
        using var reader = command.ExecuteReader();
        var tables = new List<string>();
        while (reader.Read())
        {
            tables.Add(Identifier(reader.GetString(0)));
        }

        return tables;
    }

    /// <summary>A table or column name from a catalogue, checked before it is put into SQL text.</summary>
    private static string Identifier(string name) =>
        IdentifierPattern().IsMatch(name) ? name : throw new StateException(StateFailure.Unrecognised, $"unexpected table or column name '{name}' in the state; nothing was copied");

    [GeneratedRegex("^[a-z_][a-z0-9_]{0,62}$", RegexOptions.CultureInvariant)]
    private static partial Regex IdentifierPattern();
}
