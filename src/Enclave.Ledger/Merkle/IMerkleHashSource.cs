using Enclave.Core;

namespace Enclave.Ledger.Merkle;

/// <summary>
/// Reads hashes of complete, aligned subtrees of a Merkle tree. Proof generation asks only for
/// O(log n) of them, so an implementation may be backed by tiles, a database or memory.
/// </summary>
public interface IMerkleHashSource
{
    /// <summary>
    /// Returns the hash of the complete subtree at <paramref name="level"/> that covers leaves
    /// [<paramref name="index"/> &lt;&lt; level, (<paramref name="index"/> + 1) &lt;&lt; level).
    /// A level-0 hash is a leaf hash. Implementations throw when that subtree is not complete
    /// (or not stored); they never return a hash they do not have.
    /// </summary>
    Sha256Digest GetHash(int level, long index);
}
