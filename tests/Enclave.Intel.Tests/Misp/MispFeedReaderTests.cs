using System.Text;
using Enclave.Intel.Indicators;
using Enclave.Intel.Misp;
using Enclave.Intel.Stix;
using Enclave.Intel.Stix.Patterns;

namespace Enclave.Intel.Tests.Misp;

public sealed class MispFeedReaderTests : IDisposable
{
    private const string EventUuid = "57c4445b-c548-4654-af0b-4be3950d210f";
    private readonly string _feed = Path.Combine(Path.GetTempPath(), "enclave-misp-" + Guid.NewGuid().ToString("N"));

    public MispFeedReaderTests() => Directory.CreateDirectory(_feed);

    public void Dispose() => Directory.Delete(_feed, recursive: true);

    private static byte[] RealEvent() => File.ReadAllBytes(SharedTestData.Intel($"misp/{EventUuid}.json"));

    private void WriteFeed(byte[] eventBytes, string? manifest = null)
    {
        File.WriteAllBytes(Path.Combine(_feed, EventUuid + ".json"), eventBytes);
        File.WriteAllText(Path.Combine(_feed, "manifest.json"), manifest ?? $$$"""{"{{{EventUuid}}}":{"Orgc":{"name":"CIRCL","uuid":"55f6ea5e-2c60-40e5-964f-47a8950d210f"},"Tag":[{"name":"tlp:white","colour":"#ffffff"}],"info":"Ransomware - Xorist","date":"2016-08-29","analysis":2,"threat_level_id":3,"timestamp":1472541011}}""");
    }

    [Fact]
    public void RealEvent_ToIdsAttributes_BecomeIndicators_OthersListedWithReasons()
    {
        WriteFeed(RealEvent());
        var feed = new MispFeedReader().ReadDirectory(_feed);
        Assert.Equal(1, feed.Events);
        Assert.Null(feed.Note);
        Assert.Equal(
            [
                "[file:name = '3Z4wnG9603it23y.exe']",
                "[file:hashes.'MD5' = '0749bae92ca336a02c83d126e04ec628']",
                "[file:hashes.'SHA-1' = '77b0c41b7d340b8a3d903f21347bbf06aa766b5b']",
                "[file:hashes.'SHA-256' = 'b3c4ae251f8094fa15b510051835c657eaef2a6cea46075d3aec964b14a99f68']",
            ],
            feed.Indicators.Select(i => i.Pattern));
        Assert.Equal("indicator--57c4448b-3fa4-4d65-9ccc-4afa950d210f", feed.Indicators[3].Id);
        Assert.Equal(DateTimeOffset.FromUnixTimeSeconds(1472480395), feed.Indicators[3].ValidFrom);

        Assert.Equal(5, feed.Skipped.Count);
        Assert.Equal(4, feed.Skipped.Count(s => s.Reason == "to_ids is false: context, not for detection"));
        var regkey = Assert.Single(feed.Skipped, s => s.Type == "regkey|value");
        Assert.StartsWith("MISP type 'regkey|value' has no STIX pattern mapping", regkey.Reason, StringComparison.Ordinal);
    }

    [Fact]
    public void RealEvent_Indicators_MatchThroughTheIndex()
    {
        var feed = new MispFeedReader().ReadEvent(RealEvent(), EventUuid + ".json");
        var evaluator = new StixPatternEvaluator();
        var assessor = new IndicatorAssessor(evaluator);
        var assessments = feed.Indicators.Select(i => assessor.Assess(i)).ToList();
        Assert.Equal(3, assessments.Count(a => a.Status == IndicatorStatus.Evaluable));
        Assert.Equal(IndicatorStatus.ObservedDataOnly, assessments[0].Status);
        var index = IndicatorIndex.Build(assessments, evaluator);
        var slots = new List<int>();
        Assert.Equal(1, index.Match(Observable.Parse("file:hashes.'SHA-256'=B3C4AE251F8094FA15B510051835C657EAEF2A6CEA46075D3AEC964B14A99F68"), DateTimeOffset.UtcNow, slots));
        Assert.Equal("indicator--57c4448b-3fa4-4d65-9ccc-4afa950d210f", index[slots[0]].Indicator.Id);
    }

    [Fact]
    public void FolderWithoutManifest_ReadsTheEventFiles_AndSaysSo()
    {
        var feed = new MispFeedReader().ReadDirectory(SharedTestData.Intel("misp"));
        Assert.Equal(1, feed.Events);
        Assert.Equal(4, feed.Indicators.Count);
        Assert.Contains("no manifest.json", feed.Note, StringComparison.Ordinal);
    }

    [Fact]
    public void ManifestListingAMissingEvent_OrANonUuidKey_IsRejected()
    {
        WriteFeed(RealEvent(), """{"11111111-2222-3333-4444-555555555555":{}}""");
        Assert.Contains("is missing", Assert.Throws<FileNotFoundException>(() => new MispFeedReader().ReadDirectory(_feed)).Message, StringComparison.Ordinal);
        WriteFeed(RealEvent(), """{"../../etc/passwd":{}}""");
        Assert.Equal(StixRejection.NotABundle, Assert.Throws<StixRejectedException>(() => new MispFeedReader().ReadDirectory(_feed)).Reason);
    }

    [Fact]
    public void TamperedEvent_DuplicateKey_InvalidUtf8_Truncated_Oversized_AreRejected()
    {
        var real = RealEvent();
        var duplicate = Encoding.UTF8.GetBytes(Encoding.UTF8.GetString(real).Replace("\"info\": \"Ransomware - Xorist\",", "\"info\": \"a\", \"info\": \"b\",", StringComparison.Ordinal));
        Assert.NotEqual(real.Length, duplicate.Length);
        Assert.Equal(StixRejection.DuplicateKey, Assert.Throws<StixRejectedException>(() => new MispFeedReader().ReadEvent(duplicate)).Reason);

        var invalid = (byte[])real.Clone();
        invalid[Array.IndexOf(invalid, (byte)'X')] = 0xFF;
        Assert.Equal(StixRejection.InvalidUtf8, Assert.Throws<StixRejectedException>(() => new MispFeedReader().ReadEvent(invalid)).Reason);

        Assert.Equal(StixRejection.MalformedJson, Assert.Throws<StixRejectedException>(() => new MispFeedReader().ReadEvent(real.AsSpan(0, real.Length / 2))).Reason);
        Assert.Equal(StixRejection.TooLarge, Assert.Throws<StixRejectedException>(() => new MispFeedReader(new StixReaderOptions { MaxBytes = 1000 }).ReadEvent(real)).Reason);

        WriteFeed(duplicate);
        Assert.Equal(StixRejection.DuplicateKey, Assert.Throws<StixRejectedException>(() => new MispFeedReader().ReadDirectory(_feed)).Reason);
    }

    [Theory]
    [InlineData("ip-dst", "203.0.113.7", "[ipv4-addr:value = '203.0.113.7']")]
    [InlineData("ip-src", "2001:db8::/32", "[ipv6-addr:value = '2001:db8::/32']")]
    [InlineData("ip-dst|port", "203.0.113.7|443", "[ipv4-addr:value = '203.0.113.7']")]
    [InlineData("hostname", "evil.example", "[domain-name:value = 'evil.example']")]
    [InlineData("domain|ip", "evil.example|203.0.113.7", "[domain-name:value = 'evil.example'] OR [ipv4-addr:value = '203.0.113.7']")]
    [InlineData("url", "http://evil.example/it's", "[url:value = 'http://evil.example/it\\'s']")]
    [InlineData("email-src", "mallory@evil.example", "[email-addr:value = 'mallory@evil.example']")]
    [InlineData("filename|sha256", "a.exe|AB12", "[file:hashes.'SHA-256' = 'AB12']")]
    [InlineData("target-user", "mallory", "[user-account:user_id = 'mallory']")]
    [InlineData("ip-dst", "not-an-ip", null)]
    [InlineData("md5", "xyz", null)]
    [InlineData("mutex", "Global\\x", null)]
    public void AttributeTypes_MapToStixPatterns_ThatParse(string type, string value, string? expected)
    {
        var (pattern, reason) = MispFeedReader.ToPattern(type, value);
        Assert.Equal(expected, pattern);
        if (pattern is null)
        {
            Assert.NotNull(reason);
        }
        else
        {
            StixPattern.Parse(pattern);
        }
    }
}
