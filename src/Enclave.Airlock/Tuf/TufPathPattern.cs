namespace Enclave.Airlock.Tuf;

/// <summary>
/// Delegation path patterns (spec §4.5): shell-style <c>*</c> and <c>?</c> that never match <c>/</c>, so a
/// pattern and a path must have the same number of segments. Linear-time per segment; no regex.
/// </summary>
internal static class TufPathPattern
{
    public static bool Matches(string pattern, string path)
    {
        var patternSegments = pattern.Split('/');
        var pathSegments = path.Split('/');
        if (patternSegments.Length != pathSegments.Length)
        {
            return false;
        }

        for (var i = 0; i < patternSegments.Length; i++)
        {
            if (!MatchSegment(patternSegments[i], pathSegments[i]))
            {
                return false;
            }
        }

        return true;
    }

    private static bool MatchSegment(string pattern, string text)
    {
        int p = 0, t = 0, star = -1, mark = 0;
        while (t < text.Length)
        {
            if (p < pattern.Length && (pattern[p] == '?' || pattern[p] == text[t]) && pattern[p] != '*')
            {
                p++;
                t++;
            }
            else if (p < pattern.Length && pattern[p] == '*')
            {
                star = p++;
                mark = t;
            }
            else if (star >= 0)
            {
                p = star + 1;
                t = ++mark;
            }
            else
            {
                return false;
            }
        }

        while (p < pattern.Length && pattern[p] == '*')
        {
            p++;
        }

        return p == pattern.Length;
    }
}
