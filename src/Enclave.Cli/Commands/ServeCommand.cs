using System.CommandLine;
using System.Globalization;
using Enclave.Server.Auth;
using Enclave.Server.Hosting;
using Enclave.Server.Hosting.Startup;
using Microsoft.Extensions.Configuration;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Hosting;

namespace Enclave.Cli.Commands;

/// <summary><c>enclave serve</c>: the OpenAI-compatible API, the admin API and health endpoints over one data directory.</summary>
internal static class ServeCommand
{
    internal sealed record ServerStart(IReadOnlyList<string> Urls, string? AdminKey);

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
    /// Builds the server through the composition root (<see cref="EnclaveHost.Create"/> over the configuration file,
    /// <c>ENCLAVE__</c> variables and the command line's settings, which win), starts it — the start-up stages open or
    /// initialise the data directory, recover the airlock, load the models and make sure an admin key exists (kept in
    /// <paramref name="adminKeyFile"/> when given) — and runs it until shutdown. <paramref name="onReady"/> runs once it listens.
    /// </summary>
    internal static async Task RunAsync(CliContext context, ServerSettings settings, string? configPath, Func<ServerStart, Task>? onReady, CancellationToken ct, string? adminKeyFile = null)
    {
        var configuration = new ConfigurationBuilder()
            .AddConfiguration(EnclaveConfiguration.Load(configPath))
            .AddInMemoryCollection(CommandLineSettings(settings, adminKeyFile))
            .Build();
        var report = new EnclaveStartupReport(notice => context.Error.WriteLine(notice));
        await using var app = EnclaveHost.Create(configuration, services =>
        {
            services.AddSingleton(context.Clock);
            services.AddSingleton(report);
            if (Sbom.EnclaveSbomGenerator.Current() is { } own)
            {
                services.AddSingleton(own); // Enclave's own SBOM joins the vulnerability inventory as 'enclave'
            }
        });
        try
        {
            await app.StartAsync(ct).ConfigureAwait(false);
        }
        catch (Exception ex) when (EnclaveHost.Problems(ex) is { Count: > 0 } problems)
        {
            throw new ArgumentException("cannot serve:\n- " + string.Join("\n- ", problems), ex);
        }

        var admin = report.AdminKey ?? new AdminKeyResult();
        if (admin.Created is { } created && adminKeyFile is null)
        {
            await context.Out.WriteLineAsync($"Created the first admin API key (shown once, store it now): {admin.Key}").ConfigureAwait(false);
            await context.Error.WriteLineAsync($"admin key {created.Id} of user '{IdentityBootstrap.AdminUser}' created").ConfigureAwait(false);
        }

        if (onReady is not null)
        {
            await onReady(new ServerStart([.. app.Urls], admin.Key)).ConfigureAwait(false);
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

    /// <summary>The command line's settings as configuration keys of the <c>Server</c> section.</summary>
    private static Dictionary<string, string?> CommandLineSettings(ServerSettings settings, string? adminKeyFile)
    {
        const string server = EnclaveConfiguration.ServerSection + ":";
        var keys = new Dictionary<string, string?>(StringComparer.OrdinalIgnoreCase)
        {
            [server + "DataDirectory"] = settings.DataDirectory,
            [server + "CertificatePath"] = settings.CertificatePath,
            [server + "CertificateKeyPath"] = settings.CertificateKeyPath,
            [server + "AllowInsecureHttp"] = settings.AllowInsecureHttp ? "true" : "false",
            [server + "CheckpointInterval"] = settings.CheckpointInterval.ToString("c", CultureInfo.InvariantCulture),
            [server + "AdminKeyFile"] = adminKeyFile,
        };
        for (var i = 0; i < settings.Urls.Count; i++)
        {
            keys[server + "Urls:" + i.ToString(CultureInfo.InvariantCulture)] = settings.Urls[i];
        }

        return keys;
    }
}
