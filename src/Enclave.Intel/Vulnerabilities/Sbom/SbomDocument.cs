namespace Enclave.Intel.Vulnerabilities.Sbom;

/// <summary>The inventory an SBOM describes.</summary>
public sealed record SbomDocument
{
    /// <summary><c>CycloneDX</c> or <c>SPDX</c>.</summary>
    public required string Format { get; init; }

    /// <summary><c>1.4</c>..<c>1.6</c> for CycloneDX, <c>2.3</c> for SPDX.</summary>
    public required string SpecVersion { get; init; }

    /// <summary>Every component (nested CycloneDX components flattened; the SBOM's own subject in <c>metadata.component</c> is not included).</summary>
    public required IReadOnlyList<SbomComponent> Components { get; init; }
}

/// <summary>Bounds on untrusted SBOMs.</summary>
public sealed record SbomReaderOptions
{
    public static SbomReaderOptions Default { get; } = new();

    public long MaxBytes { get; init; } = 256L * 1024 * 1024;

    public int MaxDepth { get; init; } = 128;

    public int MaxComponents { get; init; } = 1_000_000;
}
