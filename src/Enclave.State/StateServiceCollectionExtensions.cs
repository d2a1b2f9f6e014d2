using Enclave.State.Ledger;
using Enclave.State.Migrations;
using Enclave.State.Models;
using Enclave.State.Principals;
using Enclave.State.Quotas;
using Enclave.State.Retention;
using Enclave.State.Retrieval;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.DependencyInjection.Extensions;

namespace Enclave.State;

/// <summary>Registers the state layer: the migrated connection factory of one enclave and a store per area.</summary>
public static class StateServiceCollectionExtensions
{
    /// <summary>
    /// Adds the state layer for <paramref name="dataDirectory"/> (<c>TryAdd</c>: a test or host may replace any part).
    /// Resolving the factory migrates <c>enclave.db</c> (and refuses a database newer than the binary).
    /// </summary>
    public static IServiceCollection AddEnclaveState(this IServiceCollection services, string dataDirectory) =>
        services.AddEnclaveState(dataDirectory, StateSettings.Embedded);

    /// <summary>
    /// Adds the state layer <paramref name="settings"/> name: SQLite files in <paramref name="dataDirectory"/> or a
    /// PostgreSQL database. Resolving <see cref="StateConnectionFactory"/> validates the settings, connects and migrates.
    /// </summary>
    public static IServiceCollection AddEnclaveState(this IServiceCollection services, string dataDirectory, StateSettings settings)
    {
        ArgumentNullException.ThrowIfNull(services);
        ArgumentException.ThrowIfNullOrWhiteSpace(dataDirectory);
        ArgumentNullException.ThrowIfNull(settings);
        services.TryAddSingleton(TimeProvider.System);
        services.TryAddSingleton(sp => EnclaveState.Open(dataDirectory, settings, sp.GetRequiredService<TimeProvider>()));
        services.TryAddSingleton(sp => new StateUpgrades(sp.GetRequiredService<StateConnectionFactory>()));
        services.TryAddSingleton<ILedgerStore>(sp => new SqliteLedgerStore(sp.GetRequiredService<StateConnectionFactory>()));
        services.TryAddSingleton<IPrincipalStore>(sp => new SqlitePrincipalStore(sp.GetRequiredService<StateConnectionFactory>()));
        services.TryAddSingleton<IQuotaStore>(sp => new SqliteQuotaStore(sp.GetRequiredService<StateConnectionFactory>()));
        services.TryAddSingleton<IModelRegistryStore>(sp => new SqliteModelRegistryStore(sp.GetRequiredService<StateConnectionFactory>()));
        services.TryAddSingleton<IRetrievalStore>(sp => new SqliteRetrievalStore(sp.GetRequiredService<StateConnectionFactory>()));
        services.TryAddSingleton<IRetentionStore>(sp =>
        {
            // The retention database is migrated on its own; the factory is the same enclave's.
            var factory = sp.GetRequiredService<StateConnectionFactory>();
            StateMigrator.Migrate(factory, StateDatabase.Retention, sp.GetRequiredService<TimeProvider>());
            return new SqliteRetentionStore(factory);
        });
        return services;
    }
}
