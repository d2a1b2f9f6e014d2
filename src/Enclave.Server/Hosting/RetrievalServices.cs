using Enclave.Core.Artifacts;
using Enclave.Core.Hosting;
using Enclave.Server.Lineage;
using Enclave.Server.Retrieval;
using Enclave.State;
using Enclave.State.Retrieval;
using Microsoft.Extensions.Configuration;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.DependencyInjection.Extensions;
using Microsoft.Extensions.Logging;
using Microsoft.Extensions.Logging.Abstractions;

namespace Enclave.Server.Hosting;

/// <summary>Registers retrieval over uploaded documents (<c>/v1/files</c>, <c>/v1/vector_stores</c>).</summary>
public static class RetrievalServices
{
    /// <summary>
    /// <c>RetrievalOptions</c> (section <c>Retrieval</c>, validated on start), <see cref="IRetrievalStore"/>
    /// (<c>retrieval_*</c> in <c>enclave.db</c>), <c>RetrievalService</c>, and <c>DatasetIngest</c>: the admission check
    /// and activation hook of <c>dataset</c> bundles.
    /// </summary>
    public static IServiceCollection AddEnclaveRetrieval(this IServiceCollection services, IConfiguration configuration)
    {
        ArgumentNullException.ThrowIfNull(services);
        ArgumentNullException.ThrowIfNull(configuration);
        services.AddValidatedRecord(() => configuration.GetSection("Retrieval").Get<RetrievalOptions>() ?? new RetrievalOptions(), o => o.Validate());
        services.TryAddSingleton<IRetrievalStore>(sp => new SqliteRetrievalStore(sp.GetRequiredService<StateConnectionFactory>()));
        services.TryAddSingleton<ResidentIndexes>();
        services.TryAddSingleton<RetrievalService>();
        services.TryAddSingleton<FileSearchStep>();
        services.TryAddSingleton<LineageService>();
        // Dataset bundles: checked at import (an admission check), indexed at activation (a hook); both resolve the
        // retrieval service only when they run, since the airlock takes them before the policy is built (stage 3).
        services.TryAddSingleton(sp => new DatasetIngest(sp, sp.GetService<ILogger<DatasetIngest>>() ?? NullLogger<DatasetIngest>.Instance));
        services.TryAddEnumerable(ServiceDescriptor.Singleton<IImportAdmissionCheck, DatasetIngest>(sp => sp.GetRequiredService<DatasetIngest>()));
        services.TryAddEnumerable(ServiceDescriptor.Singleton<IArtifactActivationHook, DatasetIngest>(sp => sp.GetRequiredService<DatasetIngest>()));
        return services;
    }
}
