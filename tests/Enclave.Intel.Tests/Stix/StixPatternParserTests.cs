using Enclave.Intel.Stix;
using Enclave.Intel.Stix.Patterns;

namespace Enclave.Intel.Tests.Stix;

public sealed class StixPatternParserTests
{
    internal static IEnumerable<StixIndicator> RealIndicators()
    {
        var reader = new StixBundleReader();
        foreach (var file in Directory.EnumerateFiles(SharedTestData.Intel("stix"), "*.json", SearchOption.AllDirectories).Order(StringComparer.Ordinal))
        {
            foreach (var indicator in reader.ReadFile(file).Indicators)
            {
                yield return indicator;
            }
        }
    }

    [Fact]
    public void EveryRealPattern_Parses()
    {
        var parsed = 0;
        foreach (var indicator in RealIndicators())
        {
            var pattern = StixPattern.Parse(indicator.Pattern);
            Assert.NotEmpty(pattern.Comparisons);
            parsed++;
        }

        Assert.Equal(92, parsed);
    }

    [Fact]
    public void Precedence_FollowedByLowest_ThenOrThenAnd()
    {
        var pattern = StixPattern.Parse("[a:x = 1] AND [a:x = 2] OR [a:x = 3] FOLLOWEDBY [a:x = 4]");
        var top = Assert.IsType<ObservationBinary>(pattern.Root);
        Assert.Equal(ObservationOperator.FollowedBy, top.Operator);
        var or = Assert.IsType<ObservationBinary>(top.Left);
        Assert.Equal(ObservationOperator.Or, or.Operator);
        Assert.Equal(ObservationOperator.And, Assert.IsType<ObservationBinary>(or.Left).Operator);

        var inside = Assert.IsType<ObservationComparison>(StixPattern.Parse("[a:x = 1 OR a:y = 2 AND a:z = 3]").Root).Comparison;
        var cmpOr = Assert.IsType<ComparisonBinary>(inside);
        Assert.False(cmpOr.IsAnd);
        Assert.True(Assert.IsType<ComparisonBinary>(cmpOr.Right).IsAnd);
    }

    [Fact]
    public void Qualifiers_WithinRepeatsStartStop_Parse()
    {
        var pattern = StixPattern.Parse("([file:name = 'a'] REPEATS 5 TIMES WITHIN 1.5 SECONDS) START t'2016-06-01T00:00:00Z' STOP t'2016-07-01T00:00:00.5Z'");
        var startStop = Assert.IsType<ObservationQualified>(pattern.Root);
        var qualifier = Assert.IsType<StartStopQualifier>(startStop.Qualifier);
        Assert.Equal(new DateTimeOffset(2016, 7, 1, 0, 0, 0, 500, TimeSpan.Zero), qualifier.Stop);
        var within = Assert.IsType<ObservationQualified>(startStop.Inner);
        Assert.Equal(1.5m, Assert.IsType<WithinQualifier>(within.Qualifier).Seconds);
        Assert.Equal(5, Assert.IsType<RepeatsQualifier>(Assert.IsType<ObservationQualified>(within.Inner).Qualifier).Times);
    }

    [Theory]
    [InlineData("[file:hashes.'SHA-256' = 'ab']", "file:hashes.'SHA-256' = 'ab'")]
    [InlineData("[network-traffic:protocols[*] = 'tcp']", "network-traffic:protocols[*] = 'tcp'")]
    [InlineData("[domain-name:resolves_to_refs[0].value NOT = 'x']", "domain-name:resolves_to_refs[0].value NOT = 'x'")]
    [InlineData("[file:name = 'it\\'s \\\\ ok']", "file:name = 'it\\'s \\\\ ok'")]
    [InlineData("[file:size >= -12]", "file:size >= -12")]
    [InlineData("[file:size < +7.25]", "file:size < 7.25")]
    [InlineData("[x:flag != true]", "x:flag != true")]
    [InlineData("[artifact:payload_bin = b'aGVsbG8=']", "artifact:payload_bin = b'aGVsbG8='")]
    [InlineData("[file:magic_number_hex = h'FFD8']", "file:magic_number_hex = h'ffd8'")]
    [InlineData("[file:created > t'2014-01-13T07:03:17Z']", "file:created > t'2014-01-13T07:03:17Z'")]
    [InlineData("[ipv4-addr:value IN ('10.0.0.1', '10.0.0.2')]", "ipv4-addr:value IN ('10.0.0.1', '10.0.0.2')")]
    [InlineData("[ipv4-addr:value ISSUBSET '198.51.100.0/24']", "ipv4-addr:value ISSUBSET '198.51.100.0/24'")]
    [InlineData("[EXISTS windows-registry-key:values]", "EXISTS windows-registry-key:values")]
    [InlineData("[ 'x-enclave-model':digest LIKE 'sha256:%' ]", null)]
    [InlineData("[user-account:user_id = 'alice' /* a comment */]", "user-account:user_id = 'alice'")]
    public void Comparison_ParsesToCanonicalText(string text, string? expected)
    {
        if (expected is null)
        {
            // Object types are identifiers, not strings, in the grammar.
            Assert.Throws<StixPatternException>(() => StixPattern.Parse(text));
            return;
        }

        Assert.Equal(expected, Assert.Single(StixPattern.Parse(text).Comparisons).ToString());
    }

    [Theory]
    [InlineData("[file:name = 'a'", "']'")]
    [InlineData("[file:name = 'a'] and [file:name = 'b']", "end of pattern")]
    [InlineData("[file:name = 'a\\n']", "escaped")]
    [InlineData("[file:name = 'a]", "unterminated")]
    [InlineData("[file:name < true]", "orderable")]
    [InlineData("[file:hashes.SHA-256 = 'a']", "quote keys")]
    [InlineData("[file:size = 007]", "leading zero")]
    [InlineData("[file:x = h'abc']", "hex")]
    [InlineData("[file:x = b'abc']", "base64")]
    [InlineData("[file:x = t'2016-13-01T00:00:00Z']", "timestamp")]
    [InlineData("[file:x = t'2016-01-01 00:00:00Z']", "timestamp")]
    [InlineData("[file:name MATCHES 5]", "string after MATCHES")]
    [InlineData("[file:name = 'a'] WITHIN 0 SECONDS", "positive")]
    [InlineData("[file:name = 'a'] REPEATS 0 TIMES", "positive")]
    [InlineData("[file:name = 'a'] START t'2016-02-01T00:00:00Z' STOP t'2016-01-01T00:00:00Z'", "later")]
    [InlineData("file:name = 'a'", "'['")]
    [InlineData("[]", "object type")]
    [InlineData("[file = 'a']", "':'")]
    [InlineData("[file:name ~ 'a']", "unexpected character")]
    public void InvalidPattern_IsRejected_NamingWhatAndWhere(string text, string expected)
    {
        var ex = Assert.Throws<StixPatternException>(() => StixPattern.Parse(text));
        Assert.Contains(expected, ex.Message, StringComparison.Ordinal);
        Assert.Contains("at character", ex.Message, StringComparison.Ordinal);
    }

    [Fact]
    public void Bounds_DepthLengthAndComparisons_AreEnforced()
    {
        var deep = new string('(', 200) + "[a:b = 1]" + new string(')', 200);
        Assert.Contains("deeper", Assert.Throws<StixPatternException>(() => StixPattern.Parse(deep)).Message, StringComparison.Ordinal);
        Assert.Contains("longer", Assert.Throws<StixPatternException>(() => StixPattern.Parse("[a:b = 1]", new StixPatternLimits { MaxLength = 5 })).Message, StringComparison.Ordinal);
        var many = "[" + string.Join(" OR ", Enumerable.Range(0, 20).Select(i => $"a:b = {i}")) + "]";
        Assert.Contains("comparisons", Assert.Throws<StixPatternException>(() => StixPattern.Parse(many, new StixPatternLimits { MaxComparisons = 10 })).Message, StringComparison.Ordinal);
    }

    [Fact]
    public void TamperedRealPattern_OneByteFlipped_FailsClosedOrParses_NeverCrashes()
    {
        var text = "[domain-name:value = 'www.webserver.dynssl.com' OR ipv4-addr:value = '113.10.246.30'] FOLLOWEDBY [file:hashes.'SHA-256' = 'ab'] WITHIN 5 SECONDS";
        for (var i = 0; i < text.Length; i++)
        {
            foreach (var replacement in new[] { '\'', '[', ')', 'x', '\\', ' ' })
            {
                var tampered = text[..i] + replacement + text[(i + 1)..];
                try
                {
                    StixPattern.Parse(tampered);
                }
                catch (StixPatternException)
                {
                }
            }
        }
    }
}
