namespace Enclave.Airlock.Repository;

/// <summary>What <see cref="BundleSigner.Sign"/> did.</summary>
public sealed record BundleSignResult
{
    /// <summary>The bundle file, or its parts.</summary>
    public required IReadOnlyList<string> Files { get; init; }

    /// <summary>The signing key's ID.</summary>
    public required string KeyId { get; init; }

    /// <summary>The artifact: kind, name and version from the bundle's selector.</summary>
    public required string Kind { get; init; }

    /// <summary>Artifact name.</summary>
    public required string Name { get; init; }

    /// <summary>Artifact version.</summary>
    public required string Version { get; init; }

    /// <summary>Metadata files the key is authorised for (and now has a valid signature on).</summary>
    public required IReadOnlyList<string> SignedFiles { get; init; }

    /// <summary>True when the key had already signed all of them: the bundle was left byte for byte as it was.</summary>
    public required bool Unchanged { get; init; }

    /// <summary>Signature counts of every metadata file after signing.</summary>
    public required IReadOnlyList<RoleSignatureStatus> Signatures { get; init; }

    /// <summary>Whether every file reaches its threshold; then the bundle was verified against its own root 1.</summary>
    public bool IsComplete => Signatures.All(s => s.IsComplete);
}
