using System.Globalization;
using Microsoft.Data.Sqlite;

namespace Enclave.Airlock.Import;

/// <summary>
/// The airlock's tables in the data directory's <c>enclave.db</c> (SQLite, WAL, shared with the ledger). Each
/// operation opens its own connection; a write that must be atomic is one transaction.
/// </summary>
internal static class ImportDatabase
{
    public const string FileName = "enclave.db";

    private const string Schema = """
        CREATE TABLE IF NOT EXISTS airlock_trust (
            file TEXT PRIMARY KEY, role TEXT NOT NULL, version INTEGER NOT NULL, bytes BLOB NOT NULL,
            committed TEXT NOT NULL) WITHOUT ROWID;
        CREATE TABLE IF NOT EXISTS airlock_trust_pins (
            seq INTEGER PRIMARY KEY AUTOINCREMENT, root_sha256 TEXT NOT NULL, root_version INTEGER NOT NULL,
            actor TEXT NOT NULL, forced INTEGER NOT NULL, pinned TEXT NOT NULL);
        CREATE TABLE IF NOT EXISTS airlock_imports (
            id TEXT PRIMARY KEY, kind TEXT NOT NULL, name TEXT NOT NULL, version TEXT NOT NULL, label TEXT NOT NULL,
            task TEXT, state TEXT NOT NULL CHECK (state IN ('verified', 'rejected', 'activated')),
            importer TEXT NOT NULL, signer_key_ids TEXT NOT NULL, sbom_sha256 TEXT, provenance_sha256 TEXT,
            manifest_sha256 TEXT NOT NULL, archive_bytes INTEGER NOT NULL, tuf_versions TEXT NOT NULL,
            quarantine TEXT, reasons TEXT NOT NULL, received TEXT NOT NULL, verified TEXT NOT NULL,
            decided TEXT, decided_by TEXT) WITHOUT ROWID;
        CREATE UNIQUE INDEX IF NOT EXISTS airlock_imports_live ON airlock_imports (kind, name, version)
            WHERE state <> 'rejected';
        CREATE TABLE IF NOT EXISTS airlock_import_targets (
            import_id TEXT NOT NULL REFERENCES airlock_imports (id), path TEXT NOT NULL, type TEXT NOT NULL,
            sha256 TEXT NOT NULL, length INTEGER NOT NULL, quarantined TEXT NOT NULL,
            PRIMARY KEY (import_id, path)) WITHOUT ROWID;
        CREATE TABLE IF NOT EXISTS airlock_approvals (
            import_id TEXT NOT NULL REFERENCES airlock_imports (id), approver TEXT NOT NULL, approved TEXT NOT NULL,
            PRIMARY KEY (import_id, approver)) WITHOUT ROWID;
        CREATE TABLE IF NOT EXISTS airlock_artifacts (
            kind TEXT NOT NULL, name TEXT NOT NULL, version TEXT NOT NULL, label TEXT NOT NULL, task TEXT,
            import_id TEXT NOT NULL UNIQUE REFERENCES airlock_imports (id), folder TEXT NOT NULL,
            manifest_sha256 TEXT NOT NULL, activated TEXT NOT NULL, PRIMARY KEY (kind, name, version)) WITHOUT ROWID;
        CREATE TABLE IF NOT EXISTS airlock_promotions (
            import_id TEXT PRIMARY KEY, folder TEXT NOT NULL, staging TEXT NOT NULL, created_blobs TEXT NOT NULL,
            started TEXT NOT NULL) WITHOUT ROWID;
        """;

    public static string PathIn(string dataDirectory) => Path.Combine(dataDirectory, FileName);

    /// <summary>Opens a connection and makes sure the airlock's tables exist.</summary>
    public static SqliteConnection Open(string dataDirectory)
    {
        Directory.CreateDirectory(dataDirectory);
        var connection = new SqliteConnection(new SqliteConnectionStringBuilder
        {
            DataSource = PathIn(dataDirectory),
            Mode = SqliteOpenMode.ReadWriteCreate,
            Pooling = false,
            DefaultTimeout = 30,
        }.ToString());
        connection.Open();
        try
        {
            // FULL: a committed import, approval or trust change is on disk before the call returns.
            Execute(connection, "PRAGMA journal_mode=WAL; PRAGMA synchronous=FULL; PRAGMA busy_timeout=30000; PRAGMA foreign_keys=ON;");
            Execute(connection, Schema);
        }
        catch
        {
            connection.Dispose();
            throw;
        }

        return connection;
    }

    public static void Execute(SqliteConnection connection, string sql, SqliteTransaction? transaction = null)
    {
        using var command = connection.CreateCommand();
        command.Transaction = transaction;
        command.CommandText = sql;
        command.ExecuteNonQuery();
    }

    public static SqliteCommand Command(SqliteConnection connection, SqliteTransaction? transaction, string sql, params (string Name, object? Value)[] parameters)
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

    public static int NonQuery(SqliteConnection connection, SqliteTransaction? transaction, string sql, params (string Name, object? Value)[] parameters)
    {
        using var command = Command(connection, transaction, sql, parameters);
        return command.ExecuteNonQuery();
    }

    public static string Time(DateTimeOffset time) => time.UtcDateTime.ToString("O", CultureInfo.InvariantCulture);

    public static DateTimeOffset ParseTime(string text) =>
        DateTimeOffset.Parse(text, CultureInfo.InvariantCulture, DateTimeStyles.AssumeUniversal | DateTimeStyles.AdjustToUniversal);
}
