using System.Globalization;
using Enclave.Inference.Upstream;
using Enclave.Ledger;
using Enclave.Policy.Identity;
using Enclave.Policy.Requests;
using Enclave.Server.Hosting;
using Microsoft.Extensions.Configuration;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Logging;
using Microsoft.Extensions.Logging.Console;

namespace Enclave.Bench.Gateway;

/// <summary>
/// The enclave server as <c>enclave serve</c> runs it (built by the composition root, <see cref="EnclaveHost.Create"/>),
/// in front of the stub: a fresh ledger (signing a checkpoint at the given interval; zero signs in every commit) and key store in a scratch data
/// directory, one admin key, one upstream backend serving <see cref="BenchSettings.Model"/> through the
/// <see cref="UpstreamRouter"/> (and <see cref="ChatRequest.EmbeddingModel"/> as an embedding model). A data directory
/// that holds a ledger already (<see cref="LedgerPrefill"/>, <c>--gateway-data</c>) is opened as it is. Auth and durable
/// audit are on; nothing is switched off for the benchmark. With <c>soak</c> it also has the principals the soak
/// benchmark's mix needs (see <see cref="Soak.SoakPrincipals"/>): an importer, two approvers (datasets need both), and a
/// user whose quota the soak exceeds on purpose.
/// </summary>
internal static class GatewayHost
{
    public static async Task<int> RunAsync(int port, Uri upstream, string dataDirectory, TimeSpan checkpointInterval, int soakQuotaPerMinute = 0)
    {
        Directory.CreateDirectory(dataDirectory);
        if (!LedgerPrefill.HoldsLedger(dataDirectory))
        {
            SqliteLedger.Initialize(dataDirectory, BenchSettings.Origin, postQuantum: false, TimeProvider.System);
        }
        var keys = new ApiKeyStore(dataDirectory, TimeProvider.System);
        var key = keys.Create("bench", "admin").Key;
        var soakKeys = soakQuotaPerMinute > 0 ? await Soak.SoakPrincipals.CreateAsync(keys).ConfigureAwait(false) : null;
        using var router = new UpstreamRouter(new UpstreamOptions
        {
            Backends =
            [
                new UpstreamBackendOptions
                {
                    Name = "stub",
                    BaseUrl = new Uri(upstream, "v1").ToString(),
                    Models = [BenchSettings.Model, ChatRequest.EmbeddingModel],
                    Labels = new UpstreamLabels { Classification = "UNCLASSIFIED", Jurisdiction = "local" },
                },
            ],
        }, TimeProvider.System);
        router.StartHealthChecks(); // as `enclave serve` does: every 15 s, off the request path
        var catalog = new ModelCatalog(
        [
            new ModelRoute
            {
                Id = BenchSettings.Model,
                Kind = "chat",
                BackendName = "upstream",
                Backends = [new RouteBackend("stub", "UNCLASSIFIED", "local", LeavesEnclave: false)],
                SelectBackend = selection => router.For(new UpstreamCall(b => selection.IsAllowed(b.Name), (b, body) => selection.BodyFor(b.Name, body))),
            },
            new ModelRoute
            {
                Id = ChatRequest.EmbeddingModel,
                Kind = "embedding",
                BackendName = "upstream",
                Backends = [new RouteBackend("stub", "UNCLASSIFIED", "local", LeavesEnclave: false)],
                SelectBackend = selection => router.For(new UpstreamCall(b => selection.IsAllowed(b.Name), (b, body) => selection.BodyFor(b.Name, body))),
            },
        ]);
        var settings = new Dictionary<string, string?>
        {
            ["Server:DataDirectory"] = dataDirectory,
            ["Server:Urls:0"] = $"http://127.0.0.1:{port}",
            ["Server:CheckpointInterval"] = checkpointInterval.ToString("c", CultureInfo.InvariantCulture),
        };
        if (soakKeys is not null)
        {
            Soak.SoakPrincipals.Configure(settings, soakQuotaPerMinute);
        }

        var configuration = new ConfigurationBuilder().AddInMemoryCollection(settings)
            .AddEnvironmentVariables("ENCLAVE__").Build(); // A/B runs: --gateway-env ENCLAVE__Detections__Enabled=false
        await using var app = EnclaveHost.Create(
            configuration,
            services => services.AddSingleton(catalog),
            logging =>
            {
                logging.AddSimpleConsole(o => o.SingleLine = true).SetMinimumLevel(LogLevel.Warning);
                logging.Services.Configure<ConsoleLoggerOptions>(o => o.LogToStandardErrorThreshold = LogLevel.Trace);
            });
        await app.StartAsync().ConfigureAwait(false);
        var ledger = app.Services.GetRequiredService<SqliteLedger>();
        await ChildControl.ServeUntilStdinClosesAsync(
            new ChildReady { Url = app.Urls.First(), ApiKey = key, DataDirectory = dataDirectory, Keys = soakKeys },
            () => ChildStats.Take(ledger.Size)).ConfigureAwait(false);
        await app.StopAsync().ConfigureAwait(false);
        return 0;
    }
}
