namespace Enclave.Intel.Vulnerabilities.Vex;

/// <summary>The four VEX statuses (CISA's minimum requirements; OpenVEX, CycloneDX and CSAF map onto them).</summary>
public enum VexStatus
{
    Affected,
    NotAffected,
    Fixed,
    UnderInvestigation,
}

/// <summary>One VEX statement: a vulnerability, the products it is about, and their status.</summary>
public sealed record VexStatement
{
    /// <summary>The vulnerability id as the document names it (CVE, GHSA, ...).</summary>
    public required string VulnerabilityId { get; init; }

    /// <summary>Product identifiers: purls, CycloneDX bom-refs, or BOM-Links (<c>urn:cdx:...#ref</c>).</summary>
    public required IReadOnlyList<string> Products { get; init; }

    public required VexStatus Status { get; init; }

    /// <summary>Why not affected (<c>code_not_present</c>, <c>vulnerable_code_not_in_execute_path</c>, ...), when given.</summary>
    public string? Justification { get; init; }

    public DateTimeOffset? Timestamp { get; init; }

    /// <summary>The document it came from.</summary>
    public required string Source { get; init; }
}

/// <summary>A VEX document reduced to its statements.</summary>
public sealed record VexDocument(string Format, IReadOnlyList<VexStatement> Statements);
