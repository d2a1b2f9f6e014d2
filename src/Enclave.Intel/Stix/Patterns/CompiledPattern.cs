using System.Text.RegularExpressions;

namespace Enclave.Intel.Stix.Patterns;

/// <summary>A parsed pattern with its regular expressions (MATCHES, LIKE) checked, built on first use (a linear-time regex is costly to build).</summary>
public sealed class CompiledPattern
{
    internal CompiledPattern(StixPattern pattern, Dictionary<PropertyComparison, Lazy<Regex>> regexes, IReadOnlyList<string> problems)
    {
        Pattern = pattern;
        Regexes = regexes;
        Problems = problems;
    }

    public StixPattern Pattern { get; }

    internal Dictionary<PropertyComparison, Lazy<Regex>> Regexes { get; }

    /// <summary>Comparisons that cannot be evaluated (an invalid regex), each with why; such a comparison is never true, negated or not.</summary>
    public IReadOnlyList<string> Problems { get; }
}
