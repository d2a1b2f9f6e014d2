using System.Text.RegularExpressions;

namespace Enclave.Intel.Stix.Patterns;

/// <summary>A parsed pattern with its regular expressions (MATCHES, LIKE) compiled once.</summary>
public sealed class CompiledPattern
{
    internal CompiledPattern(StixPattern pattern, Dictionary<PropertyComparison, Regex> regexes, IReadOnlyList<string> problems)
    {
        Pattern = pattern;
        Regexes = regexes;
        Problems = problems;
    }

    public StixPattern Pattern { get; }

    internal Dictionary<PropertyComparison, Regex> Regexes { get; }

    /// <summary>Comparisons that cannot be evaluated (an invalid regex), each with why; such a comparison is never true, negated or not.</summary>
    public IReadOnlyList<string> Problems { get; }
}
