using System.Diagnostics.CodeAnalysis;

namespace Enclave.Intel.Vulnerabilities.Versions;

/// <summary>
/// dpkg's ordering (Debian Policy 5.6.12), written against the policy text: <c>[epoch:]upstream[-revision]</c>;
/// epoch numerically; upstream and revision compared by alternating non-digit and digit runs, where in non-digit runs
/// <c>~</c> sorts before everything (even the end of the string), then the end, then letters, then other characters,
/// and digit runs compare numerically. So <c>1.0~rc1 &lt; 1.0 &lt; 1.0+b1</c>.
/// </summary>
public sealed class DebianScheme : VersionScheme
{
    public static DebianScheme Instance { get; } = new();

    public override string Name => "Debian (dpkg)";

    public override bool TryParse(string text, [NotNullWhen(true)] out IComparable? version)
    {
        ArgumentNullException.ThrowIfNull(text);
        version = null;
        var v = text.Trim();
        if (v.Length == 0 || v.Length > 256)
        {
            return false;
        }

        var epoch = "0";
        var colon = v.IndexOf(':', StringComparison.Ordinal);
        if (colon >= 0)
        {
            epoch = v[..colon];
            if (!DigitString.IsDigits(epoch))
            {
                return false;
            }

            v = v[(colon + 1)..];
        }

        var revision = "";
        var hyphen = v.LastIndexOf('-');
        if (hyphen >= 0)
        {
            revision = v[(hyphen + 1)..];
            v = v[..hyphen];
            if (revision.Length == 0)
            {
                return false;
            }
        }

        if (v.Length == 0 || !char.IsAsciiDigit(v[0]))
        {
            return false;
        }

        foreach (var c in v)
        {
            if (!(char.IsAsciiLetterOrDigit(c) || c is '.' or '+' or '-' or '~' or ':'))
            {
                return false;
            }
        }

        foreach (var c in revision)
        {
            if (!(char.IsAsciiLetterOrDigit(c) || c is '.' or '+' or '~'))
            {
                return false;
            }
        }

        version = new DebianVersion(epoch, v, revision);
        return true;
    }

    /// <summary>dpkg's <c>verrevcmp</c> rules for one part (upstream or revision).</summary>
    internal static int ComparePart(ReadOnlySpan<char> a, ReadOnlySpan<char> b)
    {
        var i = 0;
        var j = 0;
        while (i < a.Length || j < b.Length)
        {
            while ((i < a.Length && !char.IsAsciiDigit(a[i])) || (j < b.Length && !char.IsAsciiDigit(b[j])))
            {
                var ac = i < a.Length && !char.IsAsciiDigit(a[i]) ? Order(a[i]) : 0;
                var bc = j < b.Length && !char.IsAsciiDigit(b[j]) ? Order(b[j]) : 0;
                if (ac != bc)
                {
                    return ac < bc ? -1 : 1;
                }

                if (i < a.Length && !char.IsAsciiDigit(a[i]))
                {
                    i++;
                }

                if (j < b.Length && !char.IsAsciiDigit(b[j]))
                {
                    j++;
                }
            }

            var si = i;
            while (i < a.Length && char.IsAsciiDigit(a[i]))
            {
                i++;
            }

            var sj = j;
            while (j < b.Length && char.IsAsciiDigit(b[j]))
            {
                j++;
            }

            var c = DigitString.Compare(a[si..i], b[sj..j]);
            if (c != 0)
            {
                return c;
            }
        }

        return 0;
    }

    private static int Order(char c) => c switch
    {
        '~' => -1,
        _ when char.IsAsciiLetter(c) => c,
        _ => c + 256,
    };

    private sealed record DebianVersion(string Epoch, string Upstream, string Revision) : IComparable
    {
        public int CompareTo(object? obj)
        {
            if (obj is not DebianVersion other)
            {
                throw new ArgumentException("not a Debian version", nameof(obj));
            }

            var c = DigitString.Compare(Epoch, other.Epoch);
            if (c != 0)
            {
                return c;
            }

            c = ComparePart(Upstream, other.Upstream);
            return c != 0 ? c : ComparePart(Revision, other.Revision);
        }
    }
}
