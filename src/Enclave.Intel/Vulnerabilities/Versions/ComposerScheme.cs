using System.Diagnostics.CodeAnalysis;
using System.Text.RegularExpressions;

namespace Enclave.Intel.Vulnerabilities.Versions;

/// <summary>
/// Composer (Packagist) versions in their normal form: an optional <c>v</c>, up to four numbers, then an optional
/// stability (<c>dev &lt; alpha = a &lt; beta = b &lt; RC &lt;</c> stable <c>&lt; patch = pl = p</c>) with an optional
/// number. Branch names (<c>dev-main</c>) and other forms are not ordered: unknown.
/// </summary>
public sealed partial class ComposerScheme : VersionScheme
{
    public static ComposerScheme Instance { get; } = new();

    public override string Name => "Composer";

    public override bool TryParse(string text, [NotNullWhen(true)] out IComparable? version)
    {
        ArgumentNullException.ThrowIfNull(text);
        version = null;
        if (text.Length > 128)
        {
            return false;
        }

        var m = Pattern().Match(text);
        if (!m.Success)
        {
            return false;
        }

        var numbers = m.Groups["num"].Captures.Select(c => c.Value).ToList();
        while (numbers.Count < 4)
        {
            numbers.Add("0");
        }

        var stability = m.Groups["stab"].Success
            ? m.Groups["stab"].Value.ToLowerInvariant() switch
            {
                "dev" => 0,
                "alpha" or "a" => 1,
                "beta" or "b" => 2,
                "rc" => 3,
                _ => 5, // patch, pl, p
            }
            : 4;
        version = new ComposerVersion([.. numbers], stability, m.Groups["stabn"].Success ? m.Groups["stabn"].Value : "0");
        return true;
    }

    [GeneratedRegex(
        @"^v?(?<num>[0-9]+)(?:\.(?<num>[0-9]+)){0,3}(?:[-_.]?(?<stab>dev|alpha|a|beta|b|rc|patch|pl|p)[-_.]?(?<stabn>[0-9]+)?)?$",
        RegexOptions.IgnoreCase | RegexOptions.CultureInvariant | RegexOptions.ExplicitCapture,
        matchTimeoutMilliseconds: 1000)]
    private static partial Regex Pattern();

    private sealed record ComposerVersion(string[] Numbers, int Stability, string StabilityNumber) : IComparable
    {
        public int CompareTo(object? obj)
        {
            if (obj is not ComposerVersion other)
            {
                throw new ArgumentException("not a Composer version", nameof(obj));
            }

            for (var i = 0; i < 4; i++)
            {
                var c = DigitString.Compare(Numbers[i], other.Numbers[i]);
                if (c != 0)
                {
                    return c;
                }
            }

            var s = Stability.CompareTo(other.Stability);
            return s != 0 ? s : DigitString.Compare(StabilityNumber, other.StabilityNumber);
        }
    }
}
