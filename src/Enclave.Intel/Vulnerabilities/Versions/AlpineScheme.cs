using System.Diagnostics.CodeAnalysis;
using System.Text.RegularExpressions;

namespace Enclave.Intel.Vulnerabilities.Versions;

/// <summary>
/// apk's ordering (Alpine package versions), written against the documented format
/// <c>number{.number}[letter]{_suffix[number]}[-rN]</c>: components compare token by token; the first number
/// numerically, later numbers as decimals when either has a leading zero; suffixes <c>_alpha &lt; _beta &lt; _pre &lt;
/// _rc &lt;</c> (none) <c>&lt; _cvs &lt; _svn &lt; _git &lt; _hg &lt; _p</c>; when one version continues where the other ends,
/// the longer one is newer unless it continues with a pre-release suffix; <c>-rN</c> is the package revision.
/// </summary>
public sealed partial class AlpineScheme : VersionScheme
{
    private static readonly string[] Suffixes = ["alpha", "beta", "pre", "rc", "cvs", "svn", "git", "hg", "p"];
    private const int FirstPostSuffix = 4;

    public static AlpineScheme Instance { get; } = new();

    public override string Name => "Alpine (apk)";

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

        var tokens = new List<Token>();
        foreach (Capture number in m.Groups["num"].Captures)
        {
            tokens.Add(new Token(TokenKind.Digit, number.Value));
        }

        if (m.Groups["letter"].Success)
        {
            tokens.Add(new Token(TokenKind.Letter, m.Groups["letter"].Value));
        }

        var suffixNames = m.Groups["suffix"].Captures;
        var suffixNumbers = m.Groups["suffixfull"].Captures;
        for (var i = 0; i < suffixNames.Count; i++)
        {
            var rank = Array.IndexOf(Suffixes, suffixNames[i].Value);
            tokens.Add(new Token(TokenKind.Suffix, rank.ToString(System.Globalization.CultureInfo.InvariantCulture)));
            var digits = suffixNumbers[i].Value[(1 + suffixNames[i].Value.Length)..];
            if (digits.Length > 0)
            {
                tokens.Add(new Token(TokenKind.SuffixNumber, digits));
            }
        }

        if (m.Groups["rev"].Success)
        {
            tokens.Add(new Token(TokenKind.Revision, m.Groups["rev"].Value));
        }

        version = new ApkVersion([.. tokens]);
        return true;
    }

    [GeneratedRegex(
        @"^(?<num>[0-9]+)(?:\.(?<num>[0-9]+))*(?<letter>[a-z])?(?<suffixfull>_(?<suffix>alpha|beta|pre|rc|cvs|svn|git|hg|p)[0-9]*)*(?:-r(?<rev>[0-9]+))?$",
        RegexOptions.CultureInvariant | RegexOptions.ExplicitCapture,
        matchTimeoutMilliseconds: 1000)]
    private static partial Regex Pattern();

    private enum TokenKind
    {
        Digit = 1,
        Letter = 2,
        Suffix = 3,
        SuffixNumber = 4,
        Revision = 5,
        End = 6,
    }

    private readonly record struct Token(TokenKind Kind, string Value);

    private sealed class ApkVersion(Token[] tokens) : IComparable
    {
        private readonly Token[] _tokens = tokens;

        public int CompareTo(object? obj)
        {
            if (obj is not ApkVersion other)
            {
                throw new ArgumentException("not an Alpine version", nameof(obj));
            }

            var a = _tokens;
            var b = other._tokens;
            for (var i = 0; ; i++)
            {
                var ta = i < a.Length ? a[i] : new Token(TokenKind.End, "");
                var tb = i < b.Length ? b[i] : new Token(TokenKind.End, "");
                if (ta.Kind != tb.Kind)
                {
                    if (IsPreRelease(ta))
                    {
                        return -1;
                    }

                    if (IsPreRelease(tb))
                    {
                        return 1;
                    }

                    return ta.Kind < tb.Kind ? 1 : -1;
                }

                if (ta.Kind == TokenKind.End)
                {
                    return 0;
                }

                var c = ta.Kind switch
                {
                    TokenKind.Digit when i > 0 && (ta.Value[0] == '0' || tb.Value[0] == '0') =>
                        Math.Sign(string.CompareOrdinal(ta.Value, tb.Value)),
                    TokenKind.Letter => Math.Sign(string.CompareOrdinal(ta.Value, tb.Value)),
                    TokenKind.Suffix => int.Parse(ta.Value, System.Globalization.CultureInfo.InvariantCulture)
                        .CompareTo(int.Parse(tb.Value, System.Globalization.CultureInfo.InvariantCulture)),
                    _ => DigitString.Compare(ta.Value, tb.Value),
                };
                if (c != 0)
                {
                    return c;
                }
            }
        }

        private static bool IsPreRelease(Token t) =>
            t.Kind == TokenKind.Suffix && int.Parse(t.Value, System.Globalization.CultureInfo.InvariantCulture) < FirstPostSuffix;
    }
}
