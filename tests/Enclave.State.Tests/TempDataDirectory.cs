using Microsoft.Data.Sqlite;

namespace Enclave.State.Tests;

/// <summary>A data directory in the temp folder, deleted (with its pooled connections cleared) on dispose.</summary>
internal sealed class TempDataDirectory : IDisposable
{
    public TempDataDirectory() => Path = Directory.CreateTempSubdirectory("enclave-state-").FullName;

    public string Path { get; }

    public string EnclaveDb => System.IO.Path.Combine(Path, "enclave.db");

    public void Dispose()
    {
        SqliteConnection.ClearAllPools();
        Directory.Delete(Path, recursive: true);
    }
}

/// <summary>Raw SQL the tests use to look at (or sabotage) a database from outside the state layer.</summary>
internal static class Raw
{
    public static SqliteConnection Open(string path)
    {
        var connection = new SqliteConnection(new SqliteConnectionStringBuilder { DataSource = path, Pooling = false }.ToString());
        connection.Open();
        return connection;
    }

    public static void Execute(string path, string sql)
    {
        using var connection = Open(path);
        using var command = connection.CreateCommand();
        command.CommandText = sql;
        command.ExecuteNonQuery();
    }

    public static object? Scalar(string path, string sql)
    {
        using var connection = Open(path);
        using var command = connection.CreateCommand();
        command.CommandText = sql;
        return command.ExecuteScalar();
    }

    /// <summary>The schema (type, name, whitespace-normalised SQL) of every object, the state layer's own table left out.</summary>
    public static List<string> Schema(string path)
    {
        using var connection = Open(path);
        using var command = connection.CreateCommand();
        command.CommandText = "SELECT type, name, tbl_name, sql FROM sqlite_master WHERE name NOT LIKE 'sqlite_%' AND tbl_name <> 'state_migrations' ORDER BY type, name";
        using var reader = command.ExecuteReader();
        var rows = new List<string>();
        while (reader.Read())
        {
            var sql = reader.IsDBNull(3) ? string.Empty : string.Join(' ', reader.GetString(3).Split((char[])[' ', '\n', '\r', '\t'], StringSplitOptions.RemoveEmptyEntries));
            rows.Add($"{reader.GetString(0)} {reader.GetString(1)} on {reader.GetString(2)}: {sql}");
        }

        return rows;
    }

    /// <summary>Every object's SQL and every row of every table: two equal dumps mean two equal databases.</summary>
    public static string Dump(string path)
    {
        using var connection = Open(path);
        var tables = new List<string>();
        var text = new System.Text.StringBuilder();
        using (var command = connection.CreateCommand())
        {
            command.CommandText = "SELECT type, name, sql FROM sqlite_master ORDER BY type, name";
            using var reader = command.ExecuteReader();
            while (reader.Read())
            {
                text.Append(reader.GetString(0)).Append(' ').Append(reader.GetString(1)).Append(": ").AppendLine(reader.IsDBNull(2) ? string.Empty : reader.GetString(2));
                if (reader.GetString(0) == "table")
                {
                    tables.Add(reader.GetString(1));
                }
            }
        }

        foreach (var table in tables)
        {
            using var command = connection.CreateCommand();
            command.CommandText = $"SELECT * FROM \"{table}\"";
            using var reader = command.ExecuteReader();
            while (reader.Read())
            {
                text.Append(table).Append(':');
                for (var i = 0; i < reader.FieldCount; i++)
                {
                    var value = reader.GetValue(i);
                    text.Append(' ').Append(value is byte[] bytes ? Convert.ToHexString(bytes) : Convert.ToString(value, System.Globalization.CultureInfo.InvariantCulture));
                }

                text.AppendLine();
            }
        }

        return text.ToString();
    }
}
