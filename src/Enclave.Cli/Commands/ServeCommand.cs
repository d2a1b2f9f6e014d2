using System.CommandLine;
using System.Text.Json;
using System.Text.Json.Nodes;
using Enclave.Core.Audit;
using Enclave.Inference.Upstream;
using Enclave.Ledger;
using Enclave.Server.Auth;
using Enclave.Server.Hosting;
using Microsoft.Extensions.Hosting;

namespace Enclave.Cli.Commands;

/// <summary><c>enclave serve</c>: the OpenAI-compatible API, the admin API and health endpoints over one data directory.</summary>
internal static class ServeCommand
{
    internal sealed record ServerStart(IReadOnlyList<string> Urls, ModelCatalog Catalog, ApiKeyStore Keys, string? AdminKey);

    public static Command Create(CliContext context)
    {
        var data = new Option<string>("--data") { Description = "The data directory (created and initialised on first use).", DefaultValueFactory = _ => "./enclave-data" };
        var urls = new Option<string[]>("--urls") { Description = "Addresses to listen on (repeatable).", DefaultValueFactory = _ => ["http://127.0.0.1:8080"] };
        var certificate = new Option<string>("--certificate") { Description = "PEM certificate for https URLs." };
        var certificateKey = new Option<string>("--certificate-key") { Description = "PEM private key for --certificate." };
        var insecure = new Option<bool>("--allow-insecure-http") { Description = "Allow plain HTTP on non-loopback addresses (unencrypted API keys and prompts)." };
        var checkpointInterval = new Option<double>("--checkpoint-interval") { Description = "Seconds between signed ledger checkpoints while entries arrive (0: sign in every commit). Entries are durable either way.", DefaultValueFactory = _ => 1.0 };
        var config = new Option<string>("--config") { Description = "JSON configuration (Upstream backends, Models, Policy, Quotas); ENCLAVE__ environment variables override it." };
        var command = new Command("serve", "Serve the OpenAI-compatible API (/v1), the admin API (/admin/v1) and /healthz, /readyz.")
        {
            data, urls, certificate, certificateKey, insecure, checkpointInterval, config,
        };
        command.SetAction((result, ct) => CommandRunner.RunAsync(context, false, async () =>
        {
            var settings = new ServerSettings
            {
                DataDirectory = result.GetValue(data)!,
                Urls = result.GetValue(urls)!,
                CertificatePath = result.GetValue(certificate),
                CertificateKeyPath = result.GetValue(certificateKey),
                AllowInsecureHttp = result.GetValue(insecure),
                CheckpointInterval = result.GetValue(checkpointInterval) is var seconds && double.IsFinite(seconds) && seconds is >= 0 and <= 3600
                    ? TimeSpan.FromSeconds(seconds)
                    : throw new ArgumentException("--checkpoint-interval must be between 0 and 3600 seconds"),
            };
            await RunAsync(context, settings, result.GetValue(config), onReady: null, ct).ConfigureAwait(false);
            return ExitCode.Success;
        }));
        return command;
    }

    /// <summary>
    /// Opens (or initialises) the data directory, loads local and upstream models, makes sure an admin key exists
    /// (kept in <paramref name="adminKeyFile"/> when given), starts the server and runs it until shutdown.
    /// <paramref name="onReady"/> runs once it listens.
    /// </summary>
    internal static async Task RunAsync(CliContext context, ServerSettings settings, string? configPath, Func<ServerStart, Task>? onReady, CancellationToken ct, string? adminKeyFile = null)
    {
        var configuration = EnclaveConfiguration.Load(configPath);
        var upstream = EnclaveConfiguration.Upstream(configuration);
        settings = settings with { Retention = EnclaveConfiguration.Retention(configuration), Airlock = EnclaveConfiguration.Airlock(configuration) };
        settings = settings with { Oidc = EnclaveConfiguration.Oidc(configuration), Audit = EnclaveConfiguration.Audit(configuration) };
        var problems = settings.Validate();
        if (problems.Count > 0)
        {
            throw new ArgumentException("cannot serve:\n- " + string.Join("\n- ", problems));
        }

        await using var ledger = OpenOrInitialize(context, settings.DataDirectory, settings.CheckpointInterval);
        var keys = new ApiKeyStore(settings.DataDirectory, context.Clock);
        var admin = await IdentityBootstrap.EnsureAdminKeyAsync(keys, ledger, context.Clock, adminKeyFile, ct).ConfigureAwait(false);
        if (admin.Problem is not null)
        {
            await context.Error.WriteLineAsync("warning: " + admin.Problem).ConfigureAwait(false);
        }
        else if (admin.Created is { } created && adminKeyFile is null)
        {
            await context.Out.WriteLineAsync($"Created the first admin API key (shown once, store it now): {admin.Key}").ConfigureAwait(false);
            await context.Error.WriteLineAsync($"admin key {created.Id} of user '{IdentityBootstrap.AdminUser}' created").ConfigureAwait(false);
        }

        // The airlock recovers from any crash before anything reads its state or the server listens.
        var airlock = AirlockHosting.CreateImporter(settings.DataDirectory, ledger, context.Clock, settings.Airlock);
        if (AirlockHosting.Describe(await AirlockHosting.RecoverAsync(airlock, ct).ConfigureAwait(false)) is { } recovered)
        {
            await context.Error.WriteLineAsync(recovered).ConfigureAwait(false);
        }

        var local = new List<LoadedLocalModel>();
        try
        {
            // Models activated through the airlock (the version activated last of each name), then dev-registered
            // folders, which an airlock model of the same name overrides.
            foreach (var activated in AirlockModels.ToServe(airlock))
            {
                local.Add(AirlockModels.Load(activated, context.Clock));
            }

            var airlockNames = local.Select(m => m.Route.Id).ToHashSet(StringComparer.Ordinal);
            var records = new LocalModelRegistry(settings.DataDirectory, context.Clock).List();
            foreach (var record in records)
            {
                if (airlockNames.Contains(record.Id))
                {
                    await context.Error.WriteLineAsync($"warning: the dev-registered model '{record.Id}' ({record.Path}) is not served: a model of that name came through the airlock").ConfigureAwait(false);
                    continue;
                }

                local.Add(LocalModelRegistry.Load(record, context.Clock));
            }

            using var router = upstream.Backends.Count > 0 ? new UpstreamRouter(upstream, context.Clock) : null;
            router?.StartHealthChecks();
            IEnumerable<ModelRoute> routes = local.Select(m => m.Route);
            if (router is not null)
            {
                routes = routes.Concat(EnclaveConfiguration.UpstreamRoutes(router, upstream, configuration));
            }

            var catalog = new ModelCatalog(routes);
            await RecordStartAsync(ledger, context.Clock, settings, local, upstream).ConfigureAwait(false);
            await using var app = EnclaveServer.Build(settings, ledger, catalog, context.Clock, configuration: configuration, airlock: airlock);
            await app.StartAsync(ct).ConfigureAwait(false);
            if (onReady is not null)
            {
                await onReady(new ServerStart(app.Urls.ToList(), catalog, keys, admin.Key)).ConfigureAwait(false);
            }
            else
            {
                foreach (var address in app.Urls)
                {
                    await context.Out.WriteLineAsync($"Enclave is listening on {address}").ConfigureAwait(false);
                }
            }

            await app.WaitForShutdownAsync(ct).ConfigureAwait(false);
        }
        finally
        {
            foreach (var model in local)
            {
                model.Dispose();
            }
        }
    }

    /// <summary>
    /// One <c>server.started</c> entry naming every model the server will answer for, with its digest and where it
    /// came from (<c>airlock:IMPORT-ID</c> for an airlock import, <c>dev:folder</c> for a folder registered past the
    /// airlock), and every upstream backend.
    /// </summary>
    private static async Task RecordStartAsync(SqliteLedger ledger, TimeProvider clock, ServerSettings settings, IReadOnlyList<LoadedLocalModel> models, UpstreamOptions upstream)
    {
        var details = new JsonObject
        {
            ["urls"] = new JsonArray([.. settings.Urls.Select(u => JsonValue.Create(u))]),
            ["models"] = new JsonArray([.. models.Select(m => m.Route).Select(r => (JsonNode)new JsonObject { ["id"] = r.Id, ["kind"] = r.Kind, ["digest"] = r.Digest, ["source"] = r.Source })]),
            ["upstreamBackends"] = new JsonArray([.. upstream.Backends.Select(b => (JsonNode)new JsonObject { ["name"] = b.Name, ["baseUrl"] = b.BaseUrl, ["models"] = new JsonArray([.. b.Models.Select(m => JsonValue.Create(m))]) })]),
            ["retention"] = settings.Retention.Enabled ? $"{settings.Retention.Days} days" : "off",
        };
        await ledger.AppendAsync(new AuditEvent
        {
            Type = "server.started",
            Time = clock.GetUtcNow(),
            Actor = "system",
            Subject = "server",
            Details = JsonSerializer.SerializeToElement(details),
        }).ConfigureAwait(false);
    }

    internal static SqliteLedger OpenOrInitialize(CliContext context, string dataDirectory, TimeSpan checkpointInterval)
    {
        var options = new LedgerOptions { DataDirectory = dataDirectory, Purpose = "enclave serve", CheckpointInterval = checkpointInterval };
        try
        {
            return SqliteLedger.Open(options, context.Clock);
        }
        catch (LedgerNotFoundException)
        {
            var keys = SqliteLedger.Initialize(dataDirectory, DefaultOrigin(), postQuantum: false, context.Clock);
            context.Error.WriteLine($"initialised a new ledger in {dataDirectory}; its verifier key: {keys[0]}");
            return SqliteLedger.Open(options, context.Clock);
        }
    }

    internal static string DefaultOrigin()
    {
        var host = new string([.. Environment.MachineName.ToLowerInvariant().Where(c => char.IsAsciiLetterOrDigit(c) || c is '-' or '.')]);
        return (host.Length == 0 ? "localhost" : host) + "/enclave-ledger";
    }
}
