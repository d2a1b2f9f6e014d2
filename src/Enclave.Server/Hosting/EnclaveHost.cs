using System.Security.Cryptography.X509Certificates;
using Enclave.Core.Audit;
using Enclave.Ledger;
using Enclave.OperatorConsole.Hosting;
using Enclave.Policy.Identity;
using Enclave.Server.Admin;
using Enclave.Server.OpenAi;
using Microsoft.AspNetCore.Builder;
using Microsoft.AspNetCore.Hosting;
using Microsoft.AspNetCore.Http;
using Microsoft.Extensions.Configuration;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Logging;
using Microsoft.Extensions.Options;

namespace Enclave.Server.Hosting;

/// <summary>
/// Builds the enclave's web host over <see cref="EnclaveServices.AddEnclave"/>: OpenAI API on <c>/v1</c>, admin API on
/// <c>/admin/v1</c>, the operator console on <c>/console</c>, <c>/metrics</c>, health endpoints. <c>enclave serve</c>, <c>enclave up</c>, the benchmarks and the
/// tests all build the server here.
/// </summary>
public static class EnclaveHost
{
    /// <summary>
    /// The server over <paramref name="configuration"/> (sections in <see cref="EnclaveConfiguration"/>; the
    /// <c>Server</c> section names the data directory and the URLs). <paramref name="services"/> runs before
    /// <see cref="EnclaveServices.AddEnclave"/>, so that what it registers (a clock, a model catalog, an
    /// <see cref="Startup.EnclaveStartupReport"/>) takes the place of the enclave's own and nothing else changes.
    /// <paramref name="logging"/> replaces the default (warnings and errors, one line each, on the console).
    /// The start-up stages run in <see cref="WebApplication.StartAsync"/>, which throws
    /// <see cref="OptionsValidationException"/> (or an <see cref="AggregateException"/> of them) listing every problem
    /// with the configuration; <see cref="Problems"/> flattens it. The container owns the ledger and every store:
    /// disposing the application closes them and releases the data directory.
    /// </summary>
    public static WebApplication Create(IConfiguration configuration, Action<IServiceCollection>? services = null, Action<ILoggingBuilder>? logging = null)
    {
        ArgumentNullException.ThrowIfNull(configuration);
        var settings = EnclaveConfiguration.Server(configuration);
        var builder = WebApplication.CreateSlimBuilder(new WebApplicationOptions { Args = [] });
        builder.Logging.ClearProviders();
        if (logging is not null)
        {
            logging(builder.Logging);
        }
        else
        {
            builder.Logging.AddSimpleConsole(o => o.SingleLine = true).SetMinimumLevel(LogLevel.Warning);

            // Logs go to standard error: standard output is the command's own (the key printed once, `up --json`).
            builder.Services.Configure<Microsoft.Extensions.Logging.Console.ConsoleLoggerOptions>(o => o.LogToStandardErrorThreshold = LogLevel.Trace);
        }

        // A start that fails throws to the caller, which says what was wrong; the host's own copy of it is noise.
        builder.Logging.AddFilter("Microsoft.Extensions.Hosting.Internal.Host", LogLevel.Critical);
        // The console's data-protection keys live in the data directory beside the ledger's keys, protected as they
        // are (by the directory's permissions); data protection's warning that they are not encrypted at rest is noise.
        builder.Logging.AddFilter("Microsoft.AspNetCore.DataProtection", LogLevel.Error);

        builder.WebHost.UseUrls([.. settings.Urls]);
        builder.WebHost.UseKestrelHttpsConfiguration(); // the slim builder leaves https:// addresses unsupported otherwise
        builder.WebHost.ConfigureKestrel(kestrel =>
        {
            // Kestrel is configured while the application is built, before the settings are validated: only values
            // that are safe unvalidated are read here. The certificate is loaded when an https endpoint binds, which is
            // after validation (the host validates, then starts its hosted services, then the server).
            kestrel.AddServerHeader = false;
            kestrel.Limits.MaxRequestBodySize = settings.MaxRequestBytes;
            if (settings.CertificatePath is { } cert && settings.CertificateKeyPath is { } key)
            {
                var certificate = new Lazy<X509Certificate2>(() => X509Certificate2.CreateFromPemFile(cert, key));
                kestrel.ConfigureHttpsDefaults(https => https.ServerCertificate = certificate.Value);
            }
        });

        services?.Invoke(builder.Services);
        builder.Services.AddEnclave(configuration);
        var app = builder.Build();
        app.UseErrorBodies();
        app.UseEnclaveConsoleHeaders();
        app.UseAuthentication();
        app.UseAuthorization();
        app.UseAntiforgery();
        app.MapGet("/healthz", () => Results.Text("ok\n"));
        app.MapGet("/readyz", (ILedger log) => Results.Json(new { status = "ready", ledgerSize = log.Size }));
        app.MapOpenAi();
        // Metrics name models and counts: scraping needs an admin or auditor key (Prometheus: authorization.credentials).
        app.MapPrometheusScrapingEndpoint("/metrics").RequireAuthorization(p => p.RequireRole(Roles.Admin, Roles.Auditor));
        app.MapAdminApi();
        app.MapEnclaveConsole();
        return app;
    }

    /// <summary>
    /// Every configuration problem in <paramref name="exception"/> (what <see cref="WebApplication.StartAsync"/> throws
    /// when validation on start fails); empty when it is not a validation failure.
    /// </summary>
    public static IReadOnlyList<string> Problems(Exception exception) => exception switch
    {
        OptionsValidationException validation => [.. validation.Failures],
        AggregateException aggregate when aggregate.InnerExceptions.All(e => e is OptionsValidationException) =>
            [.. aggregate.InnerExceptions.SelectMany(e => ((OptionsValidationException)e).Failures)],
        _ => [],
    };
}
