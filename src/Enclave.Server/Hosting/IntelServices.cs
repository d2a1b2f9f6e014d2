using System.Diagnostics.Metrics;
using Enclave.Core.Artifacts;
using Enclave.Core.Audit;
using Enclave.Intel.Alerts;
using Enclave.Intel.Vulnerabilities.Feeds;
using Enclave.Ledger;
using Enclave.State;
using Enclave.State.Alerts;
using Enclave.State.Vulnerabilities;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.DependencyInjection.Extensions;

namespace Enclave.Server.Hosting;

/// <summary>Registers threat intelligence, detections and vulnerability data: today the alerts they all raise.</summary>
public static class IntelServices
{
    /// <summary>
    /// <see cref="IAlertStore"/> (the <c>alerts</c> table of the data directory's <c>enclave.db</c>),
    /// <see cref="AlertMetrics"/> (meter <c>Enclave.Intel</c>) and <see cref="AlertService"/>, which writes every alert
    /// and lifecycle change to the ledger; <see cref="IVulnerabilityStore"/> and <see cref="VulnerabilityFeedHook"/>, the
    /// airlock's post-activation hook that loads OSV, KEV and VEX data from activated <c>intel</c> bundles. Nothing opens
    /// before first use.
    /// </summary>
    public static IServiceCollection AddEnclaveIntel(this IServiceCollection services)
    {
        ArgumentNullException.ThrowIfNull(services);
        services.TryAddSingleton<IAlertStore>(sp => new SqliteAlertStore(
            EnclaveState.Open(sp.GetRequiredService<ServerSettings>().DataDirectory, sp.GetRequiredService<TimeProvider>())));
        services.TryAddSingleton(sp => new AlertMetrics(sp.GetRequiredService<IMeterFactory>(), sp.GetRequiredService<IAlertStore>()));
        services.TryAddSingleton(sp => new AlertService(
            sp.GetRequiredService<ILedger>(),
            sp.GetRequiredService<IAlertStore>(),
            sp.GetRequiredService<TimeProvider>(),
            sp.GetRequiredService<AlertMetrics>()));
        services.TryAddSingleton<IVulnerabilityStore>(sp => new SqliteVulnerabilityStore(
            EnclaveState.Open(sp.GetRequiredService<ServerSettings>().DataDirectory, sp.GetRequiredService<TimeProvider>())));
        services.TryAddEnumerable(ServiceDescriptor.Singleton<IArtifactActivationHook, VulnerabilityFeedHook>(sp => new VulnerabilityFeedHook(
            sp.GetRequiredService<IVulnerabilityStore>(), sp.GetRequiredService<ILedger>(), sp.GetRequiredService<TimeProvider>())));
        return services;
    }
}
