using System.Diagnostics;
using System.Text;
using System.Text.Json;
using Enclave.Intel.Indicators;
using Enclave.Intel.Stix;
using Enclave.Intel.Stix.Patterns;

namespace Enclave.Intel.Tests.Stix;

public sealed class StixPatternEvaluatorTests
{
    private static readonly DateTimeOffset T0 = new(2026, 3, 1, 12, 0, 0, TimeSpan.Zero);
    private readonly StixPatternEvaluator _evaluator = new();

    private bool Matches(string pattern, params StixObservedData[] observations) => _evaluator.Matches(_evaluator.Compile(StixPattern.Parse(pattern)), observations);

    private bool Matches(string pattern, string observable) => Matches(pattern, Observable.Parse(observable).ToObservation(T0));

    private static StixObservedData Observation(int seconds, params string[] objects)
    {
        var map = new Dictionary<string, JsonElement>(StringComparer.Ordinal);
        for (var i = 0; i < objects.Length; i++)
        {
            map[i.ToString(System.Globalization.CultureInfo.InvariantCulture)] = JsonDocument.Parse(objects[i]).RootElement.Clone();
        }

        return new StixObservedData { Id = $"observed-data--{seconds}", FirstObserved = T0.AddSeconds(seconds), LastObserved = T0.AddSeconds(seconds), Objects = map };
    }

    [Theory]
    [InlineData("[file:hashes.MD5 = 'b305b543da332a2fcf6e1ce55ed2ea79']", "file:hashes.md5=B305B543DA332A2FCF6E1CE55ED2EA79", true)]
    [InlineData("[file:hashes.'SHA-256' = 'ef537f25c895bfa782526529a9b63d97aa631564d5d789c2b765448c8635fb6c']", "file:hashes.SHA256=EF537F25C895BFA782526529A9B63D97AA631564D5D789C2B765448C8635FB6C", true)]
    [InlineData("[file:hashes.'SHA-1' = 'c79a326f8411e9488bdc3779753e1e3489aaedea']", "file:hashes.'SHA-1'=c79a326f8411e9488bdc3779753e1e3489aaedeb", false)]
    [InlineData("[file:hashes.'SHA-512' = 'AB']", "file:hashes.'SHA-512'=ab", true)]
    [InlineData("[ipv4-addr:value = '223.166.0.0/15']", "ipv4-addr:value=223.167.255.1", true)]
    [InlineData("[ipv4-addr:value = '223.166.0.0/15']", "ipv4-addr:value=223.168.0.1", false)]
    [InlineData("[ipv4-addr:value ISSUBSET '198.51.100.0/24']", "ipv4-addr:value=198.51.100.0/25", true)]
    [InlineData("[ipv4-addr:value ISSUBSET '198.51.100.0/24']", "ipv4-addr:value=198.51.0.0/16", false)]
    [InlineData("[ipv4-addr:value ISSUPERSET '198.51.100.7']", "ipv4-addr:value=198.51.100.0/24", true)]
    [InlineData("[ipv6-addr:value ISSUBSET '2001:db8::/32']", "ipv6-addr:value=2001:db8:1::7", true)]
    [InlineData("[ipv6-addr:value = '2001:db8::1']", "ipv6-addr:value=2001:db8::2", false)]
    [InlineData("[domain-name:value = 'hugesoft.org']", "domain-name:value=HugeSoft.org", true)]
    [InlineData("[domain-name:value LIKE '%.3322.org']", "domain-name:value=js001.3322.org", true)]
    [InlineData("[domain-name:value LIKE '%.3322.org']", "domain-name:value=3322.org", false)]
    [InlineData("[url:value = 'http://example.com/a']", "url:value=http://example.com/a", true)]
    [InlineData("[url:value = 'http://example.com/a']", "url:value=http://example.com/A", false)]
    [InlineData("[email-addr:value IN ('a@example.com', 'b@example.com')]", "email-addr:value=B@example.com", true)]
    [InlineData("[user-account:user_id = 'mallory']", "user-account:user_id=mallory", true)]
    [InlineData("[user-account:user_id != 'mallory']", "user-account:user_id=alice", true)]
    [InlineData("[user-account:user_id NOT = 'mallory']", "user-account:user_id=mallory", false)]
    [InlineData("[x-enclave-model:digest = 'sha256:AB12']", "x-enclave-model:digest=sha256:ab12", true)]
    [InlineData("[x-enclave-artifact:digest MATCHES '^sha256:ab']", "x-enclave-artifact:digest=sha256:abcdef", true)]
    [InlineData("[ipv4-addr:value = '10.0.0.1' OR domain-name:value = 'evil.example']", "domain-name:value=evil.example", true)]
    [InlineData("[ipv4-addr:value = '10.0.0.1' AND domain-name:value = 'evil.example']", "domain-name:value=evil.example", false)]
    [InlineData("[EXISTS user-account:user_id]", "user-account:user_id=x", true)]
    [InlineData("[EXISTS user-account:account_login]", "user-account:user_id=x", false)]
    public void Observable_MatchesLikeTheSpecSays(string pattern, string observable, bool expected) => Assert.Equal(expected, Matches(pattern, observable));

    [Fact]
    public void ALikePatternTooLargeForTheLinearTimeEngine_StillEvaluates_InsteadOfThrowing()
    {
        // A long LIKE with '_' made RegexOptions.NonBacktracking throw NotSupportedException (automaton over its node
        // limit) when the indicator was first evaluated; found beside the Sigma reader's same defect (fuzz/, sigma).
        // The backtracking engine takes tens of milliseconds here, so a loaded machine passed the default 100 ms timeout
        // (a timeout counts as no match) and failed the first assertion: the timeout is generous, since what is tested is
        // that the pattern evaluates rather than throws, not how fast.
        var evaluator = new StixPatternEvaluator(new StixEvaluatorOptions { RegexTimeout = TimeSpan.FromMinutes(5) });
        var middle = new string('t', 7000);
        var compiled = evaluator.Compile(StixPattern.Parse($"[domain-name:value LIKE '%{middle}_{middle}%']"));
        Assert.True(evaluator.Matches(compiled, Observable.Parse($"domain-name:value=a{middle}x{middle}b").ToObservation(T0)));
        Assert.False(evaluator.Matches(compiled, Observable.Parse($"domain-name:value=a{middle}{middle}b").ToObservation(T0)));
    }

    [Fact]
    public void AndOnSameType_MustHoldForTheSameObject()
    {
        var twoFiles = Observation(0, """{"type":"file","name":"a.exe","size":1}""", """{"type":"file","name":"b.exe","size":2}""");
        Assert.False(Matches("[file:name = 'a.exe' AND file:size = 2]", twoFiles));
        Assert.True(Matches("[file:name = 'a.exe' AND file:size = 1]", twoFiles));
        Assert.True(Matches("[file:name = 'a.exe' AND file:size = 1 OR file:name = 'zzz']", twoFiles));
    }

    [Fact]
    public void References_AreFollowedInsideTheObservation()
    {
        var email = Observation(0,
            """{"type":"email-message","from_ref":"1","to_refs":["2"],"subject":"hi"}""",
            """{"type":"email-addr","value":"mallory@example.com"}""",
            """{"type":"email-addr","value":"alice@example.com"}""");
        Assert.True(Matches("[email-message:from_ref.value = 'mallory@example.com']", email));
        Assert.False(Matches("[email-message:from_ref.value = 'alice@example.com']", email));
        Assert.True(Matches("[email-message:to_refs[*].value = 'alice@example.com']", email));
        Assert.True(Matches("[email-message:to_refs[0].value = 'alice@example.com']", email));
        Assert.False(Matches("[email-message:to_refs[1].value = 'alice@example.com']", email));

        var dns = Observation(0,
            """{"type":"domain-name","value":"c2.example","resolves_to_refs":["a","b"]}""".Replace("\"a\",\"b\"", "\"1\",\"2\"", StringComparison.Ordinal),
            """{"type":"ipv4-addr","value":"198.51.100.3"}""",
            """{"type":"ipv6-addr","value":"2001:db8::3"}""");
        Assert.True(Matches("[domain-name:resolves_to_refs[*].value = '198.51.100.0/24']", dns));
        Assert.True(Matches("[domain-name:resolves_to_refs[*].value ISSUBSET '2001:db8::/64']", dns));
        Assert.False(Matches("[domain-name:resolves_to_refs[*].value = '203.0.113.9']", dns));
    }

    [Fact]
    public void RealSightingBundle_ObservedFile_MatchesItsHash()
    {
        var bundle = new StixBundleReader().ReadFile(SharedTestData.Intel("stix/cti-documentation/sighting-of-observed-data.json"));
        Assert.True(_evaluator.Matches(_evaluator.Compile(StixPattern.Parse("[file:hashes.MD5 = '1717B7FFF97D37A1E1A0029D83492DE1' AND file:name = 'resume.pdf']")), bundle.ObservedData));
        Assert.False(_evaluator.Matches(_evaluator.Compile(StixPattern.Parse("[file:hashes.MD5 = '1717b7fff97d37a1e1a0029d83492de1' AND file:size > 90000]")), bundle.ObservedData));
    }

    [Fact]
    public void FollowedBy_Within_Repeats_StartStop_OverAnOrderedStream()
    {
        var login = """{"type":"user-account","user_id":"mallory"}""";
        var ip = """{"type":"ipv4-addr","value":"203.0.113.7"}""";
        var stream = new[] { Observation(0, login), Observation(10, ip), Observation(20, login), Observation(25, login), Observation(400, ip) };

        Assert.True(Matches("[user-account:user_id = 'mallory'] FOLLOWEDBY [ipv4-addr:value = '203.0.113.7']", stream));
        Assert.False(Matches("[ipv4-addr:value = '203.0.113.7'] FOLLOWEDBY [ipv4-addr:value = '203.0.113.8']", stream));
        Assert.True(Matches("([user-account:user_id = 'mallory'] FOLLOWEDBY [ipv4-addr:value = '203.0.113.7']) WITHIN 10 SECONDS", stream));
        Assert.False(Matches("([user-account:user_id = 'mallory'] FOLLOWEDBY [ipv4-addr:value = '203.0.113.7']) WITHIN 9 SECONDS", stream));
        Assert.False(Matches("([ipv4-addr:value = '203.0.113.7'] FOLLOWEDBY [user-account:user_id = 'mallory'] FOLLOWEDBY [ipv4-addr:value = '203.0.113.7']) WITHIN 300 SECONDS", stream));
        Assert.True(Matches("([ipv4-addr:value = '203.0.113.7'] FOLLOWEDBY [user-account:user_id = 'mallory'] FOLLOWEDBY [ipv4-addr:value = '203.0.113.7']) WITHIN 390 SECONDS", stream));
        Assert.True(Matches("[user-account:user_id = 'mallory'] REPEATS 3 TIMES", stream));
        Assert.False(Matches("[user-account:user_id = 'mallory'] REPEATS 4 TIMES", stream));
        Assert.True(Matches("([user-account:user_id = 'mallory'] REPEATS 2 TIMES) WITHIN 5 SECONDS", stream));
        Assert.False(Matches("([user-account:user_id = 'mallory'] REPEATS 3 TIMES) WITHIN 20 SECONDS", stream));
        Assert.True(Matches("[ipv4-addr:value = '203.0.113.7'] START t'2026-03-01T12:05:00Z' STOP t'2026-03-01T12:10:00Z'", stream));
        Assert.False(Matches("[ipv4-addr:value = '203.0.113.7'] START t'2026-03-01T12:00:11Z' STOP t'2026-03-01T12:06:40Z'", stream));
        Assert.True(Matches("[ipv4-addr:value = '198.51.100.1'] OR [user-account:user_id = 'mallory']", stream));
        Assert.False(Matches("[ipv4-addr:value = '198.51.100.1'] AND [user-account:user_id = 'mallory']", stream));

        // Order of the list given does not matter: observations are ordered by time.
        Assert.True(Matches("[user-account:user_id = 'mallory'] FOLLOWEDBY [ipv4-addr:value = '203.0.113.7']", stream.Reverse().ToArray()));
    }

    [Fact]
    public void Combinations_AreBounded()
    {
        var evaluator = new StixPatternEvaluator(new StixEvaluatorOptions { MaxBindings = 50 });
        var login = """{"type":"user-account","user_id":"mallory"}""";
        var stream = Enumerable.Range(0, 20).Select(i => Observation(i, login)).ToArray();
        var pattern = evaluator.Compile(StixPattern.Parse("[user-account:user_id = 'mallory'] AND [user-account:user_id = 'mallory']"));
        Assert.Contains("combinations", Assert.Throws<StixPatternException>(() => evaluator.Matches(pattern, stream)).Message, StringComparison.Ordinal);
    }

    [Fact]
    public void HostileRegex_CatastrophicBacktracking_IsBounded()
    {
        // (a+)+$ against "aaaa...!" is exponential for a backtracking engine; NonBacktracking answers in linear time.
        var hostile = "[file:name MATCHES '^(a+)+$']";
        var value = new string('a', 5000) + "!";
        var watch = Stopwatch.StartNew();
        Assert.False(Matches(hostile, "file:name=" + value));
        Assert.True(Matches(hostile, "file:name=aaaa"));

        // A backreference needs the backtracking engine: it runs with a match timeout and yields "no match", not a hang.
        var evaluator = new StixPatternEvaluator(new StixEvaluatorOptions { RegexTimeout = TimeSpan.FromMilliseconds(20) });
        var backtracking = evaluator.Compile(StixPattern.Parse("[file:name MATCHES '^(a|aa)+\\\\1(?=b)$']"));
        Assert.False(evaluator.Matches(backtracking, Observable.Parse("file:name=" + new string('a', 60) + "c").ToObservation(T0)));
        Assert.True(watch.Elapsed < TimeSpan.FromMinutes(1), "a hostile regex must not hang evaluation");
    }

    [Fact]
    public void InvalidRegex_IsReported_AndThatComparisonNeverMatches()
    {
        var assessor = new IndicatorAssessor(_evaluator);
        var alone = assessor.Assess(Indicator("[file:name MATCHES '(unclosed']"));
        Assert.Equal(IndicatorStatus.NotEvaluable, alone.Status);
        Assert.Contains("regex", Assert.Single(alone.Reasons), StringComparison.Ordinal);

        var mixed = assessor.Assess(Indicator("[file:hashes.MD5 = 'aa' OR file:name NOT MATCHES '(unclosed']"));
        Assert.Equal(IndicatorStatus.Partial, mixed.Status);
        Assert.True(_evaluator.Matches(mixed.Pattern!, Observable.Parse("file:hashes.MD5=AA").ToObservation(T0)));
        Assert.False(_evaluator.Matches(mixed.Pattern!, Observable.Parse("file:name=x").ToObservation(T0)));
    }

    internal static StixIndicator Indicator(string pattern, string id = "indicator--0", string type = "stix") => new()
    {
        Id = id,
        Pattern = pattern,
        PatternType = type,
        ValidFrom = T0.AddDays(-1),
        Created = T0.AddDays(-1),
        Modified = T0.AddDays(-1),
    };

    [Fact]
    public void Observable_RejectsMalformedText()
    {
        Assert.Throws<StixPatternException>(() => Observable.Parse("no-equals-sign"));
        Assert.Throws<StixPatternException>(() => Observable.Parse("ipv4-addr=1.2.3.4"));
        Assert.Throws<StixPatternException>(() => Observable.Parse("network-traffic:protocols[0]=tcp"));
        Assert.Equal("it's", Observable.Parse("file:name='it\\'s'").Value);
        Assert.Equal(Encoding.UTF8.GetByteCount("a=b"), Observable.Parse("url:value=a=b").Value.Length);
    }
}
