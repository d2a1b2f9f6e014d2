using Microsoft.Data.Sqlite;

namespace Enclave.Ledger.Storage;

/// <summary>
/// The ledger's tables in the data directory's <c>enclave.db</c> (SQLite, WAL). Entries are rows keyed by index;
/// Merkle tiles are rows keyed by (tile level, tile index) holding the tile's hashes so far (a partial tile grows in
/// place, and any prefix of it is the partial tile of an earlier tree size); the latest signed checkpoint is one row.
/// </summary>
internal static class LedgerDatabase
{
    public const string FileName = "enclave.db";
    public const int SchemaVersion = 1;

    public static string PathIn(string dataDirectory) => Path.Combine(dataDirectory, FileName);

    public static SqliteConnection OpenWriter(string dataDirectory)
    {
        var connection = new SqliteConnection(new SqliteConnectionStringBuilder
        {
            DataSource = PathIn(dataDirectory),
            Mode = SqliteOpenMode.ReadWriteCreate,
            Pooling = false,
            DefaultTimeout = 30,
        }.ToString());
        connection.Open();
        // WAL lets readers (CLI get/prove/export) run beside the writer; FULL makes every commit durable
        // (the WAL is fsynced before COMMIT returns), which is what an acknowledged append promises.
        Execute(connection, "PRAGMA journal_mode=WAL; PRAGMA synchronous=FULL; PRAGMA busy_timeout=30000; PRAGMA foreign_keys=ON;");
        return connection;
    }

    public static SqliteConnection OpenReader(string dataDirectory)
    {
        var path = PathIn(dataDirectory);
        if (!File.Exists(path))
        {
            throw new LedgerNotFoundException(dataDirectory);
        }

        var connection = new SqliteConnection(new SqliteConnectionStringBuilder
        {
            DataSource = path,
            Mode = SqliteOpenMode.ReadOnly,
            Pooling = true,
            DefaultTimeout = 30,
        }.ToString());
        connection.Open();
        Execute(connection, "PRAGMA busy_timeout=30000;");
        return connection;
    }

    public static void CreateSchema(SqliteConnection connection, string origin)
    {
        using var tx = connection.BeginTransaction();
        Execute(connection, """
            CREATE TABLE IF NOT EXISTS ledger_meta (key TEXT PRIMARY KEY, value TEXT NOT NULL) WITHOUT ROWID;
            CREATE TABLE IF NOT EXISTS ledger_entries (idx INTEGER PRIMARY KEY, data BLOB NOT NULL);
            CREATE TABLE IF NOT EXISTS ledger_tiles (level INTEGER NOT NULL, idx INTEGER NOT NULL, hashes BLOB NOT NULL,
                PRIMARY KEY (level, idx)) WITHOUT ROWID;
            CREATE TABLE IF NOT EXISTS ledger_checkpoint (id INTEGER PRIMARY KEY CHECK (id = 1), size INTEGER NOT NULL, note TEXT NOT NULL);
            """, tx);
        SetMeta(connection, tx, "schema_version", SchemaVersion.ToString(System.Globalization.CultureInfo.InvariantCulture));
        SetMeta(connection, tx, "origin", origin);
        SetMeta(connection, tx, "tree_size", "0");
        tx.Commit();
    }

    public static bool HasSchema(SqliteConnection connection)
    {
        using var command = connection.CreateCommand();
        command.CommandText = "SELECT count(*) FROM sqlite_master WHERE type = 'table' AND name = 'ledger_meta'";
        return Convert.ToInt64(command.ExecuteScalar(), System.Globalization.CultureInfo.InvariantCulture) > 0;
    }

    public static string? GetMeta(SqliteConnection connection, string key, SqliteTransaction? tx = null)
    {
        using var command = connection.CreateCommand();
        command.Transaction = tx;
        command.CommandText = "SELECT value FROM ledger_meta WHERE key = $k";
        command.Parameters.AddWithValue("$k", key);
        return command.ExecuteScalar() as string;
    }

    public static void SetMeta(SqliteConnection connection, SqliteTransaction tx, string key, string value)
    {
        using var command = connection.CreateCommand();
        command.Transaction = tx;
        command.CommandText = "INSERT INTO ledger_meta (key, value) VALUES ($k, $v) ON CONFLICT (key) DO UPDATE SET value = excluded.value";
        command.Parameters.AddWithValue("$k", key);
        command.Parameters.AddWithValue("$v", value);
        command.ExecuteNonQuery();
    }

    public static void Execute(SqliteConnection connection, string sql, SqliteTransaction? tx = null)
    {
        using var command = connection.CreateCommand();
        command.Transaction = tx;
        command.CommandText = sql;
        command.ExecuteNonQuery();
    }
}
