using Enclave.Signing.Keys;

namespace Enclave.Airlock.Repository;

/// <summary>A key file the repository made, and what it signs.</summary>
public sealed record RepositoryKeyInfo
{
    /// <summary>The role it is authorised for (<c>root</c>, <c>targets</c>, <c>snapshot</c>, <c>timestamp</c>, or a kind).</summary>
    public required string Role { get; init; }

    /// <summary>Key ID.</summary>
    public required string KeyId { get; init; }

    /// <summary>Algorithm.</summary>
    public required SigningKeyType Type { get; init; }

    /// <summary>The encrypted private key file.</summary>
    public required string PrivateKeyPath { get; init; }

    /// <summary>The public key file (TUF key JSON).</summary>
    public required string PublicKeyPath { get; init; }
}
