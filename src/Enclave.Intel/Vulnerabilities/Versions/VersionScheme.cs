using System.Diagnostics.CodeAnalysis;

namespace Enclave.Intel.Vulnerabilities.Versions;

/// <summary>
/// One ecosystem's version ordering. <see cref="TryParse"/> answers <c>false</c> for a version the ecosystem's rules
/// do not define; callers turn that into an <em>unknown</em> result, never into "not affected".
/// </summary>
public abstract class VersionScheme
{
    /// <summary>The name used in messages, e.g. <c>PEP 440</c>.</summary>
    public abstract string Name { get; }

    /// <summary>Parses a version into a value that orders exactly as the ecosystem orders versions.</summary>
    public abstract bool TryParse(string text, [NotNullWhen(true)] out IComparable? version);

    /// <summary>Compares two versions; <c>false</c> when either cannot be ordered by this scheme.</summary>
    public bool TryCompare(string left, string right, out int order)
    {
        ArgumentNullException.ThrowIfNull(left);
        ArgumentNullException.ThrowIfNull(right);
        if (TryParse(left, out var a) && TryParse(right, out var b))
        {
            order = Math.Sign(a.CompareTo(b));
            return true;
        }

        order = 0;
        return false;
    }
}
