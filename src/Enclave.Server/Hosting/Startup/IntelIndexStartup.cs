using Enclave.Core.Hosting;
using Enclave.Intel.Alerts;
using Enclave.Intel.Live;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Hosting;
using Microsoft.Extensions.Logging;

namespace Enclave.Server.Hosting.Startup;

/// <summary>
/// Start-up stage 6, before the server listens: the live indicator index is built from the indicator store (the
/// intelligence earlier activations loaded), so the first request and the first import are already screened; the
/// upstream backends (stage 3's router) are guarded by <see cref="UpstreamIntelGuard"/>.
/// </summary>
internal sealed partial class IntelIndexStartup(IServiceProvider services) : StartupStage(services), IDisposable
{
    private UpstreamIntelGuard? _guard;

    protected override Task RunAsync(CancellationToken cancellationToken)
    {
        var live = Services.GetRequiredService<LiveIndicators>();
        live.Reload();
        if (Services.GetServices<IHostedService>().OfType<ModelLoadingStartup>().FirstOrDefault()?.Router is { } router)
        {
            var logger = Services.GetRequiredService<ILoggerFactory>().CreateLogger("Enclave.Intel.UpstreamIntelGuard");
            _guard = new UpstreamIntelGuard(router, live, Services.GetRequiredService<AlertService>(), e => Log.GuardFailed(logger, e));
            _guard.Start(Services.GetRequiredService<TimeProvider>());
        }

        return Task.CompletedTask;
    }

    public void Dispose() => _guard?.Dispose();

    private static partial class Log
    {
        [LoggerMessage(EventId = 8002, Level = LogLevel.Error, Message = "Checking upstream backends against threat intelligence failed; the withdrawals stand, an alert may be missing")]
        public static partial void GuardFailed(ILogger logger, Exception exception);
    }
}
