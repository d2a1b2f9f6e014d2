using System.Text.Json;
using Enclave.Core.Audit;
using Enclave.Core.Hosting;
using Enclave.Inference.Upstream;
using Enclave.Ledger;
using Microsoft.Extensions.DependencyInjection;

namespace Enclave.Server.Hosting.Startup;

/// <summary>
/// Start-up stage 5, the last before the server listens: one <c>server.started</c> entry naming every model the
/// built-in engine serves, with its digest and where it came from (<c>airlock:IMPORT-ID</c> for an airlock import,
/// <c>dev:folder</c> for a folder registered past the airlock), and every upstream backend.
/// </summary>
internal sealed class ServerStartedStartup(IServiceProvider services) : StartupStage(services)
{
    protected override async Task RunAsync(CancellationToken cancellationToken)
    {
        var settings = Services.GetRequiredService<ServerSettings>();
        var upstream = Services.GetRequiredService<UpstreamOptions>();
        var models = Services.GetRequiredService<EnclaveStartupReport>().Models ?? [];
        var details = new ServerStartedDetails
        {
            Urls = [.. settings.Urls],
            Models = [.. models.Select(r => new ServerStartedModel { Id = r.Id, Kind = r.Kind, Digest = r.Digest, Source = r.Source })],
            UpstreamBackends = [.. upstream.Backends.Select(b => new ServerStartedBackend { Name = b.Name, BaseUrl = b.BaseUrl, Models = [.. b.Models] })],
            Retention = settings.Retention.Enabled ? $"{settings.Retention.Days} days" : "off",
        };
        var started = AuditEvent.Create(Services.GetRequiredService<TimeProvider>().GetUtcNow(), "system", "server", details);
        await Services.GetRequiredService<ILedger>().AppendAsync(started, cancellationToken).ConfigureAwait(false);
    }

}
