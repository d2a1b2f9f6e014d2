namespace Enclave.Intel.Vulnerabilities.Cvss;

/// <summary>Strict parsing of a CVSS vector string into metric → value, with allowed values per metric.</summary>
internal static class CvssVector
{
    public const int MaxLength = 512;

    public static Dictionary<string, char> Parse(string vector, string prefix, IReadOnlyDictionary<string, string> allowed, IEnumerable<string> required)
    {
        if (vector.Length > MaxLength)
        {
            throw Invalid(vector, $"longer than {MaxLength} characters");
        }

        if (!vector.StartsWith(prefix, StringComparison.Ordinal))
        {
            throw Invalid(vector, $"does not start with \"{prefix}\"");
        }

        var metrics = new Dictionary<string, char>(StringComparer.Ordinal);
        foreach (var part in vector[prefix.Length..].Split('/'))
        {
            var colon = part.IndexOf(':', StringComparison.Ordinal);
            if (colon <= 0 || colon != part.Length - 2)
            {
                throw Invalid(vector, $"\"{part}\" is not METRIC:VALUE");
            }

            var name = part[..colon];
            var value = part[^1];
            if (!allowed.TryGetValue(name, out var values))
            {
                throw Invalid(vector, $"unknown metric \"{name}\"");
            }

            if (!values.Contains(value, StringComparison.Ordinal))
            {
                throw Invalid(vector, $"\"{value}\" is not a value of {name} (expected one of {values})");
            }

            if (!metrics.TryAdd(name, value))
            {
                throw Invalid(vector, $"metric {name} appears twice");
            }
        }

        var missing = required.Where(r => !metrics.ContainsKey(r)).ToList();
        if (missing.Count > 0)
        {
            throw Invalid(vector, $"missing base metric(s) {string.Join(", ", missing)}");
        }

        return metrics;
    }

    public static VulnerabilityDataException Invalid(string vector, string what) =>
        new(VulnerabilityDataRejection.InvalidField, $"CVSS vector \"{(vector.Length > 120 ? vector[..120] + "..." : vector)}\": {what}");
}
