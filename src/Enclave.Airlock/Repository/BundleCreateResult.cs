namespace Enclave.Airlock.Repository;

/// <summary>What <see cref="TrustRepository.CreateBundle"/> wrote.</summary>
public sealed record BundleCreateResult
{
    /// <summary>The bundle file, or its parts in order.</summary>
    public required IReadOnlyList<string> Files { get; init; }

    /// <summary>Total bytes written.</summary>
    public required long Bytes { get; init; }

    /// <summary>The targets, in bundle order.</summary>
    public required IReadOnlyList<BundleTarget> Targets { get; init; }

    /// <summary>The new version of the kind role.</summary>
    public required int RoleVersion { get; init; }

    /// <summary>Expiry of the new timestamp, snapshot and kind role versions.</summary>
    public required DateTimeOffset Expires { get; init; }

    /// <summary>Signature counts of every metadata file in the bundle.</summary>
    public required IReadOnlyList<RoleSignatureStatus> Signatures { get; init; }

    /// <summary>Whether every file reaches its threshold; then the bundle was verified with the enclave's client.</summary>
    public bool IsComplete => Signatures.All(s => s.IsComplete);

    /// <summary>Things the operator should know (an expiring root, a reused version).</summary>
    public required IReadOnlyList<string> Warnings { get; init; }
}

/// <summary>A target in a bundle.</summary>
public sealed record BundleTarget
{
    /// <summary>TUF target path <c>KIND/NAME/VERSION/FILE</c>.</summary>
    public required string Path { get; init; }

    /// <summary>Length in bytes.</summary>
    public required long Length { get; init; }

    /// <summary>SHA-256, lower-case hex.</summary>
    public required string Sha256 { get; init; }

    /// <summary><c>content</c>, <c>sbom</c> or <c>provenance</c>.</summary>
    public required string Type { get; init; }
}
