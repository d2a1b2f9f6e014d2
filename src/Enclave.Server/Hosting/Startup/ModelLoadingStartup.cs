using Enclave.Airlock.Import;
using Enclave.Core.Hosting;
using Enclave.Inference.Gguf;
using Enclave.Inference.Onnx;
using Enclave.Inference.Upstream;
using Enclave.Policy.Configuration;
using Enclave.Policy.Quotas;
using Enclave.Policy.Requests;
using Enclave.Server.Policy;
using Enclave.State.Changes;
using Microsoft.Extensions.Configuration;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Logging;

namespace Enclave.Server.Hosting.Startup;

/// <summary>
/// Start-up stage 3: fills the <see cref="ModelCatalog"/>. Models activated through the airlock (per name, the version
/// activated last) and dev-registered folders, which an airlock model of the same name overrides, are loaded into the
/// built-in engine; the upstream backends' models become routes through one <see cref="UpstreamRouter"/>, whose health
/// checks start now. Then the request policy and the quotas are built over the complete catalog, so a bad
/// <c>Policy</c> or <c>Quotas</c> section, or a model label the scheme does not know, stops the start with every problem
/// listed (<see cref="PolicyConfigurationException"/>). On PostgreSQL it subscribes <see cref="AirlockModels.Refresh"/> to
/// the change feed, so that models activated through other replicas are served here. The stage owns the loaded models and the router and releases
/// them when the host is disposed, after the server stopped.
/// </summary>
internal sealed class ModelLoadingStartup(IServiceProvider services, IConfiguration configuration) : StartupStage(services), IDisposable
{
    private readonly List<LoadedLocalModel> _local = [];
    private UpstreamRouter? _router;

    /// <summary>The router of the configured upstream backends, once this stage ran (null without upstream backends).</summary>
    internal UpstreamRouter? Router => _router;

    protected override Task RunAsync(CancellationToken cancellationToken)
    {
        var clock = Services.GetRequiredService<TimeProvider>();
        var report = Services.GetRequiredService<EnclaveStartupReport>();
        var catalog = Services.GetRequiredService<ModelCatalog>();
        var upstream = Services.GetRequiredService<UpstreamOptions>();
        var gguf = Services.GetService<GgufEngineOptions>();
        var onnx = Services.GetService<OnnxEngineOptions>();
        LlamaNative.Logger ??= Services.GetService<ILoggerFactory>()?.CreateLogger("Enclave.Inference.Gguf");
        foreach (var activated in AirlockModels.ToServe(Services.GetRequiredService<AirlockImporter>()))
        {
            cancellationToken.ThrowIfCancellationRequested();
            _local.Add(AirlockModels.Load(activated, clock, gguf, onnx));
        }

        var airlockNames = _local.Select(m => m.Route.Id).ToHashSet(StringComparer.Ordinal);
        foreach (var record in Services.GetRequiredService<LocalModelRegistry>().List())
        {
            cancellationToken.ThrowIfCancellationRequested();
            if (airlockNames.Contains(record.Id))
            {
                report.Notice($"warning: the dev-registered model '{record.Id}' ({record.Path}) is not served: a model of that name came through the airlock");
                continue;
            }

            _local.Add(LocalModelRegistry.Load(record, clock, gguf, onnx));
        }

        IEnumerable<ModelRoute> routes = _local.Select(m => m.Route);
        if (upstream.Backends.Count > 0)
        {
            _router = new UpstreamRouter(upstream, clock, logger: Services.GetService<ILogger<UpstreamRouter>>());
            _router.StartHealthChecks();
            routes = routes.Concat(EnclaveConfiguration.UpstreamRoutes(_router, upstream, configuration));
        }

        foreach (var route in routes)
        {
            if (catalog.TryResolve(route.Id, out _))
            {
                throw new ArgumentException($"model '{route.Id}' is configured twice");
            }

            catalog.AddOrReplace(route);
        }

        report.Models = [.. _local.Select(m => m.Route)];

        // The policy admits every model's label now that the catalog is complete; the quotas read their section.
        _ = Services.GetRequiredService<EnclavePolicy>();
        _ = Services.GetRequiredService<QuotaService>();

        // Replicas on one PostgreSQL database: a model activated through another is served here too (the change feed,
        // within a second; everything missed while its connection was down when it comes back). One refresh now covers
        // an activation between the listing above and the subscription.
        var airlock = Services.GetRequiredService<AirlockImporter>();
        var models = Services.GetRequiredService<AirlockModels>();
        var changes = Services.GetRequiredService<StateChanges>();
        if (changes.Shared)
        {
            changes.Subscribe(StateTopics.Artifacts, () => models.Refresh(airlock));
            models.Refresh(airlock);
        }

        return Task.CompletedTask;
    }

    public void Dispose()
    {
        _router?.Dispose();
        foreach (var model in _local)
        {
            model.Dispose();
        }

        _local.Clear();
    }
}
