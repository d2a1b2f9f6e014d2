using Enclave.State.Migrations;

namespace Enclave.State;

/// <summary>
/// Opens a data directory's state: the connection factory, with <c>enclave.db</c> migrated to this binary's schema
/// version (created when missing, upgraded in place when older, refused when newer). The components that keep state
/// (ledger, airlock, keys, quotas, models) call this when they start and build their store from the factory.
/// </summary>
public static class EnclaveState
{
    /// <summary>Migrates <c>enclave.db</c> in <paramref name="dataDirectory"/> and returns its connection factory.</summary>
    /// <exception cref="StateException">The database is newer than this binary, or a migration failed.</exception>
    public static SqliteConnectionFactory Open(string dataDirectory, TimeProvider clock) => Open(dataDirectory, StateDatabase.Enclave, clock);

    /// <summary>Migrates <paramref name="database"/> in <paramref name="dataDirectory"/> and returns its connection factory.</summary>
    /// <exception cref="StateException">The database is newer than this binary, or a migration failed.</exception>
    public static SqliteConnectionFactory Open(string dataDirectory, StateDatabase database, TimeProvider clock)
    {
        var factory = new SqliteConnectionFactory(dataDirectory);
        StateMigrator.Migrate(factory, database, clock);
        return factory;
    }
}
