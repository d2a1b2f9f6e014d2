using Enclave.Core;
using Enclave.Ledger.Merkle;

namespace Enclave.Ledger.Tests.Merkle;

/// <summary>
/// A consistent tree of any size up to long.MaxValue whose leaves are all the same hash:
/// the subtree hash at level l is Node(h(l-1), h(l-1)). Lets tests exercise 63-level trees.
/// </summary>
internal sealed class UniformHashSource : IMerkleHashSource
{
    private readonly Sha256Digest[] _levels = new Sha256Digest[63];

    public UniformHashSource(long size)
    {
        Size = size;
        _levels[0] = MerkleHash.Leaf("uniform"u8);
        for (var level = 1; level < _levels.Length; level++)
        {
            _levels[level] = MerkleHash.Node(_levels[level - 1], _levels[level - 1]);
        }
    }

    public long Size { get; }

    public Sha256Digest LeafHash => _levels[0];

    public Sha256Digest GetHash(int level, long index)
    {
        if (level < 0 || level > 62 || index < 0 || index >= Size >> level)
        {
            throw new InvalidOperationException($"({level}, {index}) is not complete in a tree of {Size}");
        }

        return _levels[level];
    }
}
