using System.Diagnostics.CodeAnalysis;
using System.Text.RegularExpressions;

namespace Enclave.Intel.Vulnerabilities.Versions;

/// <summary>
/// PEP 440 (PyPI), written against the specification: epoch, release (trailing zeros insignificant), pre-release
/// (<c>a</c> &lt; <c>b</c> &lt; <c>rc</c>, with the spellings alpha/beta/c/pre/preview), post-release (<c>.postN</c>,
/// <c>-N</c>, <c>rev</c>, <c>r</c>), development release, and local version (<c>+ubuntu.1</c>; numeric segments sort
/// above alphanumeric ones). <c>1.0.dev0 &lt; 1.0a1 &lt; 1.0 &lt; 1.0+local &lt; 1.0.post1</c>.
/// </summary>
public sealed partial class Pep440Scheme : VersionScheme
{
    public static Pep440Scheme Instance { get; } = new();

    public override string Name => "PEP 440";

    public override bool TryParse(string text, [NotNullWhen(true)] out IComparable? version)
    {
        ArgumentNullException.ThrowIfNull(text);
        version = null;
        if (text.Length > 256)
        {
            return false;
        }

        var m = Pattern().Match(text);
        if (!m.Success)
        {
            return false;
        }

        var release = m.Groups["release"].Value.Split('.');
        var releaseLength = release.Length;
        while (releaseLength > 1 && DigitString.IsZero(release[releaseLength - 1]))
        {
            releaseLength--;
        }

        int preKind = 0;
        string preNumber = "0";
        if (m.Groups["pre"].Success)
        {
            preKind = m.Groups["prel"].Value.ToLowerInvariant() switch
            {
                "a" or "alpha" => 1,
                "b" or "beta" => 2,
                _ => 3, // c, rc, pre, preview
            };
            preNumber = m.Groups["pren"].Success ? m.Groups["pren"].Value : "0";
        }

        string? post = null;
        if (m.Groups["postn1"].Success)
        {
            post = m.Groups["postn1"].Value;
        }
        else if (m.Groups["postl"].Success)
        {
            post = m.Groups["postn2"].Success ? m.Groups["postn2"].Value : "0";
        }

        string? dev = m.Groups["dev"].Success ? (m.Groups["devn"].Success ? m.Groups["devn"].Value : "0") : null;
        string[]? local = m.Groups["local"].Success ? m.Groups["local"].Value.ToLowerInvariant().Split('-', '_', '.') : null;

        version = new Pep440Version(
            m.Groups["epoch"].Success ? m.Groups["epoch"].Value : "0",
            release[..releaseLength],
            preKind,
            preNumber,
            post,
            dev,
            local);
        return true;
    }

    [GeneratedRegex(
        @"^\s*v?(?:(?<epoch>[0-9]+)!)?(?<release>[0-9]+(?:\.[0-9]+)*)" +
        @"(?<pre>[-_.]?(?<prel>alpha|a|beta|b|preview|pre|c|rc)[-_.]?(?<pren>[0-9]+)?)?" +
        @"(?<post>-(?<postn1>[0-9]+)|[-_.]?(?<postl>post|rev|r)[-_.]?(?<postn2>[0-9]+)?)?" +
        @"(?<dev>[-_.]?dev[-_.]?(?<devn>[0-9]+)?)?" +
        @"(?:\+(?<local>[a-z0-9]+(?:[-_.][a-z0-9]+)*))?\s*$",
        RegexOptions.IgnoreCase | RegexOptions.CultureInvariant | RegexOptions.ExplicitCapture,
        matchTimeoutMilliseconds: 1000)]
    private static partial Regex Pattern();

    private sealed record Pep440Version(
        string Epoch,
        string[] Release,
        int PreKind,
        string PreNumber,
        string? Post,
        string? Dev,
        string[]? Local) : IComparable
    {
        public int CompareTo(object? obj)
        {
            if (obj is not Pep440Version other)
            {
                throw new ArgumentException("not a PEP 440 version", nameof(obj));
            }

            var c = DigitString.Compare(Epoch, other.Epoch);
            if (c != 0)
            {
                return c;
            }

            c = CompareRelease(Release, other.Release);
            if (c != 0)
            {
                return c;
            }

            c = PreKey().CompareTo(other.PreKey());
            if (c != 0)
            {
                return c;
            }

            if (PreKind != 0)
            {
                c = DigitString.Compare(PreNumber, other.PreNumber);
                if (c != 0)
                {
                    return c;
                }
            }

            // post: absent sorts first
            c = CompareOptional(Post, other.Post, absentFirst: true);
            if (c != 0)
            {
                return c;
            }

            // dev: absent sorts last
            c = CompareOptional(Dev, other.Dev, absentFirst: false);
            if (c != 0)
            {
                return c;
            }

            return CompareLocal(Local, other.Local);
        }

        // A dev release with no pre and no post sorts before every pre-release of the same release: 1.0.dev0 < 1.0a1.
        private int PreKey() => PreKind != 0 ? PreKind : (Post is null && Dev is not null ? -1 : 4);

        private static int CompareRelease(string[] a, string[] b)
        {
            for (var i = 0; i < Math.Max(a.Length, b.Length); i++)
            {
                var c = DigitString.Compare(i < a.Length ? a[i] : "0", i < b.Length ? b[i] : "0");
                if (c != 0)
                {
                    return c;
                }
            }

            return 0;
        }

        private static int CompareOptional(string? a, string? b, bool absentFirst)
        {
            if (a is null && b is null)
            {
                return 0;
            }

            if (a is null)
            {
                return absentFirst ? -1 : 1;
            }

            if (b is null)
            {
                return absentFirst ? 1 : -1;
            }

            return DigitString.Compare(a, b);
        }

        private static int CompareLocal(string[]? a, string[]? b)
        {
            if (a is null || b is null)
            {
                return a is null ? (b is null ? 0 : -1) : 1;
            }

            for (var i = 0; i < Math.Min(a.Length, b.Length); i++)
            {
                var aNum = DigitString.IsDigits(a[i]);
                var bNum = DigitString.IsDigits(b[i]);
                var c = (aNum, bNum) switch
                {
                    (true, true) => DigitString.Compare(a[i], b[i]),
                    (true, false) => 1,
                    (false, true) => -1,
                    _ => Math.Sign(string.CompareOrdinal(a[i], b[i])),
                };
                if (c != 0)
                {
                    return c;
                }
            }

            return a.Length.CompareTo(b.Length);
        }
    }
}
