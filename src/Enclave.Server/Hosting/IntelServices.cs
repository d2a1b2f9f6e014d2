using System.Diagnostics.Metrics;
using Enclave.Core.Artifacts;
using Enclave.Core.Audit;
using Enclave.Intel.Alerts;
using Enclave.Intel.Live;
using Enclave.Intel.Vulnerabilities.Feeds;
using Enclave.Ledger;
using Enclave.State;
using Enclave.Server.Hosting.Startup;
using Enclave.State.Alerts;
using Enclave.State.Intel;
using Enclave.State.Vulnerabilities;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Configuration;
using Microsoft.Extensions.DependencyInjection.Extensions;
using Microsoft.Extensions.Logging;

namespace Enclave.Server.Hosting;

/// <summary>Registers threat intelligence, detections and vulnerability data: today the alerts they all raise.</summary>
public static partial class IntelServices
{
    /// <summary>
    /// <see cref="IAlertStore"/> (the <c>alerts</c> table of the data directory's <c>enclave.db</c>),
    /// <see cref="AlertMetrics"/> (meter <c>Enclave.Intel</c>) and <see cref="AlertService"/>, which writes every alert
    /// and lifecycle change to the ledger; <see cref="IVulnerabilityStore"/> and <see cref="VulnerabilityFeedHook"/>, the
    /// airlock's post-activation hook that loads OSV, KEV and VEX data from activated <c>intel</c> bundles. Nothing opens
    /// before first use. Threat intelligence applied: <see cref="IIndicatorStore"/>, <see cref="LiveIndicators"/> (built
    /// at start by <see cref="IntelIndexStartup"/>, stage 6), <see cref="IndicatorFeedHook"/> (loads STIX and MISP from
    /// activated <c>intel</c> bundles, then a <see cref="RetroHunter"/> run), <see cref="IntelImportCheck"/> (the airlock's
    /// admission check), <see cref="IntelRequestScreen"/> with <see cref="IntelApplyOptions"/> (section <c>Intel:Apply</c>,
    /// validated on start).
    /// </summary>
    public static IServiceCollection AddEnclaveIntel(this IServiceCollection services, IConfiguration configuration)
    {
        ArgumentNullException.ThrowIfNull(services);
        ArgumentNullException.ThrowIfNull(configuration);
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
        services.TryAddSingleton(sp =>
        {
            var logger = sp.GetRequiredService<ILoggerFactory>().CreateLogger("Enclave.Intel.RetroHunter");
            return new RetroHunter(
                sp.GetRequiredService<LiveIndicators>(),
                sp.GetRequiredService<AlertService>(),
                sp.GetRequiredService<ILedger>(),
                () => LedgerReader.Open(sp.GetRequiredService<ServerSettings>().DataDirectory, sp.GetRequiredService<StateConnectionFactory>()),
                sp.GetRequiredService<TimeProvider>(),
                (trigger, e) => Log.HuntFailed(logger, trigger, e));
        });
        services.TryAddSingleton(sp => new IndicatorFeedHook(
            sp.GetRequiredService<IIndicatorStore>(), sp.GetRequiredService<ILedger>(), sp.GetRequiredService<TimeProvider>(),
            sp.GetRequiredService<LiveIndicators>(), sp.GetRequiredService<RetroHunter>()));
        services.TryAddEnumerable(ServiceDescriptor.Singleton<IArtifactActivationHook, IndicatorFeedHook>(sp => sp.GetRequiredService<IndicatorFeedHook>()));
        services.TryAddEnumerable(ServiceDescriptor.Singleton<IImportAdmissionCheck, IntelImportCheck>(sp => new IntelImportCheck(
            sp.GetRequiredService<LiveIndicators>(), sp.GetRequiredService<AlertService>())));
        services.AddValidatedRecord(() => configuration.GetSection("Intel:Apply").Get<IntelApplyOptions>() ?? new IntelApplyOptions(), o => o.Validate());
        services.TryAddSingleton(sp => new IntelRequestScreen(
            sp.GetRequiredService<LiveIndicators>(), sp.GetRequiredService<AlertService>(), sp.GetRequiredService<IntelApplyOptions>()));
        services.AddHostedService<IntelIndexStartup>();
        return services;
    }

    private static partial class Log
    {
        [LoggerMessage(EventId = 8001, Level = LogLevel.Error, Message = "Retro-hunt {Trigger} failed; run it again with enclave intel hunt")]
        public static partial void HuntFailed(ILogger logger, string trigger, Exception exception);
    }
}
