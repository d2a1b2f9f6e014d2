using Enclave.Airlock.Hosting;
using Enclave.Airlock.Import;
using Enclave.Core.Artifacts;
using Enclave.Core.Hosting;
using Enclave.Inference.Gguf;
using Enclave.Inference.Onnx;
using Enclave.Intel.Hosting;
using Enclave.Intel.Upgrades;
using Enclave.Ledger.Hosting;
using Enclave.OperatorConsole.Backend;
using Enclave.OperatorConsole.Hosting;
using Enclave.Policy.Hosting;
using Enclave.Policy.Requests;
using Enclave.Server.Admin;
using Enclave.Server.Audit;
using Enclave.Server.Auth;
using Enclave.Server.Hosting.Startup;
using Enclave.Server.OpenAi;
using Enclave.Server.Policy;
using Enclave.Server.Telemetry;
using Enclave.State.Hosting;
using Microsoft.AspNetCore.DataProtection;
using Microsoft.Extensions.Configuration;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.DependencyInjection.Extensions;
using Microsoft.Extensions.Logging;

namespace Enclave.Server.Hosting;

/// <summary>The composition root: every service of the enclave server, from one configuration.</summary>
public static class EnclaveServices
{
    /// <summary>
    /// Registers the whole enclave server from <paramref name="configuration"/> (sections in
    /// <see cref="EnclaveConfiguration"/>): <see cref="ServerSettings"/> and <c>Upstream</c> validated on start (every
    /// problem listed), then one registration per component (<c>AddEnclaveLedger</c>, <c>AddEnclaveAirlock</c>,
    /// <c>AddEnclaveInference</c>, <c>AddEnclaveIdentity</c>, <c>AddEnclavePolicy</c>, <c>AddEnclaveRetention</c>,
    /// <c>AddEnclaveTelemetry</c>, <c>AddEnclaveIntel</c>, <c>AddEnclaveDetections</c>, <c>AddEnclaveVulnerabilities</c>, <c>AddEnclaveUsage</c>, <c>AddEnclaveUpgrade</c>, <c>AddEnclaveConsole</c> with its <see cref="IConsoleBackend"/>). Every service is added with <c>TryAdd*</c>: a host that registered a service
    /// before (a clock, a model catalog, an <see cref="EnclaveStartupReport"/>) keeps its own and nothing else changes.
    /// </summary>
    /// <remarks>
    /// Start-up runs as hosted services in this order, each finished before the next begins, and all before the
    /// server listens (the web host starts its server after the hosted services registered here):
    /// <list type="number">
    /// <item><c>LedgerStartup</c> (<c>Enclave.Ledger</c>): the ledger open (initialised when new), holding the data directory's lock.</item>
    /// <item><c>AirlockRecoveryStartup</c> (<c>Enclave.Airlock</c>): airlock crash recovery.</item>
    /// <item><see cref="ModelLoadingStartup"/>: activated and dev-registered models and upstream routes into the
    /// catalog; then the policy and quotas built and validated over it.</item>
    /// <item><see cref="IdentityBootstrapStartup"/>: the first admin key of a fresh enclave.</item>
    /// <item><see cref="ServerStartedStartup"/>: the <c>server.started</c> ledger entry.</item>
    /// <item><see cref="IntelIndexStartup"/>: the live threat-intelligence indicators indexed from the store.</item>
    /// </list>
    /// Background services (quota flushing, retention purge, the live detections on the ledger's append feed) start after them.
    /// </remarks>
    public static IServiceCollection AddEnclave(this IServiceCollection services, IConfiguration configuration)
    {
        ArgumentNullException.ThrowIfNull(services);
        ArgumentNullException.ThrowIfNull(configuration);

        // Read once without validating, for what decides the shape of the registrations (single sign-on, retention,
        // an OTLP collector); the same values are validated, all problems at once, when the host starts.
        var settings = EnclaveConfiguration.Server(configuration);
        services.AddValidatedRecord(() => EnclaveConfiguration.Server(configuration), s => s.Validate());
        services.TryAddSingleton(TimeProvider.System);
        services.TryAddSingleton(_ => new EnclaveStartupReport());
        services.TryAddSingleton<IStartupNotices>(sp => sp.GetRequiredService<EnclaveStartupReport>());

        // Order matters only for the start-up stages each registers (see the remarks). The enclave's state (SQLite files in the data directory, or PostgreSQL), opened and migrated once for every
        // component, with the change feed between replicas; then the ledger (stage 1) and the airlock (stage 2), each
        // its assembly's own registration given what it needs of the server's settings.
        services.AddEnclaveState(sp =>
        {
            var server = sp.GetRequiredService<ServerSettings>();
            return (server.DataDirectory, server.State);
        });
        services.AddEnclaveLedger(sp =>
        {
            var server = sp.GetRequiredService<ServerSettings>();
            return (server.DataDirectory, server.CheckpointInterval);
        });
        services.AddEnclaveAirlock(sp =>
        {
            var server = sp.GetRequiredService<ServerSettings>();
            return server.Airlock.ToImportOptions(server.DataDirectory) with { SharedDirectory = server.SharedDirectory };
        });

        // The server's adapter of the airlock: serves a model the moment an approval activates it.
        services.TryAddSingleton(sp => new AirlockModels(sp.GetRequiredService<ModelCatalog>(), sp.GetRequiredService<EnclavePolicy>(), sp.GetRequiredService<TimeProvider>(), sp.GetService<GgufEngineOptions>(), sp.GetService<OnnxEngineOptions>(), sp.GetService<ILogger<AirlockModels>>()));
        services.AddEnclaveInference(configuration);
        services.AddEnclaveIdentity(settings);
        services.AddHostedService<ServerStartedStartup>();
        services.AddEnclavePolicy(configuration);
        services.AddHostedService<QuotaFlusher>();
        services.AddEnclaveRetention(settings.Retention.Enabled, sp =>
        {
            var server = sp.GetRequiredService<ServerSettings>();
            return (server.DataDirectory, server.Retention);
        });
        services.AddEnclaveTelemetry(settings);
        services.AddEnclaveIntel(configuration);
        services.AddEnclaveDetections(configuration);
        services.AddEnclaveVulnerabilities(configuration);
        services.AddEnclaveUsage();
        services.AddEnclaveUpgrade(configuration, sp =>
        {
            var importer = sp.GetRequiredService<AirlockImporter>();
            return (sp.GetRequiredService<ServerSettings>().DataDirectory, () => ActivatedUpdates(importer));
        });
        services.AddEnclaveRetrieval(configuration);

        services.AddEnclaveConsole(configuration);
        services.TryAddSingleton(new EffectiveSettings(configuration));
        services.TryAddSingleton<ConsoleOidcClient>();
        services.TryAddSingleton<IConsoleBackend, ConsoleBackend>();

        services.TryAddSingleton<RequestAuditor>();
        services.TryAddSingleton<RequestHandler>();
        services.TryAddSingleton<Enclave.State.Responses.IResponseStore>(sp => new Enclave.State.Responses.SqliteResponseStore(sp.GetRequiredService<Enclave.State.StateConnectionFactory>()));
        services.TryAddSingleton<Responses.ResponseService>();
        services.TryAddSingleton<Responses.BackgroundResponses>();
        services.AddHostedService(sp => sp.GetRequiredService<Responses.BackgroundResponses>());
        services.AddHostedService<Responses.ResponsePurgeService>();

        // The console's session and antiforgery cookies are protected with ASP.NET's data-protection keys, kept in the
        // data directory (keys/console-data-protection) so that sessions survive a restart of the server.
        services.AddDataProtection()
            .SetApplicationName("enclave")
            .PersistKeysToFileSystem(new DirectoryInfo(Path.Combine(settings.DataDirectory, "keys", "console-data-protection")));
        services.AddProblemDetails();
        return services;
    }

    // The airlock's activated 'update' artifacts as the upgrade service reads them (Enclave.Intel does not reference the airlock).
    private static IReadOnlyList<UpdateArtifact> ActivatedUpdates(AirlockImporter importer) =>
        [.. importer.ListActivated("update").Select(a => new UpdateArtifact
        {
            Name = a.Name,
            Version = a.Version,
            ImportId = a.ImportId,
            Folder = a.Folder,
            Files = [.. a.Files.Select(f => new ArtifactFile(f.RelativePath, f.Sha256, f.Length))],
            Activated = a.Activated,
        })];
}
