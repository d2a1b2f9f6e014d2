using Enclave.Airlock.Import;
using Enclave.Core.Artifacts;
using Enclave.Core.Audit;
using Enclave.Inference.Gguf;
using Enclave.Inference.Onnx;
using Enclave.Ledger;
using Enclave.Policy.Requests;
using Enclave.Server.Hosting.Startup;
using Enclave.Server.Policy;
using Enclave.State;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.DependencyInjection.Extensions;
using Microsoft.Extensions.Logging;

namespace Enclave.Server.Hosting;

/// <summary>Registers the airlock: the import pipeline of the data directory and the serving of activated models.</summary>
public static class AirlockServices
{
    /// <summary>
    /// <see cref="AirlockImporter"/> over the data directory and the ledger under the <c>Airlock</c> settings,
    /// with every registered <see cref="IArtifactActivationHook"/> (e.g. vulnerability data loaded from <c>intel</c> bundles),
    /// <see cref="AirlockModels"/> (serves a model the moment an approval activates it), and start-up stage 2,
    /// <see cref="AirlockRecoveryStartup"/> (crash recovery before anything reads the airlock's state).
    /// </summary>
    public static IServiceCollection AddEnclaveAirlock(this IServiceCollection services)
    {
        ArgumentNullException.ThrowIfNull(services);
        services.TryAddSingleton(sp =>
        {
            var settings = sp.GetRequiredService<ServerSettings>();
            var importer = AirlockHosting.CreateImporter(settings.DataDirectory, sp.GetRequiredService<ILedger>(), sp.GetRequiredService<TimeProvider>(), settings.Airlock, sp.GetRequiredService<StateConnectionFactory>(), sp.GetService<ILogger<AirlockImporter>>(), settings.SharedDirectory);
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
        services.TryAddSingleton(sp => new AirlockModels(sp.GetRequiredService<ModelCatalog>(), sp.GetRequiredService<EnclavePolicy>(), sp.GetRequiredService<TimeProvider>(), sp.GetService<GgufEngineOptions>(), sp.GetService<OnnxEngineOptions>(), sp.GetService<ILogger<AirlockModels>>()));
        services.AddHostedService<AirlockRecoveryStartup>();
        return services;
    }
}
