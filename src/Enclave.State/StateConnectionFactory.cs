using System.Data.Common;

namespace Enclave.State;

/// <summary>
/// Opens the connections of one enclave's state, whatever the engine: <see cref="SqliteConnectionFactory"/> (the files of
/// a data directory, the embedded default) or <see cref="Postgres.PostgresConnectionFactory"/> (a PostgreSQL database
/// shared by replicas). The stores take this type and speak to it only through ADO.NET's <see cref="DbConnection"/> and
/// the factory's <see cref="Dialect"/>, so one store class serves both engines.
/// </summary>
public abstract class StateConnectionFactory
{
    private protected StateConnectionFactory()
    {
    }

    /// <summary>The SQL dialect of this provider.</summary>
    public abstract SqlDialect Dialect { get; }

    /// <summary>Where the state lives, for messages: a data directory, or a PostgreSQL host and database (never a password).</summary>
    public abstract string Location { get; }

    /// <summary>Whether <paramref name="database"/> exists (a file; a migrated schema).</summary>
    public abstract bool Exists(StateDatabase database);

    /// <summary>
    /// Opens <paramref name="database"/> for reading and writing, creating it when missing. <paramref name="pooled"/>:
    /// false for a connection held for a component's lifetime (the ledger's writer), true for short operations.
    /// </summary>
    internal abstract DbConnection OpenWriter(StateDatabase database, bool pooled = false);

    /// <summary>Opens <paramref name="database"/> for reading, or returns null when it does not exist (nothing is created).</summary>
    internal abstract DbConnection? OpenReader(StateDatabase database);

    /// <summary>How <paramref name="database"/> is named in messages: its file, or its schema in the PostgreSQL database.</summary>
    internal abstract string Describe(StateDatabase database);
}
