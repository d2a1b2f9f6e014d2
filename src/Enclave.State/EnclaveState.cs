using Enclave.State.Migrations;

namespace Enclave.State;

/// <summary>
/// Opens an enclave's state: the connection factory, with <c>enclave</c> migrated to this binary's schema version
/// (created when missing, upgraded in place when older, refused when newer). The components that keep state (ledger,
/// airlock, keys, quotas, models) call this when they start, or take the factory the composition root opened, and build
/// their store from it.
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

    /// <summary>
    /// Opens the state <paramref name="settings"/> name (SQLite files in <paramref name="dataDirectory"/>, or a PostgreSQL
    /// database) and migrates its <c>enclave</c> database.
    /// </summary>
    /// <exception cref="StateException">
    /// The settings are invalid (<see cref="StateFailure.Unavailable"/>, every problem listed), the database cannot be
    /// reached, is newer than this binary, or a migration failed.
    /// </exception>
    public static StateConnectionFactory Open(string dataDirectory, StateSettings settings, TimeProvider clock)
    {
        ArgumentNullException.ThrowIfNull(settings);
        var problems = settings.Validate();
        if (problems.Count > 0)
        {
            throw new StateException(StateFailure.Unavailable, "invalid state configuration:\n- " + string.Join("\n- ", problems));
        }

        var factory = settings.CreateFactory(dataDirectory);
        try
        {
            StateMigrator.Migrate(factory, StateDatabase.Enclave, clock);
        }
        catch
        {
            (factory as IDisposable)?.Dispose();
            throw;
        }

        return factory;
    }
}
