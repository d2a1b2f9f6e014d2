using Enclave.Ledger;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Hosting;

namespace Enclave.Server.Hosting.Startup;

/// <summary>
/// Start-up stage 1: opens the ledger (initialising it when the data directory has none), which takes the data
/// directory's writer lock before any other stage touches the directory; a directory another process holds fails here
/// (<see cref="Enclave.Core.Storage.DataDirectoryLockedException"/>). The ledger is resolved when the stage runs, after
/// the configuration was validated, not when the host constructs its hosted services.
/// </summary>
internal sealed class LedgerStartup(IServiceProvider services) : IHostedService
{
    public Task StartAsync(CancellationToken cancellationToken)
    {
        _ = services.GetRequiredService<SqliteLedger>();
        return Task.CompletedTask;
    }

    public Task StopAsync(CancellationToken cancellationToken) => Task.CompletedTask;
}
