namespace Enclave.Core.Audit;

/// <summary>
/// The ledger as other components use it in-process: append an audit event (durable before the task completes),
/// get a signed checkpoint, prove inclusion and consistency, read an entry back. It lives in Core so that components
/// that only append (the airlock, intel) do not reference the SQLite ledger (<c>Enclave.Ledger.SqliteLedger</c>).
/// </summary>
public interface ILedger
{
    /// <summary>The log's origin (the first line of its checkpoints).</summary>
    string Origin { get; }

    /// <summary>Number of durable entries.</summary>
    long Size { get; }

    /// <summary>
    /// Appends <paramref name="auditEvent"/> and returns its index once it is on disk. If storage fails, the task
    /// fails and nothing is acknowledged. Cancelling before the event is queued leaves the log unchanged; after that
    /// the event may still be written (its index is then simply not returned).
    /// </summary>
    ValueTask<long> AppendAsync(AuditEvent auditEvent, CancellationToken cancellationToken = default);

    /// <summary>Publishes a signed checkpoint of everything appended so far and returns it.</summary>
    ValueTask<SignedCheckpoint> CheckpointAsync(CancellationToken cancellationToken = default);

    /// <summary>RFC 9162 inclusion proof of <paramref name="index"/> in the tree of <paramref name="treeSize"/> entries.</summary>
    IReadOnlyList<Sha256Digest> ProveInclusion(long index, long treeSize);

    /// <summary>RFC 9162 consistency proof between two tree sizes.</summary>
    IReadOnlyList<Sha256Digest> ProveConsistency(long oldSize, long newSize);

    /// <summary>The exact bytes of entry <paramref name="index"/>.</summary>
    byte[] ReadEntry(long index);
}
