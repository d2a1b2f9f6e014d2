using Enclave.State.Ledger;
using Enclave.State.Migrations;
using Enclave.State.Models;
using Enclave.State.Principals;
using Enclave.State.Quotas;
using Enclave.State.Retention;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.DependencyInjection.Extensions;

namespace Enclave.State;

/// <summary>Registers the state layer: the migrated connection factory of one data directory and a store per area.</summary>
public static class StateServiceCollectionExtensions
{
    /// <summary>
    /// Adds the state layer for <paramref name="dataDirectory"/> (<c>TryAdd</c>: a test or host may replace any part).
    /// Resolving the factory migrates <c>enclave.db</c> (and refuses a database newer than the binary).
    /// </summary>
    public static IServiceCollection AddEnclaveState(this IServiceCollection services, string dataDirectory)
    {
        ArgumentNullException.ThrowIfNull(services);
        ArgumentException.ThrowIfNullOrWhiteSpace(dataDirectory);
        services.TryAddSingleton(TimeProvider.System);
        services.TryAddSingleton(sp => EnclaveState.Open(dataDirectory, sp.GetRequiredService<TimeProvider>()));
        services.TryAddSingleton(sp => new StateUpgrades(sp.GetRequiredService<SqliteConnectionFactory>()));
        services.TryAddSingleton<ILedgerStore>(sp => new SqliteLedgerStore(sp.GetRequiredService<SqliteConnectionFactory>()));
        services.TryAddSingleton<IPrincipalStore>(sp => new SqlitePrincipalStore(sp.GetRequiredService<SqliteConnectionFactory>()));
        services.TryAddSingleton<IQuotaStore>(sp => new SqliteQuotaStore(sp.GetRequiredService<SqliteConnectionFactory>()));
        services.TryAddSingleton<IModelRegistryStore>(sp => new SqliteModelRegistryStore(sp.GetRequiredService<SqliteConnectionFactory>()));
        services.TryAddSingleton<IRetentionStore>(sp =>
        {
            // retention.db is migrated on its own; the factory is the same data directory's.
            var factory = sp.GetRequiredService<SqliteConnectionFactory>();
            StateMigrator.Migrate(factory, StateDatabase.Retention, sp.GetRequiredService<TimeProvider>());
            return new SqliteRetentionStore(factory);
        });
        return services;
    }
}
