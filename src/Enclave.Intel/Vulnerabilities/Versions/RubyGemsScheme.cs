using System.Diagnostics.CodeAnalysis;
using System.Text.RegularExpressions;

namespace Enclave.Intel.Vulnerabilities.Versions;

/// <summary>
/// RubyGems' <c>Gem::Version</c> ordering, written against its documentation: a <c>-</c> stands for <c>.pre.</c>;
/// segments are runs of digits or of letters; trailing zeros of the release part and of the pre-release part are
/// insignificant; a version with a letter segment is a pre-release and sorts before the release
/// (<c>1.0.a &lt; 1.0</c>); a letter segment sorts before a number; letters compare as strings.
/// </summary>
public sealed partial class RubyGemsScheme : VersionScheme
{
    public static RubyGemsScheme Instance { get; } = new();

    public override string Name => "RubyGems";

    public override bool TryParse(string text, [NotNullWhen(true)] out IComparable? version)
    {
        ArgumentNullException.ThrowIfNull(text);
        version = null;
        if (text.Length > 256 || !Valid().IsMatch(text))
        {
            return false;
        }

        var normalized = text.Trim();
        if (normalized.Length == 0)
        {
            normalized = "0";
        }

        normalized = normalized.Replace("-", ".pre.", StringComparison.Ordinal);
        var segments = Segment().Matches(normalized).Select(m => m.Value).ToList();
        var firstString = segments.FindIndex(s => !DigitString.IsDigits(s));
        var release = firstString < 0 ? segments : segments[..firstString];
        var pre = firstString < 0 ? [] : segments[firstString..];
        version = new GemVersion([.. TrimZeros(release), .. TrimZeros(pre)]);
        return true;
    }

    private static List<string> TrimZeros(List<string> segments)
    {
        var count = segments.Count;
        while (count > 0 && DigitString.IsDigits(segments[count - 1]) && DigitString.IsZero(segments[count - 1]))
        {
            count--;
        }

        return segments[..count];
    }

    [GeneratedRegex(@"^\s*([0-9]+(\.[0-9a-zA-Z]+)*(-[0-9A-Za-z-]+(\.[0-9A-Za-z-]+)*)?)?\s*$", RegexOptions.CultureInvariant, matchTimeoutMilliseconds: 1000)]
    private static partial Regex Valid();

    [GeneratedRegex("[0-9]+|[a-z]+", RegexOptions.IgnoreCase | RegexOptions.CultureInvariant, matchTimeoutMilliseconds: 1000)]
    private static partial Regex Segment();

    private sealed class GemVersion(string[] segments) : IComparable
    {
        private readonly string[] _segments = segments;

        public int CompareTo(object? obj)
        {
            if (obj is not GemVersion other)
            {
                throw new ArgumentException("not a RubyGems version", nameof(obj));
            }

            for (var i = 0; i < Math.Max(_segments.Length, other._segments.Length); i++)
            {
                var l = i < _segments.Length ? _segments[i] : "0";
                var r = i < other._segments.Length ? other._segments[i] : "0";
                var lNum = DigitString.IsDigits(l);
                var rNum = DigitString.IsDigits(r);
                var c = (lNum, rNum) switch
                {
                    (true, true) => DigitString.Compare(l, r),
                    (false, true) => -1,
                    (true, false) => 1,
                    _ => Math.Sign(string.CompareOrdinal(l, r)),
                };
                if (c != 0)
                {
                    return c;
                }
            }

            return 0;
        }
    }
}
