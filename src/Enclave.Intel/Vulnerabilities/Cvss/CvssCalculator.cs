namespace Enclave.Intel.Vulnerabilities.Cvss;

/// <summary>Scores any supported CVSS vector (3.0, 3.1, 4.0); other versions are refused.</summary>
public static class CvssCalculator
{
    public static CvssScore Score(string vector)
    {
        ArgumentNullException.ThrowIfNull(vector);
        if (vector.StartsWith("CVSS:4.0/", StringComparison.Ordinal))
        {
            return Cvss4Calculator.Score(vector);
        }

        if (vector.StartsWith("CVSS:3.1/", StringComparison.Ordinal) || vector.StartsWith("CVSS:3.0/", StringComparison.Ordinal))
        {
            return Cvss3Calculator.Score(vector);
        }

        throw new VulnerabilityDataException(VulnerabilityDataRejection.UnsupportedFormat, $"CVSS vector \"{(vector.Length > 60 ? vector[..60] : vector)}\": only CVSS 3.0, 3.1 and 4.0 are scored");
    }

    /// <summary>Scores a vector, answering null (never a guess) when it cannot be scored.</summary>
    public static CvssScore? TryScore(string vector)
    {
        try
        {
            return Score(vector);
        }
        catch (VulnerabilityDataException)
        {
            return null;
        }
    }
}
