using System.Text.Json;
using Enclave.Core.Audit;
using Enclave.Inference.Upstream;
using Enclave.Ledger;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Hosting;

namespace Enclave.Server.Hosting.Startup;

/// <summary>
/// Start-up stage 5, the last before the server listens: one <c>server.started</c> entry naming every model the
/// built-in engine serves, with its digest and where it came from (<c>airlock:IMPORT-ID</c> for an airlock import,
/// <c>dev:folder</c> for a folder registered past the airlock), and every upstream backend.
/// </summary>
internal sealed class ServerStartedStartup(IServiceProvider services) : IHostedService
{
    public async Task StartAsync(CancellationToken cancellationToken)
    {
        var settings = services.GetRequiredService<ServerSettings>();
        var upstream = services.GetRequiredService<UpstreamOptions>();
        var models = services.GetRequiredService<EnclaveStartupReport>().Models ?? [];
        var details = new ServerStartedDetails
        {
            Urls = [.. settings.Urls],
            Models = [.. models.Select(r => new ServerStartedModel { Id = r.Id, Kind = r.Kind, Digest = r.Digest, Source = r.Source })],
            UpstreamBackends = [.. upstream.Backends.Select(b => new ServerStartedBackend { Name = b.Name, BaseUrl = b.BaseUrl, Models = [.. b.Models] })],
            Retention = settings.Retention.Enabled ? $"{settings.Retention.Days} days" : "off",
        };
        var started = AuditEvent.Create(services.GetRequiredService<TimeProvider>().GetUtcNow(), "system", "server", details);
        await services.GetRequiredService<ILedger>().AppendAsync(started, cancellationToken).ConfigureAwait(false);
    }

    public Task StopAsync(CancellationToken cancellationToken) => Task.CompletedTask;
}
