using Enclave.Intel.Vulnerabilities.Cvss;
using Enclave.Intel.Vulnerabilities.Kev;
using Enclave.Intel.Vulnerabilities.Vex;

namespace Enclave.Intel.Vulnerabilities.Matching;

/// <summary>A finding with what is known about it: severity from its CVSS vector, KEV listing, VEX status.</summary>
public sealed record AssessedFinding
{
    public required VulnerabilityFinding Finding { get; init; }

    /// <summary>The base score of the advisory's newest CVSS vector (v4.0 before v3.x); null when it has none that scores.</summary>
    public CvssScore? Severity { get; init; }

    /// <summary>The KEV entry of the advisory's id, an alias or a related id; null when not known exploited.</summary>
    public KevEntry? Kev { get; init; }

    /// <summary><see cref="VexStatus.Affected"/> unless a VEX statement says otherwise.</summary>
    public required VexStatus Status { get; init; }

    /// <summary>The deciding VEX statement, when there is one.</summary>
    public VexStatement? Vex { get; init; }
}
