namespace Enclave.Intel.Vulnerabilities.Versions;

/// <summary>Which version ordering an OSV ecosystem uses. An ecosystem not listed here has none: its ranges are unknown.</summary>
public static class Ecosystems
{
    /// <summary>The scheme for an OSV ecosystem name (<c>Debian:9</c> and <c>Alpine:v3.18</c> use their base name).</summary>
    public static VersionScheme? SchemeFor(string ecosystem)
    {
        ArgumentNullException.ThrowIfNull(ecosystem);
        return BaseName(ecosystem) switch
        {
            "npm" or "crates.io" => SemVerScheme.Strict,
            "Go" => SemVerScheme.Go,
            "NuGet" => NuGetScheme.Instance,
            "PyPI" => Pep440Scheme.Instance,
            "Maven" => MavenScheme.Instance,
            "RubyGems" => RubyGemsScheme.Instance,
            "Debian" or "Ubuntu" => DebianScheme.Instance,
            "Alpine" => AlpineScheme.Instance,
            "Packagist" => ComposerScheme.Instance,
            _ => null,
        };
    }

    /// <summary>The part before the first <c>:</c> (<c>Debian:9</c> → <c>Debian</c>).</summary>
    public static string BaseName(string ecosystem)
    {
        ArgumentNullException.ThrowIfNull(ecosystem);
        var colon = ecosystem.IndexOf(':', StringComparison.Ordinal);
        return colon < 0 ? ecosystem : ecosystem[..colon];
    }
}
