using System.Buffers;
using System.Security.Cryptography;
using Enclave.Core;

namespace Enclave.Ledger.Merkle;

/// <summary>
/// RFC 9162 §2.1.1 (= RFC 6962 §2.1) Merkle tree hashing with SHA-256:
/// a leaf hash is SHA-256(0x00 || data), an interior node hash is SHA-256(0x01 || left || right),
/// and the root of the empty tree is SHA-256 of the empty string.
/// </summary>
public static class MerkleHash
{
    /// <summary>Domain-separation prefix of a leaf hash.</summary>
    public const byte LeafPrefix = 0x00;

    /// <summary>Domain-separation prefix of an interior node hash.</summary>
    public const byte NodePrefix = 0x01;

    // Leaves up to this many bytes (prefix included) are hashed from a stack buffer.
    private const int StackLimit = 256;

    /// <summary>The root hash of the empty tree: SHA-256 of the empty string.</summary>
    public static Sha256Digest Empty { get; } = Sha256Digest.Compute([]);

    /// <summary>The leaf hash of <paramref name="data"/>: SHA-256(0x00 || data).</summary>
    public static Sha256Digest Leaf(ReadOnlySpan<byte> data)
    {
        if (data.Length < StackLimit)
        {
            Span<byte> buffer = stackalloc byte[data.Length + 1];
            buffer[0] = LeafPrefix;
            data.CopyTo(buffer[1..]);
            return Sha256Digest.Compute(buffer);
        }

        var rented = ArrayPool<byte>.Shared.Rent(checked(data.Length + 1));
        try
        {
            rented[0] = LeafPrefix;
            data.CopyTo(rented.AsSpan(1));
            return Sha256Digest.Compute(rented.AsSpan(0, data.Length + 1));
        }
        finally
        {
            ArrayPool<byte>.Shared.Return(rented);
        }
    }

    /// <summary>The interior node hash: SHA-256(0x01 || left || right).</summary>
    public static Sha256Digest Node(in Sha256Digest left, in Sha256Digest right)
    {
        Span<byte> buffer = stackalloc byte[1 + (2 * Sha256Digest.Size)];
        buffer[0] = NodePrefix;
        left.CopyTo(buffer.Slice(1, Sha256Digest.Size));
        right.CopyTo(buffer.Slice(1 + Sha256Digest.Size, Sha256Digest.Size));
        Span<byte> hash = stackalloc byte[Sha256Digest.Size];
        SHA256.HashData(buffer, hash);
        return new Sha256Digest(hash);
    }
}
