using System.Diagnostics.CodeAnalysis;
using Semver;

namespace Enclave.Intel.Vulnerabilities.Versions;

/// <summary>
/// SemVer 2.0 precedence (build metadata ignored), through the <c>Semver</c> package. Used for npm, crates.io,
/// OSV <c>SEMVER</c> ranges and Go, whose versions carry a <c>v</c> prefix and whose pseudo-versions
/// (<c>v0.0.0-20210525063256-abc453219eb5</c>) are SemVer pre-releases and order correctly as such.
/// </summary>
public sealed class SemVerScheme : VersionScheme
{
    private readonly bool _allowVPrefix;

    private SemVerScheme(bool allowVPrefix, string name)
    {
        _allowVPrefix = allowVPrefix;
        Name = name;
    }

    /// <summary>Strict SemVer 2.0 (npm, crates.io, OSV SEMVER ranges).</summary>
    public static SemVerScheme Strict { get; } = new(false, "SemVer 2.0");

    /// <summary>SemVer 2.0 with Go's optional <c>v</c> prefix (<c>+incompatible</c> is build metadata).</summary>
    public static SemVerScheme Go { get; } = new(true, "Go (SemVer 2.0 with v prefix)");

    public override string Name { get; }

    public override bool TryParse(string text, [NotNullWhen(true)] out IComparable? version)
    {
        ArgumentNullException.ThrowIfNull(text);
        var candidate = _allowVPrefix && text.StartsWith('v') ? text[1..] : text;
        if (SemVersion.TryParse(candidate, SemVersionStyles.Strict, out var parsed))
        {
            version = new Precedence(parsed);
            return true;
        }

        version = null;
        return false;
    }

    private sealed class Precedence(SemVersion value) : IComparable
    {
        private readonly SemVersion _value = value;

        public int CompareTo(object? obj) => obj is Precedence other
            ? _value.ComparePrecedenceTo(other._value)
            : throw new ArgumentException("not a SemVer version", nameof(obj));

        public override string ToString() => _value.ToString();
    }
}
