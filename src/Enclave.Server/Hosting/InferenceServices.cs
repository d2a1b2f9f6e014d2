using Enclave.Inference.Gguf;
using Enclave.Inference.Hosting;
using Enclave.Inference.Onnx;
using Enclave.Inference.Upstream;
using Enclave.Policy.Requests;
using Enclave.Server.Hosting.Startup;
using Enclave.State;
using Microsoft.Extensions.Configuration;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.DependencyInjection.Extensions;

namespace Enclave.Server.Hosting;

/// <summary>Registers inference: the model catalog, the dev model registry, the upstream settings and model loading.</summary>
public static class InferenceServices
{
    /// <summary>
    /// An empty <see cref="ModelCatalog"/> (a test may register its own, with routes of its own, before
    /// <see cref="EnclaveServices.AddEnclave"/>), also the policy's <see cref="IRouteCatalog"/>, <see cref="LocalModelRegistry"/>,
    /// the engine and upstream settings registered by <c>Enclave.Inference</c>'s own
    /// <see cref="InferenceOptionsServices.AddEnclaveInferenceOptions"/> (<see cref="UpstreamOptions"/> from <c>Upstream</c>,
    /// <see cref="GgufEngineOptions"/> from <c>Engine:Gguf</c>, <see cref="OnnxEngineOptions"/> from <c>Engine:Onnx</c>,
    /// validated at start), and start-up stage 3, <see cref="ModelLoadingStartup"/>: the airlock's activated models,
    /// dev-registered folders and upstream routes (<c>Models:{id}:Kind</c>, <c>Models:{id}:Label</c> of
    /// <paramref name="configuration"/>) into the catalog. The catalog, the registry and the stage stay here: they are
    /// the server's routes over the engine (<c>ModelRoute</c>), not the engine's own.
    /// </summary>
    public static IServiceCollection AddEnclaveInference(this IServiceCollection services, IConfiguration configuration)
    {
        ArgumentNullException.ThrowIfNull(services);
        ArgumentNullException.ThrowIfNull(configuration);
        services.TryAddSingleton(_ => new ModelCatalog([]));
        services.TryAddSingleton<IRouteCatalog>(sp => sp.GetRequiredService<ModelCatalog>());
        services.TryAddSingleton(sp => new LocalModelRegistry(sp.GetRequiredService<ServerSettings>().DataDirectory, sp.GetRequiredService<TimeProvider>(), sp.GetRequiredService<StateConnectionFactory>()));
        services.AddEnclaveInferenceOptions(configuration);
        services.AddHostedService(sp => new ModelLoadingStartup(sp, configuration));
        return services;
    }
}
