using Enclave.Core.Artifacts;

namespace Enclave.Intel.Upgrades;

/// <summary>
/// An activated <c>update</c> bundle as the upgrade sees it: an Enclave release (the <c>dotnet publish</c> output of
/// <c>src/Enclave.Cli</c>, with the <c>enclave</c> executable at its top), its files as the airlock verified them, and
/// its SBOM attestation.
/// </summary>
public sealed record UpdateArtifact
{
    public required string Name { get; init; }

    /// <summary>The bundle's version: the release's version, which its <c>enclave version</c> must print.</summary>
    public required string Version { get; init; }

    /// <summary>The airlock import (<c>imp_…</c>).</summary>
    public required string ImportId { get; init; }

    /// <summary>The activated artifact's folder (read-only links into the blob store).</summary>
    public required string Folder { get; init; }

    /// <summary>Its files with the SHA-256 and length the airlock verified.</summary>
    public required IReadOnlyList<ArtifactFile> Files { get; init; }

    /// <summary>When it was activated.</summary>
    public required DateTimeOffset Activated { get; init; }

    /// <summary>Path of the SBOM attestation inside the release (CycloneDX or SPDX), null when the bundle carries none.</summary>
    public string? SbomPath => Files.Select(f => f.RelativePath).FirstOrDefault(p => p is ".attestations/sbom.cdx.json" or ".attestations/sbom.spdx.json");
}
