using Enclave.Core;
using Enclave.Ledger.Merkle;

namespace Enclave.Ledger.Tests.Merkle;

/// <summary>
/// Wraps a source, refuses any subtree that is not complete within the first <c>size</c> leaves,
/// and counts reads, so tests catch a generator that peeks past the tree or reads too much.
/// </summary>
internal sealed class RecordingSource(IMerkleHashSource inner, long size) : IMerkleHashSource
{
    public int Reads { get; private set; }

    public Sha256Digest GetHash(int level, long index)
    {
        if (level < 0 || level > 62 || index < 0 || index >= size >> level)
        {
            throw new InvalidOperationException($"read of ({level}, {index}) outside the complete subtrees of a tree of {size}");
        }

        Reads++;
        return inner.GetHash(level, index);
    }
}
