using Enclave.Airlock.Import;
using Microsoft.Extensions.Hosting;

namespace Enclave.Server.Hosting.Startup;

/// <summary>
/// Start-up stage 2: airlock crash recovery (<see cref="AirlockImporter.RecoverAsync"/>), while the ledger holds the
/// data directory and before models are loaded from the airlock's state or the server listens. What it did goes to
/// the <see cref="EnclaveStartupReport"/> in one line.
/// </summary>
internal sealed class AirlockRecoveryStartup(AirlockImporter importer, EnclaveStartupReport report) : IHostedService
{
    public async Task StartAsync(CancellationToken cancellationToken)
    {
        if (AirlockHosting.Describe(await AirlockHosting.RecoverAsync(importer, cancellationToken).ConfigureAwait(false)) is { } recovered)
        {
            report.Notice(recovered);
        }
    }

    public Task StopAsync(CancellationToken cancellationToken) => Task.CompletedTask;
}
