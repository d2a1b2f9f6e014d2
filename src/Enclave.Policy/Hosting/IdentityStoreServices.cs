using Enclave.Policy.Identity;
using Enclave.State;
using Enclave.State.Changes;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.DependencyInjection.Extensions;

namespace Enclave.Policy.Hosting;

/// <summary>Registers the enclave's principals and API keys: the identity store every authentication reads.</summary>
public static class IdentityStoreServices
{
    /// <summary>
    /// <see cref="ApiKeyStore"/> over the state's <see cref="StateConnectionFactory"/> (its data directory from
    /// <paramref name="dataDirectory"/>, read when the store is first resolved), subscribed to the
    /// <see cref="StateChanges"/> of <c>principals</c> so that a key or principal another replica changes is reloaded
    /// here; and the same store as the <see cref="IPrincipalDirectory"/>. Both added with <c>TryAdd*</c> through factories,
    /// so a host may register its own first. The host adds the authentication that reads it.
    /// </summary>
    public static IServiceCollection AddEnclaveIdentityStore(this IServiceCollection services, Func<IServiceProvider, string> dataDirectory)
    {
        ArgumentNullException.ThrowIfNull(services);
        ArgumentNullException.ThrowIfNull(dataDirectory);
        services.TryAddSingleton(sp =>
        {
            var store = new ApiKeyStore(dataDirectory(sp), sp.GetRequiredService<TimeProvider>(), state: sp.GetRequiredService<StateConnectionFactory>());
            // Replicas on one PostgreSQL database: a key or principal another changes is reloaded here (within a second).
            sp.GetRequiredService<StateChanges>().Subscribe(StateTopics.Principals, store.Reload);
            return store;
        });
        services.TryAddSingleton<IPrincipalDirectory>(sp => sp.GetRequiredService<ApiKeyStore>());
        return services;
    }
}
