using Enclave.Core;
using Enclave.Core.Audit;
using Enclave.Ledger;
using Enclave.Ledger.Merkle;

namespace Enclave.Bench.Gateway;

/// <summary>
/// An <see cref="ILedger"/> that does on the caller's thread exactly what <see cref="SqliteLedger.AppendAsync"/> does
/// there (canonical encoding and the leaf hash) and stores nothing, so the request auditor's own CPU can be measured
/// apart from storage.
/// </summary>
internal sealed class EncodeOnlyLedger : ILedger
{
    private long _size;

    public string Origin => BenchSettings.Origin;

    public long Size => Interlocked.Read(ref _size);

    /// <summary>Bytes of the last encoded entry.</summary>
    public int LastEntryBytes { get; private set; }

    public ValueTask<long> AppendAsync(AuditEvent auditEvent, CancellationToken cancellationToken = default)
    {
        ArgumentNullException.ThrowIfNull(auditEvent);
        var entry = auditEvent.ToCanonicalJson();
        _ = MerkleHash.Leaf(entry);
        LastEntryBytes = entry.Length;
        return ValueTask.FromResult(Interlocked.Increment(ref _size) - 1);
    }

    public ValueTask<SignedCheckpoint> CheckpointAsync(CancellationToken cancellationToken = default) => throw new NotSupportedException();

    public IReadOnlyList<Sha256Digest> ProveInclusion(long index, long treeSize) => throw new NotSupportedException();

    public IReadOnlyList<Sha256Digest> ProveConsistency(long oldSize, long newSize) => throw new NotSupportedException();

    public byte[] ReadEntry(long index) => throw new NotSupportedException();
}
