using System.Text;
using Enclave.Intel.Stix;

namespace Enclave.Intel.Tests.Stix;

public sealed class StixBundleReaderTests
{
    private static readonly string[] RealBundles =
    [
        "cti-documentation/defining-campaigns-threat-actors-intrusion-sets.json",
        "cti-documentation/sighting-of-observed-data.json",
        "cti-documentation/threat-actor-leveraging-attack-patterns-and-malware.json",
        "cti-documentation/using-marking-definitions.json",
        "cti-stix-elevator/Appendix_G_IOCs_Full.json",
        "cti-stix-elevator/command-and-control-ip-list.json",
        "cti-stix-elevator/observable-with-networkconnection-pattern-advanced.json",
        "cti-stix2-json-schemas/apt1.json",
        "cti-stix2-json-schemas/indicator-for-c2-ip-address.json",
        "cti-stix2-json-schemas/indicator-to-campaign-relationship.json",
        "cti-stix2-json-schemas/indicators-for-C2-with-COA.json",
        "cti-stix2-json-schemas/infrastructure.json",
        "cti-stix2-json-schemas/malicious-email-indicator-with-attachment.json",
        "cti-stix2-json-schemas/poisonivy.json",
        "mitre-attack-ics/ics-attack-18.1.json",
    ];

    internal static string Bundle(params string[] objects) =>
        $$"""{"type":"bundle","id":"bundle--5d0092c5-5f74-4287-9642-33f4c354e56d","objects":[{{string.Join(",", objects)}}]}""";

    internal static string Indicator(string id, string pattern, string modified = "2024-01-01T00:00:00Z", string extra = "") =>
        $$"""{"type":"indicator","spec_version":"2.1","id":"indicator--{{id}}","created":"2024-01-01T00:00:00Z","modified":"{{modified}}","pattern":{{System.Text.Json.JsonSerializer.Serialize(pattern)}},"pattern_type":"stix","valid_from":"2024-01-01T00:00:00Z"{{extra}}}""";

    private static StixBundle Read(string json, StixReaderOptions? options = null) => new StixBundleReader(options).Read(Encoding.UTF8.GetBytes(json));

    [Fact]
    public void RealBundles_AllRead_With92IndicatorsAndNothingSkipped()
    {
        var reader = new StixBundleReader();
        var indicators = 0;
        foreach (var file in RealBundles)
        {
            var bundle = reader.ReadFile(SharedTestData.Intel(Path.Combine("stix", file)));
            Assert.Empty(bundle.Skipped);
            indicators += bundle.Indicators.Count;
        }

        Assert.Equal(92, indicators);
    }

    [Fact]
    public void RealBundles_KeepContextObjects_MalwareAttackPatternsRelationshipsSightings()
    {
        var reader = new StixBundleReader();
        var ics = reader.ReadFile(SharedTestData.Intel("stix/mitre-attack-ics/ics-attack-18.1.json"));
        Assert.Contains(ics.Context, o => o.Type == "attack-pattern");
        Assert.Contains(ics.Context, o => o.Type == "malware");
        Assert.Contains(ics.Context, o => o.Type == "relationship" && o.SourceRef is not null && o.TargetRef is not null);

        var sighting = reader.ReadFile(SharedTestData.Intel("stix/cti-documentation/sighting-of-observed-data.json"));
        Assert.Contains(sighting.Context, o => o.Type == "sighting" && o.SourceRef == "malware--ae560258-a5cb-4be8-8f05-013d6712295f");
        Assert.Equal(2, sighting.ObservedData.Count);
        Assert.All(sighting.ObservedData, o => Assert.NotEmpty(o.Objects));
    }

    [Fact]
    public void Indicator_ReadsValidityRevokedAndConfidence()
    {
        var bundle = Read(Bundle(Indicator("8e2e2d2b-17d4-4cbf-938f-98ee46b3cd3f", "[ipv4-addr:value = '198.51.100.1']",
            extra: ""","valid_until":"2025-01-01T00:00:00.123Z","revoked":true,"confidence":85""")));
        var indicator = Assert.Single(bundle.Indicators);
        Assert.True(indicator.Revoked);
        Assert.Equal(85, indicator.Confidence);
        Assert.Equal(new DateTimeOffset(2025, 1, 1, 0, 0, 0, 123, TimeSpan.Zero), indicator.ValidUntil);
        Assert.False(indicator.IsLiveAt(new DateTimeOffset(2024, 6, 1, 0, 0, 0, TimeSpan.Zero)));
    }

    [Fact]
    public void NewerModifiedVersion_ReplacesOlder_InEitherOrder()
    {
        const string id = "8e2e2d2b-17d4-4cbf-938f-98ee46b3cd3f";
        var older = Indicator(id, "[ipv4-addr:value = '198.51.100.1']", "2024-01-01T00:00:00Z");
        var newer = Indicator(id, "[ipv4-addr:value = '198.51.100.2']", "2024-02-01T00:00:00Z");
        foreach (var json in new[] { Bundle(older, newer), Bundle(newer, older) })
        {
            var bundle = Read(json);
            var indicator = Assert.Single(bundle.Indicators);
            Assert.Contains("198.51.100.2", indicator.Pattern, StringComparison.Ordinal);
            Assert.Equal(1, bundle.SupersededVersions);
        }
    }

    [Fact]
    public void UnknownObjectType_IsKeptForContext_NotACrash()
    {
        var bundle = Read(Bundle("""{"type":"x-acme-widget","spec_version":"2.1","id":"x-acme-widget--1","created":"2024-01-01T00:00:00Z","modified":"2024-01-01T00:00:00Z","name":"w"}"""));
        Assert.Equal("x-acme-widget", Assert.Single(bundle.Context).Type);
    }

    [Fact]
    public void IndicatorWithoutPattern_IsSkippedAndListed_BundleStillRead()
    {
        var bundle = Read(Bundle(
            """{"type":"indicator","id":"indicator--1","modified":"2024-01-01T00:00:00Z","valid_from":"2024-01-01T00:00:00Z"}""",
            Indicator("2", "[url:value = 'http://example.com/x']")));
        var skipped = Assert.Single(bundle.Skipped);
        Assert.Equal("indicator--1", skipped.Id);
        Assert.Contains("pattern", skipped.Reason, StringComparison.Ordinal);
        Assert.Single(bundle.Indicators);
    }

    [Fact]
    public void DuplicateKey_IsRejected_NamingTheKey()
    {
        var json = """{"type":"bundle","id":"bundle--1","objects":[{"type":"indicator","type":"malware"}]}""";
        var ex = Assert.Throws<StixRejectedException>(() => Read(json));
        Assert.Equal(StixRejection.DuplicateKey, ex.Reason);
        Assert.Contains("\"type\"", ex.Message, StringComparison.Ordinal);
    }

    [Fact]
    public void InvalidUtf8_IsRejected_WithOffset()
    {
        var bytes = Encoding.UTF8.GetBytes(Bundle(Indicator("1", "[domain-name:value = 'exampl?.com']")));
        var at = Array.IndexOf(bytes, (byte)'?');
        bytes[at] = 0xC3; // a lead byte followed by '.', not a continuation byte
        var ex = Assert.Throws<StixRejectedException>(() => new StixBundleReader().Read(bytes));
        Assert.Equal(StixRejection.InvalidUtf8, ex.Reason);
        Assert.Contains($"offset {at}", ex.Message, StringComparison.Ordinal);
    }

    [Fact]
    public void InvalidUtf8_NearTheEndOfALargeBundle_IsFoundWithItsOffset()
    {
        var bytes = Encoding.UTF8.GetBytes(Bundle(Indicator("1", "[file:name = '" + new string('\u00e9', 400_000) + "?']")));
        var at = Array.LastIndexOf(bytes, (byte)'?');
        bytes[at] = 0x80; // a continuation byte with no lead byte
        var ex = Assert.Throws<StixRejectedException>(() => new StixBundleReader().Read(bytes));
        Assert.Equal(StixRejection.InvalidUtf8, ex.Reason);
        Assert.Contains($"offset {at}", ex.Message, StringComparison.Ordinal);
    }

    [Fact]
    public void TruncatedBundle_IsRejectedAtEveryCut()
    {
        var bytes = File.ReadAllBytes(SharedTestData.Intel("stix/cti-stix2-json-schemas/indicators-for-C2-with-COA.json"));
        for (var cut = 1; cut < bytes.Length - 1; cut += 97)
        {
            var ex = Assert.Throws<StixRejectedException>(() => new StixBundleReader().Read(bytes.AsSpan(0, cut)));
            Assert.True(ex.Reason is StixRejection.MalformedJson or StixRejection.InvalidUtf8, $"cut at {cut}: {ex.Reason}");
        }
    }

    [Fact]
    public void FlippedStructuralByte_IsRejected_NotMisread()
    {
        var json = Bundle(Indicator("1", "[domain-name:value = 'example.com']"));
        var bytes = Encoding.UTF8.GetBytes(json);
        var brace = Array.LastIndexOf(bytes, (byte)'}');
        bytes[brace] = (byte)']';
        var ex = Assert.Throws<StixRejectedException>(() => new StixBundleReader().Read(bytes));
        Assert.Equal(StixRejection.MalformedJson, ex.Reason);
    }

    [Fact]
    public void TamperedValidFrom_SkipsThatIndicator_WithReason()
    {
        var json = Bundle(Indicator("1", "[domain-name:value = 'example.com']")).Replace("\"valid_from\":\"2024-01-01T00:00:00Z\"", "\"valid_from\":\"2024-13-01T00:00:00Z\"", StringComparison.Ordinal);
        var bundle = Read(json);
        Assert.Empty(bundle.Indicators);
        Assert.Contains("valid_from", Assert.Single(bundle.Skipped).Reason, StringComparison.Ordinal);
    }

    [Fact]
    public void OversizedBundle_IsRejectedBeforeParsing()
    {
        var json = Bundle(Indicator("1", "[domain-name:value = 'example.com']"));
        var ex = Assert.Throws<StixRejectedException>(() => Read(json, new StixReaderOptions { MaxBytes = 100 }));
        Assert.Equal(StixRejection.TooLarge, ex.Reason);

        using var stream = new NonSeekableStream(Encoding.UTF8.GetBytes(json));
        var streamed = Assert.Throws<StixRejectedException>(() => new StixBundleReader(new StixReaderOptions { MaxBytes = 100 }).Read(stream));
        Assert.Equal(StixRejection.TooLarge, streamed.Reason);
    }

    [Fact]
    public void TooManyObjects_TooDeep_AndLongStrings_AreRejected()
    {
        var two = Bundle(Indicator("1", "[domain-name:value = 'a.example']"), Indicator("2", "[domain-name:value = 'b.example']"));
        Assert.Equal(StixRejection.TooManyObjects, Assert.Throws<StixRejectedException>(() => Read(two, new StixReaderOptions { MaxObjects = 1 })).Reason);

        var deep = Bundle(new string('[', 100) + new string(']', 100));
        Assert.Equal(StixRejection.TooDeep, Assert.Throws<StixRejectedException>(() => Read(deep)).Reason);

        var longPattern = Bundle(Indicator("1", "[domain-name:value = '" + new string('a', 5000) + "']"));
        Assert.Equal(StixRejection.StringTooLong, Assert.Throws<StixRejectedException>(() => Read(longPattern, new StixReaderOptions { MaxStringLength = 4096 })).Reason);
    }

    [Fact]
    public void NotABundle_IsRejected()
    {
        Assert.Equal(StixRejection.NotABundle, Assert.Throws<StixRejectedException>(() => Read("""{"type":"indicator"}""")).Reason);
        Assert.Equal(StixRejection.NotABundle, Assert.Throws<StixRejectedException>(() => Read("[]")).Reason);
    }

    private sealed class NonSeekableStream(byte[] data) : MemoryStream(data)
    {
        public override bool CanSeek => false;
    }
}
