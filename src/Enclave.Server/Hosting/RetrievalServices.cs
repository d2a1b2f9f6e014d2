using Enclave.Server.Lineage;
using Enclave.Server.Retrieval;
using Enclave.State;
using Enclave.State.Retrieval;
using Microsoft.Extensions.Configuration;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.DependencyInjection.Extensions;

namespace Enclave.Server.Hosting;

/// <summary>Registers retrieval over uploaded documents (<c>/v1/files</c>, <c>/v1/vector_stores</c>).</summary>
public static class RetrievalServices
{
    /// <summary>
    /// <c>RetrievalOptions</c> (section <c>Retrieval</c>, validated on start), <see cref="IRetrievalStore"/>
    /// (<c>retrieval_*</c> in <c>enclave.db</c>) and <c>RetrievalService</c>.
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
        return services;
    }
}
