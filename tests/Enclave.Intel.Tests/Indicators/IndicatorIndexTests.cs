using Enclave.Intel.Indicators;
using Enclave.Intel.Stix;
using Enclave.Intel.Stix.Patterns;
using Enclave.Intel.Tests.Stix;

namespace Enclave.Intel.Tests.Indicators;

public sealed class IndicatorIndexTests
{
    private static readonly DateTimeOffset Now = new(2026, 3, 1, 0, 0, 0, TimeSpan.Zero);
    private readonly StixPatternEvaluator _evaluator = new();

    private IndicatorIndex Build(params StixIndicator[] indicators)
    {
        var assessor = new IndicatorAssessor(_evaluator);
        return IndicatorIndex.Build(indicators.Select(i => assessor.Assess(i)), _evaluator);
    }

    private static List<string> Ids(IndicatorIndex index, string observable, DateTimeOffset? at = null)
    {
        var slots = new List<int>();
        index.Match(Observable.Parse(observable), at ?? Now, slots);
        return slots.Select(s => index[s].Indicator.Id).Order(StringComparer.Ordinal).ToList();
    }

    private static StixIndicator Indicator(string id, string pattern, DateTimeOffset? validUntil = null, bool revoked = false, DateTimeOffset? validFrom = null) =>
        StixPatternEvaluatorTests.Indicator(pattern, "indicator--" + id) with { ValidUntil = validUntil, Revoked = revoked, ValidFrom = validFrom ?? Now.AddDays(-30) };

    [Fact]
    public void Index_AgreesWithFullEvaluation_OnEveryRealIndicatorAndObservable()
    {
        var assessor = new IndicatorAssessor(_evaluator);
        var assessments = StixPatternParserTests.RealIndicators().Select(i => assessor.Assess(i)).ToList();
        var index = IndicatorIndex.Build(assessments, _evaluator);
        var at = new DateTimeOffset(2030, 1, 1, 0, 0, 0, TimeSpan.Zero);

        var observables = new HashSet<string>(StringComparer.Ordinal)
        {
            "ipv4-addr:value=223.167.1.2", "ipv4-addr:value=223.168.0.1", "ipv4-addr:value=10.0.0.0", "ipv4-addr:value=10.0.0.1",
            "domain-name:value=WWW.WEBSERVER.DYNSSL.COM", "file:name=CBricksDoc", "file:name=update.exe", "user-account:user_id=nobody",
        };
        // Every fifth constant of an equality in the real patterns (all of them take half a minute of full evaluation
        // on a loaded machine), as given and upper-cased.
        var n = 0;
        foreach (var comparison in assessments.SelectMany(a => a.Pattern!.Pattern.Comparisons))
        {
            if (comparison.Operator == ComparisonOperator.Equal && comparison.Constant!.Kind == ConstantKind.String && !comparison.Path.Steps.Any(s => s.IsIndex || s.Key!.EndsWith("_ref", StringComparison.Ordinal))
                && n++ % 5 == 0)
            {
                observables.Add($"{comparison.Path}={PatternConstant.Quote(comparison.Constant.AsString)}");
                observables.Add($"{comparison.Path}={PatternConstant.Quote(comparison.Constant.AsString.ToUpperInvariant())}");
            }
        }

        Assert.True(observables.Count > 300, $"{observables.Count} observables");
        var matched = 0;
        foreach (var text in observables)
        {
            var observation = Observable.Parse(text).ToObservation(at);
            var expected = assessments.Where(a => a.Indicator.IsLiveAt(at) && _evaluator.Matches(a.Pattern!, observation))
                .Select(a => a.Indicator.Id).Order(StringComparer.Ordinal).ToList();
            var actual = Ids(index, text, at);
            Assert.True(expected.SequenceEqual(actual), $"{text}: expected {string.Join(", ", expected)}; index gave {string.Join(", ", actual)}");
            matched += expected.Count > 0 ? 1 : 0;
        }

        Assert.True(matched > 100, $"only {matched} observables matched anything");
    }

    [Fact]
    public void ValidityWindowAndRevocation_AreRespected()
    {
        var index = Build(
            Indicator("live", "[ipv4-addr:value = '198.51.100.7']"),
            Indicator("expired", "[ipv4-addr:value = '198.51.100.7']", validUntil: Now),
            Indicator("revoked", "[ipv4-addr:value = '198.51.100.7']", revoked: true),
            Indicator("future", "[ipv4-addr:value = '198.51.100.7']", validFrom: Now.AddSeconds(1)));
        Assert.Equal(["indicator--live"], Ids(index, "ipv4-addr:value=198.51.100.7"));
        Assert.Equal(["indicator--expired", "indicator--live"], Ids(index, "ipv4-addr:value=198.51.100.7", Now.AddTicks(-1)));
        Assert.Equal(["indicator--future", "indicator--live"], Ids(index, "ipv4-addr:value=198.51.100.7", Now.AddSeconds(1)));
    }

    [Fact]
    public void CidrTrie_FindsEveryEnclosingBlock_V4AndV6()
    {
        var index = Build(
            Indicator("v4-8", "[ipv4-addr:value = '10.0.0.0/8']"),
            Indicator("v4-24", "[ipv4-addr:value ISSUBSET '10.1.2.0/24']"),
            Indicator("v4-host", "[ipv4-addr:value IN ('10.1.2.3', '192.0.2.1')]"),
            Indicator("v4-all", "[ipv4-addr:value = '0.0.0.0/0']"),
            Indicator("v6-32", "[ipv6-addr:value = '2001:db8::/32']"),
            Indicator("v6-host", "[ipv6-addr:value = '2001:db8::1']"));
        Assert.Equal(["indicator--v4-24", "indicator--v4-8", "indicator--v4-all", "indicator--v4-host"], Ids(index, "ipv4-addr:value=10.1.2.3"));
        Assert.Equal(["indicator--v4-24", "indicator--v4-8", "indicator--v4-all"], Ids(index, "ipv4-addr:value=10.1.2.0/25"));
        Assert.Equal(["indicator--v4-8", "indicator--v4-all"], Ids(index, "ipv4-addr:value=10.200.0.1"));
        Assert.Equal(["indicator--v4-all"], Ids(index, "ipv4-addr:value=11.0.0.1"));
        Assert.Equal(["indicator--v6-32", "indicator--v6-host"], Ids(index, "ipv6-addr:value=2001:DB8:0::1"));
        Assert.Equal(["indicator--v6-32"], Ids(index, "ipv6-addr:value=2001:db8:ffff::1"));
        Assert.Empty(Ids(index, "ipv6-addr:value=2001:db9::1"));
        Assert.Empty(Ids(index, "ipv4-addr:value=not-an-address"));
    }

    [Fact]
    public void DomainSuffixTable_MatchesSubdomainsOnly_ExactTableMatchesExactly()
    {
        var index = Build(
            Indicator("suffix", "[domain-name:value LIKE '%.3322.org']"),
            Indicator("exact", "[domain-name:value = 'js001.3322.org']"));
        Assert.Equal(["indicator--exact", "indicator--suffix"], Ids(index, "domain-name:value=JS001.3322.org"));
        Assert.Equal(["indicator--suffix"], Ids(index, "domain-name:value=a.b.3322.org"));
        Assert.Empty(Ids(index, "domain-name:value=3322.org"));
        Assert.Empty(Ids(index, "domain-name:value=x3322.org"));
    }

    [Fact]
    public void ResidualPatterns_AreEvaluatedInFull_AndOnlyForTheirTypes()
    {
        var index = Build(
            Indicator("and", "[file:hashes.MD5 = 'aa' AND file:name = 'x.exe']"),
            Indicator("or", "[file:hashes.MD5 = 'bb' OR file:name MATCHES '^evil']"),
            Indicator("not", "[user-account:user_id NOT = 'alice']"),
            Indicator("stream", "[user-account:user_id = 'mallory'] FOLLOWEDBY [ipv4-addr:value = '198.51.100.1']"));
        Assert.Empty(Ids(index, "file:hashes.MD5=aa"));
        Assert.Equal(["indicator--or"], Ids(index, "file:hashes.MD5=BB"));
        Assert.Equal(["indicator--or"], Ids(index, "file:name=evil.dll"));
        Assert.Equal(["indicator--not"], Ids(index, "user-account:user_id=mallory"));
        Assert.Equal(["indicator--x"], Ids(Build(Indicator("x", "[file:hashes.MD5 = 'aa'] OR [user-account:user_id = 'q']")), "user-account:user_id=q"));
        Assert.Empty(Ids(index, "user-account:user_id=alice"));
        Assert.Empty(Ids(index, "ipv4-addr:value=198.51.100.1"));
        Assert.Equal(2, index.ResidualPatterns - 1); // and, or's MATCHES, not (the stream pattern is not indexed at all)
    }

    [Fact]
    public void EnclaveDigests_AreIndexed_CaseInsensitive()
    {
        var index = Build(Indicator("model", "[x-enclave-model:digest = 'sha256:ABCDEF'] "), Indicator("artifact", "[x-enclave-artifact:digest IN ('sha256:01', 'sha256:02')]"));
        var slots = new List<int>();
        Assert.Equal(1, index.Match(IndexedProperty.ModelDigest, "sha256:abcdef", Now, slots));
        Assert.Equal(1, index.Match(IndexedProperty.ArtifactDigest, "SHA256:02", Now, slots));
        Assert.Equal(0, index.Match(IndexedProperty.ArtifactDigest, "sha256:abcdef", Now, slots));
        Assert.Equal(0, index.ResidualPatterns);
    }
}
