using Enclave.Airlock.Import;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Hosting;

namespace Enclave.Server.Hosting.Startup;

/// <summary>
/// Start-up stage 2: airlock crash recovery (<see cref="AirlockImporter.RecoverAsync"/>), while the ledger holds the
/// data directory and before models are loaded from the airlock's state or the server listens. What it did goes to
/// the <see cref="EnclaveStartupReport"/> in one line. The importer is resolved when the stage runs, not when the host
/// constructs its hosted services (which it does before it validates the configuration).
/// </summary>
internal sealed class AirlockRecoveryStartup(IServiceProvider services) : IHostedService
{
    public async Task StartAsync(CancellationToken cancellationToken)
    {
        var importer = services.GetRequiredService<AirlockImporter>();
        if (AirlockHosting.Describe(await AirlockHosting.RecoverAsync(importer, cancellationToken).ConfigureAwait(false)) is { } recovered)
        {
            services.GetRequiredService<EnclaveStartupReport>().Notice(recovered);
        }
    }

    public Task StopAsync(CancellationToken cancellationToken) => Task.CompletedTask;
}
