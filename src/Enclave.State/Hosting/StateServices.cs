using Enclave.State.Changes;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.DependencyInjection.Extensions;
using Microsoft.Extensions.Logging;

namespace Enclave.State.Hosting;

/// <summary>Registers the enclave's state: the one connection factory every store is built over.</summary>
public static class StateServices
{
    /// <summary>
    /// <see cref="StateConnectionFactory"/> (SQLite files in the data directory or PostgreSQL, as
    /// <paramref name="location"/> says: the host's data directory and <c>State</c> settings), opened and migrated once
    /// when first resolved, for every component; the container disposes it (the PostgreSQL connection pools) when the
    /// host is disposed. And <see cref="StateChanges"/>: what other replicas on the same PostgreSQL database change
    /// (keys, principals), announced and listened for. Both added with <c>TryAdd*</c>.
    /// </summary>
    public static IServiceCollection AddEnclaveState(this IServiceCollection services, Func<IServiceProvider, (string DataDirectory, StateSettings Settings)> location)
    {
        ArgumentNullException.ThrowIfNull(services);
        ArgumentNullException.ThrowIfNull(location);
        services.TryAddSingleton(sp =>
        {
            var (dataDirectory, settings) = location(sp);
            return EnclaveState.Open(dataDirectory, settings, sp.GetRequiredService<TimeProvider>());
        });
        services.TryAddSingleton(sp => StateChanges.For(sp.GetRequiredService<StateConnectionFactory>(), sp.GetService<ILogger<StateChanges>>()));
        return services;
    }
}
