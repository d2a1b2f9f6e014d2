namespace Enclave.Airlock.Repository;

/// <summary>What <see cref="TrustRepository.RotateRoot"/> made.</summary>
public sealed record RootRotationResult
{
    /// <summary>The new root version.</summary>
    public required int Version { get; init; }

    /// <summary>The new root file (<c>metadata/N.root.json</c>).</summary>
    public required string RootPath { get; init; }

    /// <summary>The new root's expiry.</summary>
    public required DateTimeOffset Expires { get; init; }

    /// <summary>The new root keys.</summary>
    public required IReadOnlyList<RepositoryKeyInfo> NewKeys { get; init; }

    /// <summary>Old root key files moved to <c>keys/retired/</c>.</summary>
    public required IReadOnlyList<string> RetiredKeyFiles { get; init; }

    /// <summary>Signature counts of the new root by the old and by the new root keys.</summary>
    public required IReadOnlyList<RoleSignatureStatus> Signatures { get; init; }
}
