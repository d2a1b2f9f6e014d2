using Enclave.Core.Audit;
using Enclave.Core.Hosting;
using Enclave.Intel.Alerts;
using Enclave.Intel.Live;
using Enclave.Ledger;
using Enclave.Server.Hosting.Startup;
using Enclave.State;
using Microsoft.Extensions.Configuration;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.DependencyInjection.Extensions;
using Microsoft.Extensions.Logging;

namespace Enclave.Server.Hosting;

/// <summary>Registers threat intelligence in the server: Enclave.Intel's own registration and what it needs of the server.</summary>
public static partial class IntelServices
{
    /// <summary>
    /// <c>Enclave.Intel</c>'s own registration (<see cref="global::Enclave.Intel.Hosting.IntelServices.AddEnclaveIntel"/>: the alert,
    /// vulnerability and indicator stores, <see cref="AlertService"/>, <see cref="LiveIndicators"/>, the <c>intel</c>
    /// activation hooks, <see cref="IntelImportCheck"/>, <see cref="IntelRequestScreen"/>), and what it is given by the
    /// server: <see cref="RetroHunter"/> over the ledger's history (<see cref="LedgerReader"/> of the data directory),
    /// <see cref="IntelApplyOptions"/> (section <c>Intel:Apply</c>, validated on start), and start-up stage 6,
    /// <see cref="IntelIndexStartup"/> (the live index built from the store).
    /// </summary>
    public static IServiceCollection AddEnclaveIntel(this IServiceCollection services, IConfiguration configuration)
    {
        ArgumentNullException.ThrowIfNull(services);
        ArgumentNullException.ThrowIfNull(configuration);
        global::Enclave.Intel.Hosting.IntelServices.AddEnclaveIntel(services);
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
        services.AddValidatedRecord(() => configuration.GetSection("Intel:Apply").Get<IntelApplyOptions>() ?? new IntelApplyOptions(), o => o.Validate());
        services.AddHostedService<IntelIndexStartup>();
        return services;
    }

    private static partial class Log
    {
        [LoggerMessage(EventId = 8001, Level = LogLevel.Error, Message = "Retro-hunt {Trigger} failed; run it again with enclave intel hunt")]
        public static partial void HuntFailed(ILogger logger, string trigger, Exception exception);
    }
}
