using System.Collections.Concurrent;
using System.Data.Common;
using System.Text.RegularExpressions;
using Npgsql;

namespace Enclave.State.Postgres;

/// <summary>
/// The state of an enclave in a PostgreSQL database (<c>State:Provider = postgres</c>), shared by every replica. Each
/// <see cref="StateDatabase"/> is a schema of that database named after it (<c>enclave</c>, <c>retention</c>), with the
/// same tables and the same versioned migrations as the SQLite files; connections come from one pooled
/// <see cref="NpgsqlDataSource"/> per schema, whose search path is that schema. Commits of <c>enclave</c> are durable when
/// they return (<c>synchronous_commit = on</c>, what an acknowledged ledger append promises); <c>retention</c> uses
/// <c>off</c> (the last commits may be lost in a crash, never corrupted), as SQLite's <c>synchronous=NORMAL</c>.
/// </summary>
public sealed partial class PostgresConnectionFactory : StateConnectionFactory, IDisposable
{
    private readonly NpgsqlConnectionStringBuilder _settings;
    private readonly ConcurrentDictionary<string, NpgsqlDataSource> _sources = new(StringComparer.Ordinal);
    private readonly ConcurrentDictionary<string, bool> _schemaReady = new(StringComparer.Ordinal);

    /// <summary>A factory for the database named by <paramref name="connectionString"/> (an Npgsql connection string).</summary>
    /// <exception cref="ArgumentException">The connection string is not one Npgsql accepts (an unknown keyword, a bad value).</exception>
    public PostgresConnectionFactory(string connectionString)
    {
        ArgumentException.ThrowIfNullOrWhiteSpace(connectionString);
        _settings = new NpgsqlConnectionStringBuilder(connectionString);
        if (string.IsNullOrWhiteSpace(_settings.Host))
        {
            throw new ArgumentException("the PostgreSQL connection string names no Host", nameof(connectionString));
        }

        if (string.IsNullOrWhiteSpace(_settings.Database))
        {
            throw new ArgumentException("the PostgreSQL connection string names no Database", nameof(connectionString));
        }

        Location = $"PostgreSQL database '{_settings.Database}' on {_settings.Host}:{_settings.Port}" +
            (string.IsNullOrEmpty(_settings.Username) ? string.Empty : $" as '{_settings.Username}'");
    }

    /// <inheritdoc/>
    public override SqlDialect Dialect => SqlDialect.Postgres;

    /// <inheritdoc/>
    public override string Location { get; }

    /// <summary>The database's name.</summary>
    public string Database => _settings.Database!;

    /// <inheritdoc/>
    public override bool Exists(StateDatabase database)
    {
        ArgumentNullException.ThrowIfNull(database);
        using var connection = Source(database).OpenConnection();
        return SchemaMigrated(connection, database);
    }

    /// <inheritdoc/>
    public void Dispose()
    {
        foreach (var source in _sources.Values)
        {
            source.Dispose();
        }

        _sources.Clear();
    }

    /// <inheritdoc/>
    internal override NpgsqlConnection OpenWriter(StateDatabase database, bool pooled = false)
    {
        ArgumentNullException.ThrowIfNull(database);
        var connection = Source(database).OpenConnection();
        try
        {
            if (!_schemaReady.ContainsKey(database.Name))
            {
                CreateSchema(connection, database);
                _schemaReady[database.Name] = true;
            }
        }
        catch
        {
            connection.Dispose();
            throw;
        }

        return connection;
    }

    /// <inheritdoc/>
    internal override NpgsqlConnection? OpenReader(StateDatabase database)
    {
        ArgumentNullException.ThrowIfNull(database);
        var connection = Source(database).OpenConnection();
        if (_schemaReady.ContainsKey(database.Name) || SchemaMigrated(connection, database))
        {
            return connection;
        }

        connection.Dispose();
        return null;
    }

    /// <summary>
    /// Opens a connection of its own to <paramref name="database"/>, outside the pool, for a session whose lifetime
    /// matters (the checkpoint signer's advisory lock): disposing it ends the session. Commands time out after 5 s.
    /// </summary>
    /// <param name="database">The schema.</param>
    /// <param name="applicationName">What <c>pg_stat_activity</c> shows for the session (who holds a lease, for an operator).</param>
    internal NpgsqlConnection OpenDedicated(StateDatabase database, string applicationName)
    {
        ArgumentNullException.ThrowIfNull(database);
        var builder = new NpgsqlConnectionStringBuilder(_settings.ConnectionString)
        {
            SearchPath = SchemaOf(database),
            ApplicationName = applicationName,
            Pooling = false,
            Timeout = 5,
            CommandTimeout = 5,
            KeepAlive = 5,
        };
        var connection = new NpgsqlConnection(builder.ConnectionString);
        try
        {
            connection.Open();
            return connection;
        }
        catch
        {
            connection.Dispose();
            throw;
        }
    }

    /// <inheritdoc/>
    internal override string Describe(StateDatabase database) => $"schema '{SchemaOf(database)}' of {Location}";

    private static string SchemaOf(StateDatabase database) =>
        SchemaName().IsMatch(database.Name)
            ? database.Name
            : throw new ArgumentException($"state database name '{database.Name}' is not a valid PostgreSQL schema name (lower-case letters, digits, '_')", nameof(database));

    private static bool SchemaMigrated(NpgsqlConnection connection, StateDatabase database)
    {
        using var command = new NpgsqlCommand("SELECT to_regclass(@t) IS NOT NULL", connection);
        command.Parameters.AddWithValue("t", $"{SchemaOf(database)}.{Migrations.StateMigrator.VersionTable}");
        return command.ExecuteScalar() is true;
    }

    private static void CreateSchema(NpgsqlConnection connection, StateDatabase database)
    {
        try
        {
            using var command = new NpgsqlCommand($"CREATE SCHEMA IF NOT EXISTS {SchemaOf(database)}", connection);
            command.ExecuteNonQuery();
        }
        catch (PostgresException ex) when (ex.SqlState is PostgresErrorCodes.UniqueViolation or PostgresErrorCodes.DuplicateSchema)
        {
            // Another replica created it between our check and our insert into the catalogue: it exists, as wanted.
        }
    }

    private NpgsqlDataSource Source(StateDatabase database) => _sources.GetOrAdd(database.Name, _ =>
    {
        var builder = new NpgsqlConnectionStringBuilder(_settings.ConnectionString)
        {
            SearchPath = SchemaOf(database),
            ApplicationName = string.IsNullOrEmpty(_settings.ApplicationName) ? "enclave" : _settings.ApplicationName,
        };
        var durability = $"-c synchronous_commit={(database.FullSync ? "on" : "off")}";
        builder.Options = string.IsNullOrWhiteSpace(builder.Options) ? durability : builder.Options + " " + durability;
        return NpgsqlDataSource.Create(builder);
    });

    [GeneratedRegex("^[a-z_][a-z0-9_]{0,62}$", RegexOptions.CultureInvariant)]
    private static partial Regex SchemaName();
}
