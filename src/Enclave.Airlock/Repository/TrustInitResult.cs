namespace Enclave.Airlock.Repository;

/// <summary>What <see cref="TrustRepository.Initialize"/> made.</summary>
public sealed record TrustInitResult
{
    /// <summary>The repository folder.</summary>
    public required string Directory { get; init; }

    /// <summary>The root to pin in the enclave: <c>metadata/1.root.json</c>.</summary>
    public required string RootPath { get; init; }

    /// <summary>SHA-256 of the root file, to compare out of band.</summary>
    public required string RootSha256 { get; init; }

    /// <summary>The root's expiry.</summary>
    public required DateTimeOffset RootExpires { get; init; }

    /// <summary>Every key generated.</summary>
    public required IReadOnlyList<RepositoryKeyInfo> Keys { get; init; }
}
