using Enclave.Policy.Identity;
using Enclave.Server.Hosting;
using Microsoft.Extensions.Configuration;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.DependencyInjection.Extensions;

namespace Enclave.Server.Policy;

/// <summary>Registers the request policy and quotas.</summary>
public static class PolicyServices
{
    /// <summary>
    /// Builds <see cref="EnclavePolicy"/> from the <c>Policy</c> section and the catalog, and <see cref="QuotaService"/>
    /// from the <c>Quotas</c> section with its counters in <paramref name="dataDirectory"/>; both validate now, so a
    /// bad configuration stops the server at start with every problem listed.
    /// </summary>
    /// <exception cref="PolicyConfigurationException">Every problem with the configuration.</exception>
    public static IServiceCollection AddEnclavePolicy(this IServiceCollection services, IConfiguration configuration, ModelCatalog catalog, string dataDirectory, TimeProvider clock)
    {
        ArgumentNullException.ThrowIfNull(services);
        ArgumentNullException.ThrowIfNull(configuration);
        var policy = EnclavePolicy.Create(configuration, catalog);
        QuotaSettings quotaSettings;
        try
        {
            quotaSettings = configuration.GetSection("Quotas").Get<QuotaSettings>() ?? new QuotaSettings();
        }
        catch (InvalidOperationException ex)
        {
            throw new PolicyConfigurationException([$"Quotas: {ex.Message}"]);
        }

        var quotas = new QuotaService(quotaSettings, quotaSettings.Any ? new QuotaStore(dataDirectory) : null, clock);
        services.TryAddSingleton(policy);
        services.TryAddSingleton(_ => quotas); // a factory, so the container disposes its rate limiters
        services.AddHostedService<QuotaFlusher>();
        return services;
    }
}
