using System.Text.RegularExpressions;

namespace Enclave.Intel.Vulnerabilities.Osv;

/// <summary>How each ecosystem compares package names: PyPI per PEP 503, NuGet and Composer case-insensitively, the rest exactly.</summary>
public static partial class PackageNames
{
    public static string Normalize(string ecosystemBase, string name)
    {
        ArgumentNullException.ThrowIfNull(ecosystemBase);
        ArgumentNullException.ThrowIfNull(name);
        return ecosystemBase switch
        {
            "PyPI" => Pep503().Replace(name, "-").ToLowerInvariant(),
            "NuGet" or "Packagist" => name.ToLowerInvariant(),
            _ => name,
        };
    }

    [GeneratedRegex("[-_.]+", RegexOptions.CultureInvariant, matchTimeoutMilliseconds: 1000)]
    private static partial Regex Pep503();
}
