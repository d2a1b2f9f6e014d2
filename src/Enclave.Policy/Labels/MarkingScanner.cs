using System.Text;
using System.Text.RegularExpressions;

namespace Enclave.Policy.Labels;

/// <summary>
/// Finds banner and portion markings of one scheme in free text. Matching is case-sensitive (markings are
/// upper case), anchored on word boundaries, time-limited, and bounded by the caller's character budget.
/// </summary>
internal sealed class MarkingScanner
{
    private readonly LabelScheme _scheme;
    private readonly Regex _regex;

    public MarkingScanner(LabelScheme scheme, TimeSpan matchTimeout)
    {
        ArgumentNullException.ThrowIfNull(scheme);
        _scheme = scheme;
        string caveats = @"(?://(?:REL TO [A-Z0-9]{1,64}(?:, [A-Z0-9]{1,64}){0,63}|[A-Z0-9]{1,64}(?:/[A-Z0-9]{1,64}){0,63})){0,8}";
        string names = Alternation(scheme.Levels.Select(l => l.Name));
        string abbreviations = Alternation(scheme.Levels.Select(l => l.Abbreviation));
        string pattern =
            $@"(?<banner>(?<![A-Za-z0-9/(])(?:{names}){caveats}(?![A-Za-z0-9]))"
            + $@"|(?<portion>(?<![A-Za-z0-9])\((?:{abbreviations}){caveats}\))";
        _regex = new Regex(pattern, RegexOptions.CultureInvariant | RegexOptions.ExplicitCapture | RegexOptions.Compiled, matchTimeout);
    }

    /// <summary>
    /// Adds the markings found in <paramref name="text"/> to <paramref name="found"/>, at most
    /// <paramref name="maxMarkings"/> in all. Returns false when that bound was reached before the text ended.
    /// </summary>
    /// <exception cref="RegexMatchTimeoutException">Matching ran past the timeout.</exception>
    public bool Scan(string text, int messageIndex, List<FoundMarking> found, int maxMarkings)
    {
        for (Match m = _regex.Match(text); m.Success; m = m.NextMatch())
        {
            if (found.Count >= maxMarkings)
            {
                return false;
            }

            bool portion = m.Groups["portion"].Success;
            string value = m.Value;
            MarkingError error = _scheme.TryParse(value, portion, out SecurityLabel label, out string message);
            string? problem = null;
            if (error != MarkingError.None)
            {
                // The level matched the scheme (the pattern requires it), but a compartment or caveat did not:
                // fail closed at that level with every compartment and releasable to nobody, so the request is
                // never under-labelled because of a marking the scheme does not know.
                string levelText = value[(portion ? 1 : 0)..];
                int cut = levelText.IndexOf("//", StringComparison.Ordinal);
                levelText = cut >= 0 ? levelText[..cut] : levelText.TrimEnd(')');
                _ = _scheme.TryParse(portion ? "(" + levelText + ")" : levelText, portion, out SecurityLabel level, out _);
                label = new SecurityLabel(level.Level, _scheme.Highest.CompartmentMask, unrestricted: false, 0);
                problem = message;
            }

            found.Add(new FoundMarking(messageIndex, m.Index, m.Length, label, portion, problem));
        }

        return true;
    }

    private static string Alternation(IEnumerable<string> words)
    {
        var sb = new StringBuilder();
        foreach (string w in words.OrderByDescending(w => w.Length).ThenBy(w => w, StringComparer.Ordinal))
        {
            sb.Append(sb.Length == 0 ? string.Empty : "|").Append(Regex.Escape(w));
        }

        return sb.ToString();
    }
}
