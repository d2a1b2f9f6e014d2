using Microsoft.Extensions.Logging;

namespace Enclave.Ledger;

/// <summary>
/// The ledger writer's log messages, event IDs 2001–2099, 2101–2199 and 2201–2299 (docs/architecture.md, "Logging"): storage and signing
/// failures of the sequencer, which its callers see only as a failed append. Sizes and counts, never an entry's content.
/// </summary>
internal static partial class LedgerLog
{
    [LoggerMessage(EventId = 2001, Level = LogLevel.Error, Message = "the ledger could not commit a batch of {Count} entries at tree size {TreeSize}; none of them were appended and their callers got an error")]
    public static partial void CommitFailed(ILogger logger, Exception exception, int count, long treeSize);

    [LoggerMessage(EventId = 2002, Level = LogLevel.Error, Message = "the ledger could not sign the checkpoint of tree size {TreeSize}; the batch that needed it was not committed")]
    public static partial void CheckpointSigningFailed(ILogger logger, Exception exception, long treeSize);

    [LoggerMessage(EventId = 2003, Level = LogLevel.Error, Message = "the ledger could not publish its due checkpoint at tree size {TreeSize}; it tries again with the next batch")]
    public static partial void DueCheckpointFailed(ILogger logger, Exception exception, long treeSize);

    [LoggerMessage(EventId = 2004, Level = LogLevel.Warning, Message = "the ledger could not reload its state from storage after a failure; it tries again before the next batch")]
    public static partial void ReloadFailed(ILogger logger, Exception exception);

    [LoggerMessage(EventId = 2005, Level = LogLevel.Information, Message = "the ledger commits again after a failure; tree size {TreeSize}")]
    public static partial void Recovered(ILogger logger, long treeSize);

    [LoggerMessage(EventId = 2101, Level = LogLevel.Information, Message = "the ledger shares its database with other writers; this writer signs checkpoints at start: {Signer}")]
    public static partial void SignerAtOpen(ILogger logger, bool signer);

    [LoggerMessage(EventId = 2102, Level = LogLevel.Warning, Message = "this writer took over the checkpoint signer lease (the previous signer stopped or lost its connection) at tree size {TreeSize}; it signs the log's checkpoints now")]
    public static partial void BecameSigner(ILogger logger, long treeSize);

    [LoggerMessage(EventId = 2103, Level = LogLevel.Warning, Message = "this writer no longer holds the checkpoint signer lease (its lease connection failed); it appends without signing, and another replica signs")]
    public static partial void StoppedSigning(ILogger logger, Exception? exception);

    [LoggerMessage(EventId = 2201, Level = LogLevel.Error, Message = "the ledger could not integrate sequenced entries into the tree at tree size {TreeSize}; the entries stay stored and acknowledged, and it tries again at its next round")]
    public static partial void IntegrationFailed(ILogger logger, Exception exception, long treeSize);

    [LoggerMessage(EventId = 2202, Level = LogLevel.Warning, Message = "the tree has not grown for two signer lease intervals while {Waiting} sequenced entries wait beyond tree size {TreeSize}; this writer integrates them (the signer may be down) until the tree moves again")]
    public static partial void IntegratingForStalledSigner(ILogger logger, long treeSize, long waiting);
}
