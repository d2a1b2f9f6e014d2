using System.Globalization;

namespace Enclave.State.Tests;

public sealed class ConnectionFactoryTests : IDisposable
{
    private readonly TempDataDirectory _dir = new();

    public void Dispose() => _dir.Dispose();

    private static long Pragma(Microsoft.Data.Sqlite.SqliteConnection connection, string name)
    {
        using var command = connection.CreateCommand();
        command.CommandText = "PRAGMA " + name;
        return Convert.ToInt64(command.ExecuteScalar(), CultureInfo.InvariantCulture);
    }

    [Fact]
    public void Writer_OnTheEnclaveDatabase_HasWalFullSyncBusyTimeoutAndForeignKeys()
    {
        var factory = new SqliteConnectionFactory(_dir.Path);
        using var connection = factory.OpenWriter(StateDatabase.Enclave);
        using (var command = connection.CreateCommand())
        {
            command.CommandText = "PRAGMA journal_mode";
            Assert.Equal("wal", command.ExecuteScalar());
        }

        Assert.Equal(2, Pragma(connection, "synchronous")); // FULL
        Assert.Equal(SqliteConnectionFactory.BusyTimeoutMilliseconds, Pragma(connection, "busy_timeout"));
        Assert.Equal(1, Pragma(connection, "foreign_keys"));
        Assert.Equal(0, Pragma(connection, "secure_delete"));
    }

    [Fact]
    public void Writer_OnTheRetentionDatabase_SecureDeletesWithNormalSync()
    {
        var factory = new SqliteConnectionFactory(_dir.Path);
        using var connection = factory.OpenWriter(StateDatabase.Retention);
        Assert.Equal(1, Pragma(connection, "synchronous")); // NORMAL
        Assert.Equal(1, Pragma(connection, "secure_delete"));
        Assert.True(File.Exists(Path.Combine(_dir.Path, "retention.db")));
    }

    [Fact]
    public void PooledConnections_KeepASmallerPageCache_TheHeldWriterSqlitesDefault()
    {
        var factory = new SqliteConnectionFactory(_dir.Path);
        using var held = factory.OpenWriter(StateDatabase.Enclave);
        using var pooled = factory.OpenWriter(StateDatabase.Enclave, pooled: true);
        using var reader = factory.OpenReader(StateDatabase.Enclave)!;

        // A negative cache_size is KiB; SQLite's default is -2000.
        Assert.Equal(-SqliteConnectionFactory.PooledCacheKibibytes, Pragma(pooled, "cache_size"));
        Assert.Equal(-SqliteConnectionFactory.PooledCacheKibibytes, Pragma(reader, "cache_size"));
        Assert.Equal(-2000, Pragma(held, "cache_size"));
    }

    [Fact]
    public void Reader_OfAMissingDatabase_IsNull_AndCreatesNothing()
    {
        var factory = new SqliteConnectionFactory(_dir.Path);
        Assert.Null(factory.OpenReader(StateDatabase.Enclave));
        Assert.False(File.Exists(_dir.EnclaveDb));
        Assert.False(factory.Exists(StateDatabase.Enclave));
    }

    [Fact]
    public void Reader_IsReadOnly()
    {
        var factory = new SqliteConnectionFactory(_dir.Path);
        using (factory.OpenWriter(StateDatabase.Enclave))
        {
        }

        using var reader = factory.OpenReader(StateDatabase.Enclave)!;
        using var command = reader.CreateCommand();
        command.CommandText = "CREATE TABLE t (x INTEGER)";
        Assert.Throws<Microsoft.Data.Sqlite.SqliteException>(() => command.ExecuteNonQuery());
    }
}
