using Enclave.Intel.Vulnerabilities.Osv;
using Enclave.Intel.Vulnerabilities.Sbom;

namespace Enclave.Intel.Vulnerabilities.Matching;

/// <summary>Where a purl's package lives in OSV: ecosystem, package name as OSV spells it, and distribution release.</summary>
public sealed record PurlEcosystem(string Ecosystem, string Name, string? Release)
{
    /// <summary>The normalized name used to look the package up (PEP 503 for PyPI, lower case for NuGet and Composer).</summary>
    public string Key => PackageNames.Normalize(Ecosystem, Name);

    /// <summary>The OSV package for a purl, or null when the purl type has no OSV ecosystem Enclave matches.</summary>
    public static PurlEcosystem? For(PackageUrl purl)
    {
        ArgumentNullException.ThrowIfNull(purl);
        var scoped = purl.Namespace is null ? purl.Name : $"{purl.Namespace}/{purl.Name}";
        return purl.Type switch
        {
            "npm" => new("npm", scoped, null),
            "pypi" => new("PyPI", purl.Name, null),
            "maven" when purl.Namespace is not null => new("Maven", $"{purl.Namespace}:{purl.Name}", null),
            "golang" => new("Go", scoped, null),
            "cargo" => new("crates.io", purl.Name, null),
            "nuget" => new("NuGet", purl.Name, null),
            "gem" => new("RubyGems", purl.Name, null),
            "composer" => new("Packagist", scoped, null),
            "hex" => new("Hex", purl.Name, null),
            "pub" => new("Pub", purl.Name, null),
            "deb" when string.Equals(purl.Namespace, "debian", StringComparison.OrdinalIgnoreCase) => new("Debian", purl.Name, DebianRelease(purl)),
            "deb" when string.Equals(purl.Namespace, "ubuntu", StringComparison.OrdinalIgnoreCase) => new("Ubuntu", purl.Name, UbuntuRelease(purl)),
            "apk" when string.Equals(purl.Namespace, "alpine", StringComparison.OrdinalIgnoreCase) => new("Alpine", purl.Name, AlpineRelease(purl)),
            _ => null,
        };
    }

    private static string? DebianRelease(PackageUrl purl)
    {
        if (!purl.Qualifiers.TryGetValue("distro", out var distro))
        {
            return null;
        }

        distro = distro.ToLowerInvariant();
        var named = distro.StartsWith("debian-", StringComparison.Ordinal) ? distro["debian-".Length..] : distro;
        return named switch
        {
            "jessie" => "8",
            "stretch" => "9",
            "buster" => "10",
            "bullseye" => "11",
            "bookworm" => "12",
            "trixie" => "13",
            _ when named.Length > 0 && char.IsAsciiDigit(named[0]) => named.Split('.')[0],
            _ => null,
        };
    }

    private static string? UbuntuRelease(PackageUrl purl) =>
        purl.Qualifiers.TryGetValue("distro", out var distro) && distro.StartsWith("ubuntu-", StringComparison.OrdinalIgnoreCase)
            ? distro["ubuntu-".Length..]
            : null;

    private static string? AlpineRelease(PackageUrl purl)
    {
        if (!purl.Qualifiers.TryGetValue("distro", out var distro))
        {
            return null;
        }

        var version = distro.StartsWith("alpine-", StringComparison.OrdinalIgnoreCase) ? distro["alpine-".Length..] : distro;
        var parts = version.TrimStart('v').Split('.');
        return parts.Length >= 2 ? $"v{parts[0]}.{parts[1]}" : null;
    }
}
