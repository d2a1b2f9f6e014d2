using Enclave.Intel.Stix;
using Enclave.Intel.Stix.Patterns;

namespace Enclave.Intel.Indicators;

/// <summary>Parses and compiles each indicator's pattern and says what Enclave can evaluate; nothing is dropped silently.</summary>
public sealed class IndicatorAssessor
{
    private static readonly HashSet<string> Hashes = new(StringComparer.Ordinal) { "MD5", "SHA1", "SHA256", "SHA512" };
    private readonly StixPatternEvaluator _evaluator;
    private readonly StixPatternLimits _limits;

    public IndicatorAssessor(StixPatternEvaluator evaluator, StixPatternLimits? limits = null)
    {
        _evaluator = evaluator;
        _limits = limits ?? StixPatternLimits.Default;
    }

    public IndicatorAssessment Assess(StixIndicator indicator, string source = "")
    {
        ArgumentNullException.ThrowIfNull(indicator);
        if (!string.Equals(indicator.PatternType, "stix", StringComparison.Ordinal))
        {
            return NotEvaluable(indicator, source, $"pattern_type '{indicator.PatternType}' is not evaluated (only 'stix')");
        }

        StixPattern pattern;
        try
        {
            pattern = StixPattern.Parse(indicator.Pattern, _limits);
        }
        catch (StixPatternException ex)
        {
            return NotEvaluable(indicator, source, $"invalid pattern: {ex.Message}");
        }

        var compiled = _evaluator.Compile(pattern);
        var broken = compiled.Problems.Count;
        var regexComparisons = pattern.Comparisons.Count(c => c.Operator is ComparisonOperator.Matches or ComparisonOperator.Like);
        if (broken > 0 && broken == pattern.Comparisons.Count)
        {
            return NotEvaluable(indicator, source, compiled.Problems[0]);
        }

        var unsupported = pattern.Comparisons.Where(c => !IsObserved(c.Path)).Select(c => c.Path.ToString()).Distinct(StringComparer.Ordinal).ToList();
        var status = unsupported.Count == 0 ? IndicatorStatus.Evaluable
            : unsupported.Count == pattern.Comparisons.Select(c => c.Path.ToString()).Distinct(StringComparer.Ordinal).Count() ? IndicatorStatus.ObservedDataOnly
            : IndicatorStatus.Partial;
        var reasons = new List<string>();
        if (unsupported.Count > 0)
        {
            reasons.Add("not observed by Enclave: " + string.Join(", ", unsupported));
        }

        if (broken > 0)
        {
            status = status == IndicatorStatus.Evaluable ? IndicatorStatus.Partial : status;
            reasons.AddRange(compiled.Problems.Select(p => $"{p} (that comparison never matches; {broken} of {regexComparisons} regexes)"));
        }

        return new IndicatorAssessment { Indicator = indicator, Status = status, Reasons = reasons, Pattern = compiled, Source = source };
    }

    private static IndicatorAssessment NotEvaluable(StixIndicator indicator, string source, string reason) =>
        new() { Indicator = indicator, Status = IndicatorStatus.NotEvaluable, Reasons = [reason], Source = source };

    /// <summary>Whether Enclave's own events (and the observable shorthand) carry this property.</summary>
    public static bool IsObserved(ObjectPath path)
    {
        ArgumentNullException.ThrowIfNull(path);
        var steps = path.Steps;
        if (steps.Any(s => s.Key is { } k && (k.EndsWith("_ref", StringComparison.Ordinal) || k.EndsWith("_refs", StringComparison.Ordinal))))
        {
            // A reference followed to an address, domain or e-mail address: email-message:from_ref.value, domain-name:resolves_to_refs[*].value.
            return steps[^1].Key == "value";
        }

        return path.ObjectType switch
        {
            "file" => steps.Count == 2 && steps[0].Key == "hashes" && steps[1].Key is { } h && Hashes.Contains(StixPatternEvaluator.HashName(h)),
            "ipv4-addr" or "ipv6-addr" or "domain-name" or "url" or "email-addr" => steps.Count == 1 && steps[0].Key == "value",
            "user-account" => steps.Count == 1 && steps[0].Key == "user_id",
            "x-enclave-artifact" or "x-enclave-model" => steps.Count == 1 && steps[0].Key == "digest",
            _ => false,
        };
    }
}
