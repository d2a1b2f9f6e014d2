using Enclave.Airlock.Import;
using Enclave.Core.Audit;
using Enclave.Ledger;
using Microsoft.Extensions.Logging;

namespace Enclave.Server.Hosting;

/// <summary>The server's airlock importer: one per data directory, recovered before the server listens (start-up stage 2, <c>AirlockRecoveryStartup</c> in <c>Enclave.Airlock</c>).</summary>
public static class AirlockHosting
{
    /// <summary>
    /// The importer over the server's data directory and ledger, under the <c>Airlock</c> settings (default approvals:
    /// models 2, updates 2, intel 1, datasets 1); blobs, artifacts and quarantines in <paramref name="sharedDirectory"/>
    /// when one is given (replicas).
    /// </summary>
    public static AirlockImporter CreateImporter(string dataDirectory, ILedger ledger, TimeProvider clock, AirlockSettings? settings = null, State.StateConnectionFactory? state = null, ILogger<AirlockImporter>? logger = null, string? sharedDirectory = null)
    {
        ArgumentException.ThrowIfNullOrEmpty(dataDirectory);
        return new AirlockImporter((settings ?? new AirlockSettings()).ToImportOptions(dataDirectory) with { State = state, SharedDirectory = sharedDirectory }, ledger, clock, logger);
    }

    /// <summary>
    /// Crash recovery, once at start-up while the ledger (the data directory's lock) is held and before the server
    /// listens: sweeps interrupted bundle reads (<c>BundleReader.SweepIncomplete</c>), temporary blobs and orphan
    /// quarantines, undoes unfinished promotions and rejects pending imports whose quarantine vanished.
    /// </summary>
    public static Task<ImportRecoveryReport> RecoverAsync(AirlockImporter importer, CancellationToken cancellationToken = default)
    {
        ArgumentNullException.ThrowIfNull(importer);
        return importer.RecoverAsync(cancellationToken);
    }
}
