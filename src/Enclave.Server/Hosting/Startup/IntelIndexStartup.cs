using Enclave.Intel.Live;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Hosting;

namespace Enclave.Server.Hosting.Startup;

/// <summary>
/// Start-up stage 6, before the server listens: the live indicator index is built from the indicator store (the
/// intelligence earlier activations loaded), so the first request and the first import are already screened.
/// </summary>
internal sealed class IntelIndexStartup(IServiceProvider services) : IHostedService
{
    public Task StartAsync(CancellationToken cancellationToken)
    {
        services.GetRequiredService<LiveIndicators>().Reload();
        return Task.CompletedTask;
    }

    public Task StopAsync(CancellationToken cancellationToken) => Task.CompletedTask;
}
