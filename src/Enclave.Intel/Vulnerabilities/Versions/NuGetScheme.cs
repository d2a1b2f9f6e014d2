using System.Diagnostics.CodeAnalysis;
using NuGet.Versioning;

namespace Enclave.Intel.Vulnerabilities.Versions;

/// <summary>NuGet's own ordering (four-part versions, SemVer 2.0 labels, case-insensitive), through <c>NuGet.Versioning</c>.</summary>
public sealed class NuGetScheme : VersionScheme
{
    public static NuGetScheme Instance { get; } = new();

    public override string Name => "NuGet";

    public override bool TryParse(string text, [NotNullWhen(true)] out IComparable? version)
    {
        ArgumentNullException.ThrowIfNull(text);
        if (NuGetVersion.TryParse(text, out var parsed))
        {
            version = new Ordered(parsed);
            return true;
        }

        version = null;
        return false;
    }

    private sealed class Ordered(NuGetVersion value) : IComparable
    {
        private readonly NuGetVersion _value = value;

        public int CompareTo(object? obj) => obj is Ordered other
            ? VersionComparer.Default.Compare(_value, other._value)
            : throw new ArgumentException("not a NuGet version", nameof(obj));

        public override string ToString() => _value.ToNormalizedString();
    }
}
