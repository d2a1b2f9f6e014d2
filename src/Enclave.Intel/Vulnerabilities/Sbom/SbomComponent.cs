namespace Enclave.Intel.Vulnerabilities.Sbom;

/// <summary>One component of an inventory: its purl (as written and parsed) and version.</summary>
public sealed record SbomComponent
{
    /// <summary>The component's name as the SBOM gives it.</summary>
    public required string Name { get; init; }

    /// <summary>The version: the purl's version, else the SBOM's version field.</summary>
    public string? Version { get; init; }

    /// <summary>The purl as written in the SBOM (null when there is none).</summary>
    public string? PurlText { get; init; }

    /// <summary>The parsed purl; null when absent or invalid (see <see cref="PurlError"/>).</summary>
    public PackageUrl? Purl { get; init; }

    /// <summary>Why the purl could not be parsed.</summary>
    public string? PurlError { get; init; }

    /// <summary>The SBOM's own reference (CycloneDX <c>bom-ref</c>, SPDX <c>SPDXID</c>), used by VEX.</summary>
    public string? Reference { get; init; }

    /// <summary>A component from a purl string alone (tests, synthetic inventories).</summary>
    public static SbomComponent FromPurl(string purl)
    {
        ArgumentNullException.ThrowIfNull(purl);
        return PackageUrl.TryParse(purl, out var parsed, out var error)
            ? new SbomComponent { Name = parsed.Name, Version = parsed.Version, PurlText = purl, Purl = parsed }
            : new SbomComponent { Name = purl, PurlText = purl, PurlError = error };
    }
}
