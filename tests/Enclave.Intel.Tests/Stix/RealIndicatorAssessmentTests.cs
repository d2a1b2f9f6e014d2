using Enclave.Intel.Indicators;
using Enclave.Intel.Stix.Patterns;

namespace Enclave.Intel.Tests.Stix;

/// <summary>Every indicator in the real STIX data is either evaluable or listed with the reason it is not (fully).</summary>
public sealed class RealIndicatorAssessmentTests
{
    private static readonly List<IndicatorAssessment> Assessments =
        StixPatternParserTests.RealIndicators().Select(i => new IndicatorAssessor(new StixPatternEvaluator()).Assess(i)).ToList();

    [Fact]
    public void RealIndicators_CountsPerStatus()
    {
        Assert.Equal(92, Assessments.Count);
        Assert.Equal(39, Assessments.Count(a => a.Status == IndicatorStatus.Evaluable));
        Assert.Equal(47, Assessments.Count(a => a.Status == IndicatorStatus.Partial));
        Assert.Equal(6, Assessments.Count(a => a.Status == IndicatorStatus.ObservedDataOnly));
        Assert.Equal(0, Assessments.Count(a => a.Status == IndicatorStatus.NotEvaluable));
        Assert.All(Assessments, a => Assert.Equal(a.Status == IndicatorStatus.Evaluable, a.Reasons.Count == 0));
        Assert.All(Assessments, a => Assert.NotNull(a.Pattern));
    }

    [Fact]
    public void RealIndicators_ReasonsNameThePathsAndTheBrokenRegexes()
    {
        var reasons = Assessments.SelectMany(a => a.Reasons).ToList();

        // APT1's certificate indicators and the e-mail examples: objects Enclave never observes itself.
        Assert.Equal(2, reasons.Count(r => r == "not observed by Enclave: x509-certificate:issuer, x509-certificate:serial_number"));
        Assert.Single(reasons, r => r == "not observed by Enclave: email-message:subject");
        Assert.Equal(2, reasons.Count(r => r == "not observed by Enclave: file:name")); // Poison Ivy's CBricksDoc / CPiShellPutDoc

        // The elevator's IOC appendix carries Windows paths as MATCHES regexes with unescaped backslashes: invalid regexes.
        var brokenRegex = Assessments.Where(a => a.Reasons.Any(r => r.StartsWith("MATCHES regex", StringComparison.Ordinal))).ToList();
        Assert.Equal(14, brokenRegex.Count);
        Assert.All(brokenRegex, a => Assert.Equal(IndicatorStatus.Partial, a.Status)); // their MD5 comparisons still work
        Assert.Contains(reasons, r => r.StartsWith(@"MATCHES regex 'Software\Microsoft\Windows\CurrentVersion\Run' is invalid", StringComparison.Ordinal));

        // The network-traffic idiom compares ports, protocols and HTTP headers: none observed, one reference that is.
        var network = Assert.Single(Assessments, a => a.Indicator.Pattern.Contains("network-traffic:src_ref.value", StringComparison.Ordinal));
        Assert.Equal(IndicatorStatus.Partial, network.Status);
        Assert.DoesNotContain("src_ref", network.Reasons[0], StringComparison.Ordinal);
    }
}
