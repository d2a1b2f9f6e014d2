using Enclave.Core.Hosting;
using Microsoft.Extensions.DependencyInjection;

namespace Enclave.Ledger.Hosting;

/// <summary>
/// Start-up stage 1: opens the ledger (initialising it when the data directory has none), which takes the data
/// directory's writer lock before any other stage touches the directory; a directory another process holds fails here
/// (<see cref="Enclave.Core.Storage.DataDirectoryLockedException"/>). The ledger is resolved when the stage runs, after
/// the configuration was validated, not when the host constructs its hosted services.
/// </summary>
internal sealed class LedgerStartup(IServiceProvider services) : StartupStage(services)
{
    protected override Task RunAsync(CancellationToken cancellationToken)
    {
        _ = Services.GetRequiredService<SqliteLedger>();
        return Task.CompletedTask;
    }
}
