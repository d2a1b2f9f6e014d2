using Enclave.Airlock.Import;
using Enclave.Core.Audit;
using Enclave.Ledger;
using Microsoft.Extensions.Logging;

namespace Enclave.Server.Hosting;

/// <summary>The server's airlock importer: one per data directory, recovered before the server listens (start-up stage 2, <see cref="Startup.AirlockRecoveryStartup"/>).</summary>
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

    /// <summary>What recovery did, in one line for the operator; null when there was nothing to do.</summary>
    public static string? Describe(ImportRecoveryReport report)
    {
        ArgumentNullException.ThrowIfNull(report);
        var parts = new List<string>();
        if (report.QuarantinesRemoved.Count > 0)
        {
            parts.Add($"{report.QuarantinesRemoved.Count} interrupted quarantine(s) removed");
        }

        if (report.PromotionsUndone.Count > 0)
        {
            parts.Add($"unfinished activation(s) undone: {string.Join(", ", report.PromotionsUndone)} (approve again to activate)");
        }

        if (report.TemporaryBlobsRemoved > 0)
        {
            parts.Add($"{report.TemporaryBlobsRemoved} temporary blob file(s) removed");
        }

        if (report.ImportsLost.Count > 0)
        {
            parts.Add($"pending import(s) rejected because their quarantine vanished: {string.Join(", ", report.ImportsLost)}");
        }

        return parts.Count == 0 ? null : "airlock recovery: " + string.Join("; ", parts);
    }
}
