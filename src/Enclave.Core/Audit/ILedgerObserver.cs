namespace Enclave.Core.Audit;

/// <summary>
/// Sees every ledger entry once it is durable (committed, its append acknowledged), in index order, on the ledger's
/// sequencer thread. An observer must return at once and never block or wait: the sequencer is the ledger's
/// throughput ceiling. <see cref="LedgerFeed"/> is the observer to use: it hands entries to a consumer on another
/// thread through a bounded channel and lets the consumer catch up from the store when it lags.
/// </summary>
public interface ILedgerObserver
{
    /// <summary>Entry <paramref name="index"/> (its exact bytes) is durable. Do not keep a reference to <paramref name="entry"/> beyond the consumer's use; it is not changed afterwards.</summary>
    void OnAppended(long index, byte[] entry);
}
