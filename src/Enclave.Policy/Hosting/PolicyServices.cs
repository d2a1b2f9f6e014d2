using Enclave.Policy.Configuration;
using Enclave.Policy.Quotas;
using Enclave.Policy.Requests;
using Enclave.State;
using Enclave.State.Quotas;
using Microsoft.Extensions.Configuration;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.DependencyInjection.Extensions;

namespace Enclave.Policy.Hosting;

/// <summary>Registers the request policy and quotas.</summary>
public static class PolicyServices
{
    /// <summary>
    /// <see cref="EnclavePolicy"/> from the <c>Policy</c> section and the host's <see cref="IRouteCatalog"/> (the server's
    /// model catalog; built by start-up stage 3 once the catalog is complete), <see cref="QuotaService"/> from the
    /// <c>Quotas</c> section with its counters in the enclave's state (<see cref="QuotaStore"/> over the
    /// <see cref="StateConnectionFactory"/> the host registered). Both validate when built, so a bad configuration stops
    /// the server at start with every problem listed (<see cref="PolicyConfigurationException"/>). Every service is
    /// added with <c>TryAdd*</c>; the host adds what flushes the quota counters.
    /// </summary>
    public static IServiceCollection AddEnclavePolicy(this IServiceCollection services, IConfiguration configuration)
    {
        ArgumentNullException.ThrowIfNull(services);
        ArgumentNullException.ThrowIfNull(configuration);
        services.TryAddSingleton(sp => EnclavePolicy.Create(configuration, sp.GetRequiredService<IRouteCatalog>()));
        services.TryAddSingleton(sp => new QuotaStore(new SqliteQuotaStore(sp.GetRequiredService<StateConnectionFactory>())));
        services.TryAddSingleton(sp =>
        {
            QuotaSettings quotaSettings;
            try
            {
                quotaSettings = configuration.GetSection("Quotas").Get<QuotaSettings>() ?? new QuotaSettings();
            }
            catch (InvalidOperationException ex)
            {
                throw new PolicyConfigurationException(PolicyConfigurationError.InvalidQuotas, [$"Quotas: {ex.Message}"]);
            }

            // A factory, so the container disposes its rate limiters.
            return new QuotaService(quotaSettings, quotaSettings.Any ? sp.GetRequiredService<QuotaStore>() : null, sp.GetRequiredService<TimeProvider>());
        });
        return services;
    }
}
