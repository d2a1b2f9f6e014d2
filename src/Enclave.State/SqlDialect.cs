using System.Globalization;
using Microsoft.Data.Sqlite;

namespace Enclave.State;

/// <summary>
/// Everything that differs between SQL engines, in one place: catalogue queries (does a table or column exist),
/// pragmas, how times are stored, and compaction after a purge. Stores write portable SQL otherwise: named
/// parameters, <c>INSERT ... ON CONFLICT (...) DO UPDATE SET x = excluded.x</c> upserts (PostgreSQL has the same
/// syntax), no rowid, no <c>INSERT OR REPLACE</c>. A second provider (PostgreSQL) adds its own dialect and DDL.
/// </summary>
public sealed class SqlDialect
{
    private SqlDialect(string name) => Name = name;

    /// <summary>SQLite (Microsoft.Data.Sqlite).</summary>
    public static SqlDialect Sqlite { get; } = new("sqlite");

    /// <summary>The engine's name.</summary>
    public string Name { get; }

    /// <summary>Times are stored as ISO 8601 UTC text (<c>O</c> format), which sorts and compares as text.</summary>
    public static string FormatTime(DateTimeOffset time) => time.UtcDateTime.ToString("O", CultureInfo.InvariantCulture);

    /// <summary>Reads a time written by <see cref="FormatTime"/> (or any ISO 8601 UTC text).</summary>
    public static DateTimeOffset ParseTime(string text) =>
        DateTimeOffset.Parse(text, CultureInfo.InvariantCulture, DateTimeStyles.AssumeUniversal | DateTimeStyles.AdjustToUniversal);

    internal void Execute(SqliteConnection connection, SqliteTransaction? transaction, string sql)
    {
        using var command = connection.CreateCommand();
        command.Transaction = transaction;
        command.CommandText = sql;
        command.ExecuteNonQuery();
    }

    internal SqliteCommand Command(SqliteConnection connection, SqliteTransaction? transaction, string sql, params (string Name, object? Value)[] parameters)
    {
        var command = connection.CreateCommand();
        command.Transaction = transaction;
        command.CommandText = sql;
        foreach (var (name, value) in parameters)
        {
            command.Parameters.AddWithValue(name, value ?? DBNull.Value);
        }

        return command;
    }

    internal int NonQuery(SqliteConnection connection, SqliteTransaction? transaction, string sql, params (string Name, object? Value)[] parameters)
    {
        using var command = Command(connection, transaction, sql, parameters);
        return command.ExecuteNonQuery();
    }

    internal object? Scalar(SqliteConnection connection, SqliteTransaction? transaction, string sql, params (string Name, object? Value)[] parameters)
    {
        using var command = Command(connection, transaction, sql, parameters);
        return command.ExecuteScalar();
    }

    /// <summary>Whether the table exists.</summary>
    internal bool TableExists(SqliteConnection connection, SqliteTransaction? transaction, string table) =>
        Convert.ToInt64(Scalar(connection, transaction, "SELECT count(*) FROM sqlite_master WHERE type = 'table' AND name = $t", ("$t", table)), CultureInfo.InvariantCulture) > 0;

    /// <summary>Whether the table has the column.</summary>
    internal bool ColumnExists(SqliteConnection connection, SqliteTransaction? transaction, string table, string column) =>
        Convert.ToInt64(Scalar(connection, transaction, "SELECT count(*) FROM pragma_table_info($t) WHERE name = $c", ("$t", table), ("$c", column)), CultureInfo.InvariantCulture) > 0;

    /// <summary>The names of the tables the application created (the engine's own left out).</summary>
    internal IReadOnlyList<string> UserTables(SqliteConnection connection, SqliteTransaction? transaction)
    {
        using var command = Command(connection, transaction, "SELECT name FROM sqlite_master WHERE type = 'table' AND name NOT LIKE 'sqlite_%' ORDER BY name");
        using var reader = command.ExecuteReader();
        var names = new List<string>();
        while (reader.Read())
        {
            names.Add(reader.GetString(0));
        }

        return names;
    }

    /// <summary>Gives the space of deleted rows back to the file system (after a purge of retained content).</summary>
    internal void CompactAfterPurge(SqliteConnection connection) => Execute(connection, null, "PRAGMA wal_checkpoint(TRUNCATE)");
}
