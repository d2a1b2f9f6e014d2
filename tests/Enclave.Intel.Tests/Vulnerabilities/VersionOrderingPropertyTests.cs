using Enclave.Intel.Vulnerabilities.Versions;
using FsCheck.Xunit;

namespace Enclave.Intel.Tests.Vulnerabilities;

/// <summary>Every hand-written ordering is a total order on the versions it accepts: antisymmetric and transitive.</summary>
public sealed class VersionOrderingPropertyTests
{
    private static readonly string[] Ecosystems = ["PyPI", "Maven", "RubyGems", "Debian:9", "Alpine:v3.20", "Packagist", "Go", "npm", "NuGet"];

    private static readonly string[][] Suffixes =
    [
        ["", "a1", "b2", "rc1", ".post1", ".dev0", "+local.7", ".post1.dev2"], // PyPI
        ["", "-alpha-1", "-beta", "-SNAPSHOT", "-rc1", "-sp", "-1", ".0", "-ga", "-xyz"], // Maven
        ["", ".a", ".pre.1", ".b2", ".0", "-1", ".rc"], // RubyGems
        ["", "~rc1", "~~", "+b1", "-1", "-1~bpo1", "a", "-2+deb9u1"], // Debian
        ["", "_alpha", "_rc2", "_p1", "-r1", "a", "_git1-r2", ".0"], // Alpine
        ["", "-dev", "-alpha1", "-beta2", "-RC1", "-patch1", ".0"], // Packagist
        ["", "-0.20211012131345-9c444070ec7b", "-rc.1", "+incompatible"], // Go
        ["", "-alpha", "-alpha.1", "-beta.11", "-rc.1", "+build.5"], // npm
        ["", "-alpha", "-beta.2", ".1", "-RC"], // NuGet
    ];

    private static string Make(int ecosystem, byte major, byte minor, byte suffix)
    {
        var options = Suffixes[ecosystem];
        var prefix = ecosystem == 6 ? "v" : "";
        return $"{prefix}{major % 4}.{minor % 3}.{(major + minor) % 2}{options[suffix % options.Length]}";
    }

    [Property(MaxTest = 400)]
    public bool Compare_IsAntisymmetricAndTransitive(byte which, byte a1, byte a2, byte a3, byte b1, byte b2, byte b3, byte c1, byte c2, byte c3)
    {
        var index = which % Ecosystems.Length;
        var scheme = Enclave.Intel.Vulnerabilities.Versions.Ecosystems.SchemeFor(Ecosystems[index])!;
        var a = Make(index, a1, a2, a3);
        var b = Make(index, b1, b2, b3);
        var c = Make(index, c1, c2, c3);
        if (!scheme.TryCompare(a, b, out var ab) || !scheme.TryCompare(b, a, out var ba)
            || !scheme.TryCompare(b, c, out var bc) || !scheme.TryCompare(a, c, out var ac))
        {
            return false; // every generated version is valid in its scheme
        }

        var antisymmetric = ab == -ba;
        var transitive = !(ab <= 0 && bc <= 0) || ac <= 0;
        return antisymmetric && transitive;
    }
}
