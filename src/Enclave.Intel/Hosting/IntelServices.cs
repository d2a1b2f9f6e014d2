using System.Diagnostics.Metrics;
using Enclave.Core.Artifacts;
using Enclave.Core.Audit;
using Enclave.Intel.Alerts;
using Enclave.Intel.Live;
using Enclave.Intel.Vulnerabilities.Feeds;
using Enclave.State;
using Enclave.State.Alerts;
using Enclave.State.Intel;
using Enclave.State.Vulnerabilities;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.DependencyInjection.Extensions;

namespace Enclave.Intel.Hosting;

/// <summary>Registers threat intelligence, its alerts and the vulnerability data feed: what lives in <c>Enclave.Intel</c>.</summary>
public static class IntelServices
{
    /// <summary>
    /// <see cref="IAlertStore"/> (the <c>alerts</c> table of the enclave's state), <see cref="AlertMetrics"/> (meter
    /// <c>Enclave.Intel</c>) and <see cref="AlertService"/>, which writes every alert and lifecycle change to the ledger;
    /// <see cref="IVulnerabilityStore"/> and <see cref="VulnerabilityFeedHook"/>, the airlock's post-activation hook that
    /// loads OSV, KEV and VEX data from activated <c>intel</c> bundles; <see cref="IIndicatorStore"/>,
    /// <see cref="LiveIndicators"/>, <see cref="IndicatorFeedHook"/> (loads STIX and MISP from activated <c>intel</c>
    /// bundles, then a <see cref="RetroHunter"/> run), <see cref="IntelImportCheck"/> (the airlock's admission check) and
    /// <see cref="IntelRequestScreen"/>. Nothing opens before first use; every service is added with <c>TryAdd*</c>, the
    /// hooks in this order. The host registers what reads its own parts: the <see cref="StateConnectionFactory"/>, the
    /// <see cref="ILedger"/>, <see cref="RetroHunter"/> (it reads the ledger's history) and <see cref="IntelApplyOptions"/>.
    /// </summary>
    public static IServiceCollection AddEnclaveIntel(this IServiceCollection services)
    {
        ArgumentNullException.ThrowIfNull(services);
        services.TryAddSingleton<IAlertStore>(sp => new SqliteAlertStore(
            sp.GetRequiredService<StateConnectionFactory>()));
        services.TryAddSingleton(sp => new AlertMetrics(sp.GetRequiredService<IMeterFactory>(), sp.GetRequiredService<IAlertStore>()));
        services.TryAddSingleton(sp => new AlertService(
            sp.GetRequiredService<ILedger>(),
            sp.GetRequiredService<IAlertStore>(),
            sp.GetRequiredService<TimeProvider>(),
            sp.GetRequiredService<AlertMetrics>()));
        services.TryAddSingleton<IVulnerabilityStore>(sp => new SqliteVulnerabilityStore(
            sp.GetRequiredService<StateConnectionFactory>()));
        services.TryAddEnumerable(ServiceDescriptor.Singleton<IArtifactActivationHook, VulnerabilityFeedHook>(sp => new VulnerabilityFeedHook(
            sp.GetRequiredService<IVulnerabilityStore>(), sp.GetRequiredService<ILedger>(), sp.GetRequiredService<TimeProvider>())));

        services.TryAddSingleton<IIndicatorStore>(sp => new SqliteIndicatorStore(
            sp.GetRequiredService<StateConnectionFactory>()));
        services.TryAddSingleton(sp => new LiveIndicators(sp.GetRequiredService<IIndicatorStore>(), sp.GetRequiredService<TimeProvider>()));
        services.TryAddSingleton(sp => new IndicatorFeedHook(
            sp.GetRequiredService<IIndicatorStore>(), sp.GetRequiredService<ILedger>(), sp.GetRequiredService<TimeProvider>(),
            sp.GetRequiredService<LiveIndicators>(), sp.GetRequiredService<RetroHunter>()));
        services.TryAddEnumerable(ServiceDescriptor.Singleton<IArtifactActivationHook, IndicatorFeedHook>(sp => sp.GetRequiredService<IndicatorFeedHook>()));
        services.TryAddEnumerable(ServiceDescriptor.Singleton<IImportAdmissionCheck, IntelImportCheck>(sp => new IntelImportCheck(
            sp.GetRequiredService<LiveIndicators>(), sp.GetRequiredService<AlertService>())));
        services.TryAddSingleton(sp => new IntelRequestScreen(
            sp.GetRequiredService<LiveIndicators>(), sp.GetRequiredService<AlertService>(), sp.GetRequiredService<IntelApplyOptions>()));
        return services;
    }
}
