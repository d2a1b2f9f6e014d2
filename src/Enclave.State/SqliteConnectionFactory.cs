using Microsoft.Data.Sqlite;

namespace Enclave.State;

/// <summary>
/// The only class that opens database connections. It owns the pragmas every connection gets: WAL (readers run beside
/// the writer), <c>synchronous</c> (FULL for <c>enclave.db</c>), a 30 s busy timeout (another process holding the
/// write lock is waited for, not failed) and foreign keys. Stores ask it for a connection; nothing else opens one.
/// </summary>
public sealed class SqliteConnectionFactory : StateConnectionFactory
{
    /// <summary>How long a statement waits for another writer's lock, in milliseconds.</summary>
    public const int BusyTimeoutMilliseconds = 30_000;

    /// <summary>
    /// The page cache of a pooled connection, in KiB (<c>PRAGMA cache_size</c>; SQLite's default is 2,000 KiB). Pooled
    /// connections are as many as the most state operations that ever ran at once (Microsoft.Data.Sqlite's pool has no
    /// size limit), and each keeps its cache until it is closed: under a backlog that is many caches of up to 2 MB of
    /// native memory. They gain little from a larger one: the ledger commits about every millisecond under load, and
    /// a write by another connection empties the cache at the next read transaction. Held connections (the ledger's
    /// writer) keep SQLite's default.
    /// </summary>
    public const int PooledCacheKibibytes = 512;

    /// <summary>A factory for the databases of <paramref name="dataDirectory"/>.</summary>
    public SqliteConnectionFactory(string dataDirectory)
    {
        ArgumentException.ThrowIfNullOrWhiteSpace(dataDirectory);
        DataDirectory = Path.GetFullPath(dataDirectory);
    }

    /// <summary>The data directory whose databases this factory opens.</summary>
    public string DataDirectory { get; }

    /// <summary>The SQL dialect of this provider.</summary>
    public override SqlDialect Dialect => SqlDialect.Sqlite;

    /// <inheritdoc/>
    public override string Location => $"'{DataDirectory}'";

    /// <summary>Whether the database file exists.</summary>
    public override bool Exists(StateDatabase database)
    {
        ArgumentNullException.ThrowIfNull(database);
        return File.Exists(database.PathIn(DataDirectory));
    }

    /// <summary>
    /// Opens <paramref name="database"/> for reading and writing, creating the file (and the data directory) when
    /// missing. <paramref name="pooled"/>: false for a connection held for a component's lifetime (the ledger's
    /// writer), true for short operations.
    /// </summary>
    internal override SqliteConnection OpenWriter(StateDatabase database, bool pooled = false)
    {
        ArgumentNullException.ThrowIfNull(database);
        Directory.CreateDirectory(DataDirectory);
        var connection = new SqliteConnection(new SqliteConnectionStringBuilder
        {
            DataSource = database.PathIn(DataDirectory),
            Mode = SqliteOpenMode.ReadWriteCreate,
            Pooling = pooled,
            DefaultTimeout = 30,
        }.ToString());
        try
        {
            connection.Open();
            Dialect.Execute(connection, null, WriterPragmas(database, pooled));
        }
        catch
        {
            connection.Dispose();
            throw;
        }

        return connection;
    }

    /// <summary>
    /// Opens <paramref name="database"/> read-only, or returns null when the file does not exist (nothing is created).
    /// </summary>
    internal override SqliteConnection? OpenReader(StateDatabase database)
    {
        ArgumentNullException.ThrowIfNull(database);
        var path = database.PathIn(DataDirectory);
        if (!File.Exists(path))
        {
            return null;
        }

        var connection = new SqliteConnection(new SqliteConnectionStringBuilder
        {
            DataSource = path,
            Mode = SqliteOpenMode.ReadOnly,
            Pooling = true,
            DefaultTimeout = 30,
        }.ToString());
        try
        {
            connection.Open();
            Dialect.Execute(connection, null, $"PRAGMA busy_timeout={BusyTimeoutMilliseconds}; PRAGMA cache_size=-{PooledCacheKibibytes};");
        }
        catch
        {
            connection.Dispose();
            throw;
        }

        return connection;
    }

    /// <inheritdoc/>
    internal override string Describe(StateDatabase database) => $"{database.FileName} in '{DataDirectory}'";

    private static string WriterPragmas(StateDatabase database, bool pooled) =>
        $"PRAGMA journal_mode=WAL; PRAGMA synchronous={(database.FullSync ? "FULL" : "NORMAL")}; " +
        $"PRAGMA busy_timeout={BusyTimeoutMilliseconds}; PRAGMA foreign_keys=ON;" +
        (database.SecureDelete ? " PRAGMA secure_delete=ON;" : string.Empty) +
        (pooled ? $" PRAGMA cache_size=-{PooledCacheKibibytes};" : string.Empty);
}
