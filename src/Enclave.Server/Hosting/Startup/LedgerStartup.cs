using Enclave.Ledger;
using Microsoft.Extensions.Hosting;

namespace Enclave.Server.Hosting.Startup;

/// <summary>
/// Start-up stage 1: the ledger is open (or initialised) and holds the data directory's writer lock before any other
/// stage touches the directory. The host resolves its hosted services in registration order, so the ledger is the
/// first thing it opens; a data directory another process holds fails here (<see cref="Enclave.Core.Storage.DataDirectoryLockedException"/>).
/// </summary>
internal sealed class LedgerStartup(SqliteLedger ledger) : IHostedService
{
    /// <summary>The ledger this host writes to, opened when the host resolved this stage.</summary>
    public SqliteLedger Ledger { get; } = ledger;

    public Task StartAsync(CancellationToken cancellationToken) => Task.CompletedTask;

    public Task StopAsync(CancellationToken cancellationToken) => Task.CompletedTask;
}
