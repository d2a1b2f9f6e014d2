using System.Security.Cryptography.X509Certificates;
using Enclave.Airlock.Import;
using Enclave.Ledger;
using Enclave.Policy.Identity;
using Enclave.Server.Admin;
using Enclave.Server.Audit;
using Enclave.Server.Auth;
using Enclave.Server.OpenAi;
using Enclave.Server.Retention;
using Enclave.Server.Policy;
using Enclave.Server.Telemetry;
using OpenTelemetry.Metrics;
using OpenTelemetry.Resources;
using OpenTelemetry.Trace;
using Microsoft.AspNetCore.Builder;
using Microsoft.AspNetCore.DataProtection;
using Microsoft.AspNetCore.Hosting;
using Microsoft.AspNetCore.Http;
using Microsoft.Extensions.Configuration;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.DependencyInjection.Extensions;
using Microsoft.Extensions.Hosting;
using Microsoft.Extensions.Logging;

namespace Enclave.Server.Hosting;

/// <summary>Builds the enclave's web host: OpenAI API on <c>/v1</c>, admin API on <c>/admin/v1</c>, health endpoints.</summary>
public static class EnclaveServer
{
    /// <summary>
    /// Builds the server over an open ledger (the server holds the data directory's writer lock through it).
    /// The caller owns <paramref name="ledger"/> and disposes it after the app stops. <paramref name="configuration"/>
    /// is the enclave configuration (<c>Policy</c>, <c>Quotas</c>; null: defaults only); <paramref name="services"/> adds
    /// registrations (tests, embedding hosts) after the enclave's own. <paramref name="airlock"/> is the data directory's
    /// airlock importer, already recovered (<see cref="AirlockHosting.RecoverAsync"/>) by a caller that read its activated
    /// models into <paramref name="catalog"/>; when null the server creates one and recovers it before it listens.
    /// </summary>
    public static WebApplication Build(
        ServerSettings settings,
        SqliteLedger ledger,
        ModelCatalog catalog,
        TimeProvider clock,
        Action<ILoggingBuilder>? logging = null,
        IConfiguration? configuration = null,
        Action<IServiceCollection>? services = null,
        AirlockImporter? airlock = null)
    {
        ArgumentNullException.ThrowIfNull(settings);
        ArgumentNullException.ThrowIfNull(ledger);
        var problems = settings.Validate();
        if (problems.Count > 0)
        {
            throw new ArgumentException("invalid server settings:\n- " + string.Join("\n- ", problems), nameof(settings));
        }

        var builder = WebApplication.CreateSlimBuilder(new WebApplicationOptions { Args = [] });
        builder.Logging.ClearProviders();
        if (logging is not null)
        {
            logging(builder.Logging);
        }
        else
        {
            builder.Logging.AddSimpleConsole(o => o.SingleLine = true).SetMinimumLevel(LogLevel.Warning);
        }

        builder.WebHost.UseUrls([.. settings.Urls]);
        builder.WebHost.UseKestrelHttpsConfiguration(); // the slim builder leaves https:// addresses unsupported otherwise
        builder.WebHost.ConfigureKestrel(kestrel =>
        {
            kestrel.AddServerHeader = false;
            kestrel.Limits.MaxRequestBodySize = settings.MaxRequestBytes;
            if (settings.CertificatePath is { } cert && settings.CertificateKeyPath is { } key)
            {
                var certificate = X509Certificate2.CreateFromPemFile(cert, key);
                kestrel.ConfigureHttpsDefaults(https => https.ServerCertificate = certificate);
            }
        });

        builder.Services.AddSingleton(settings);
        builder.Services.AddSingleton(clock);
        builder.Services.AddSingleton(catalog);
        builder.Services.AddSingleton(ledger);
        builder.Services.AddSingleton<ILedger>(ledger);
        builder.Services.TryAddSingleton<RequestAuditor>();
        if (settings.Retention.Enabled)
        {
            builder.Services.AddSingleton(_ => new ContentRetentionStore(settings.DataDirectory, RetentionKey.Load(settings.Retention.KeyFile!), TimeSpan.FromDays(settings.Retention.Days), clock));
            builder.Services.AddHostedService<RetentionPurgeService>();
        }

        builder.Services.TryAddSingleton<RequestHandler>();
        builder.Services.AddEnclavePolicy(configuration ?? new ConfigurationBuilder().Build(), catalog, settings.DataDirectory, clock);
        var importer = airlock ?? AirlockHosting.CreateImporter(settings.DataDirectory, ledger, clock, settings.Airlock);
        builder.Services.AddSingleton(importer);
        builder.Services.AddSingleton(sp => new AirlockModels(catalog, sp.GetRequiredService<EnclavePolicy>(), clock));
        if (airlock is null)
        {
            builder.Services.AddHostedService(_ => new AirlockHosting.Recovery(importer));
        }

        // Nothing here uses cookies or protected payloads; keep ASP.NET's data-protection keys in memory, not on disk.
        builder.Services.AddDataProtection().UseEphemeralDataProtectionProvider();
        builder.Services.AddProblemDetails();
        builder.Services.AddEnclaveAuthentication(settings, clock);
        builder.Services.AddAuthorization();
        builder.Services.AddSingleton(sp => new EnclaveTelemetry(sp.GetRequiredService<System.Diagnostics.Metrics.IMeterFactory>(), () => ledger.Size));
        var telemetry = builder.Services.AddOpenTelemetry()
            .ConfigureResource(resource => resource.AddService("enclave"))
            .WithMetrics(metrics =>
            {
                metrics.AddMeter(EnclaveTelemetry.Name).AddAspNetCoreInstrumentation().AddPrometheusExporter();
                if (settings.OtlpEndpoint is { } endpoint)
                {
                    metrics.AddOtlpExporter(o => o.Endpoint = endpoint);
                }
            });
        if (settings.OtlpEndpoint is { } traceEndpoint)
        {
            // Traces have nowhere to go without a collector; recording them anyway cost 19 % of gateway throughput.
            telemetry.WithTracing(tracing => tracing
                .AddSource(EnclaveTelemetry.Name).AddAspNetCoreInstrumentation().AddHttpClientInstrumentation()
                .AddOtlpExporter(o => o.Endpoint = traceEndpoint));
        }

        services?.Invoke(builder.Services);
        var app = builder.Build();
        app.UseErrorBodies();
        app.UseAuthentication();
        app.UseAuthorization();
        app.MapGet("/healthz", () => Results.Text("ok\n"));
        app.MapGet("/readyz", (ILedger log) => Results.Json(new { status = "ready", ledgerSize = log.Size }));
        app.MapOpenAi();
        // Metrics name models and counts: scraping needs an admin or auditor key (Prometheus: authorization.credentials).
        app.MapPrometheusScrapingEndpoint("/metrics").RequireAuthorization(p => p.RequireRole(Roles.Admin, Roles.Auditor));
        app.MapAdminApi();
        return app;
    }
}
