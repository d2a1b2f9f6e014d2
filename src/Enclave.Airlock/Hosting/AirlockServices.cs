using Enclave.Airlock.Import;
using Enclave.Core.Artifacts;
using Enclave.Core.Audit;
using Enclave.Core.Hosting;
using Enclave.State;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.DependencyInjection.Extensions;
using Microsoft.Extensions.Logging;

namespace Enclave.Airlock.Hosting;

/// <summary>Registers the airlock's import pipeline of the data directory.</summary>
public static class AirlockServices
{
    /// <summary>
    /// <see cref="AirlockImporter"/> under the options <paramref name="options"/> gives (the host's data directory, shared
    /// directory and <c>Airlock</c> settings), over the host's <see cref="ILedger"/> and <see cref="StateConnectionFactory"/>,
    /// with every registered <see cref="IArtifactActivationHook"/> (e.g. vulnerability data loaded from <c>intel</c>
    /// bundles) and <see cref="IImportAdmissionCheck"/>; and start-up stage 2, <see cref="AirlockRecoveryStartup"/>
    /// (crash recovery before anything reads the airlock's state).
    /// </summary>
    public static IServiceCollection AddEnclaveAirlock(this IServiceCollection services, Func<IServiceProvider, AirlockImportOptions> options)
    {
        ArgumentNullException.ThrowIfNull(services);
        ArgumentNullException.ThrowIfNull(options);
        services.TryAddSingleton(sp =>
        {
            var importer = new AirlockImporter(
                options(sp) with { State = sp.GetRequiredService<StateConnectionFactory>() },
                sp.GetRequiredService<ILedger>(),
                sp.GetRequiredService<TimeProvider>(),
                sp.GetService<ILogger<AirlockImporter>>());
            foreach (var hook in sp.GetServices<IArtifactActivationHook>())
            {
                importer.AddActivationHook(hook);
            }

            foreach (var check in sp.GetServices<IImportAdmissionCheck>())
            {
                importer.AddAdmissionCheck(check);
            }

            return importer;
        });
        services.AddStartupStage<AirlockRecoveryStartup>();
        return services;
    }
}
