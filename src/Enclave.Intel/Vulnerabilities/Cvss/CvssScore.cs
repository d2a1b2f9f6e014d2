namespace Enclave.Intel.Vulnerabilities.Cvss;

/// <summary>A CVSS base score computed from a vector.</summary>
public sealed record CvssScore(string Version, string Vector, double BaseScore)
{
    /// <summary>The qualitative rating (CVSS v3.1 §5 and v4.0 §6 use the same bands).</summary>
    public string Severity => BaseScore switch
    {
        0 => "NONE",
        < 4.0 => "LOW",
        < 7.0 => "MEDIUM",
        < 9.0 => "HIGH",
        _ => "CRITICAL",
    };
}
