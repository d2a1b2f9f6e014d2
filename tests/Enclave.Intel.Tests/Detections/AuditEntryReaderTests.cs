using System.Text;
using System.Text.Json;
using System.Text.Json.Nodes;
using Enclave.Core.Audit;
using Enclave.Intel.Detections;
using Enclave.Intel.Insider;
using Enclave.Intel.Sigma;
using SigmaSupport = Enclave.Intel.Tests.Sigma.SigmaTestSupport;

namespace Enclave.Intel.Tests.Detections;

/// <summary>
/// The live pipeline reads entries with one reused <see cref="AuditEntryReader"/> that leaves out the fields no loaded
/// rule and the insider engine read: on every entry it gives what <see cref="AuditEntryView.Parse"/> gives, cut to the
/// selection (the same refusals, envelope, time, log source and Sigma limits), one reader reading entry after entry.
/// </summary>
public sealed class AuditEntryReaderTests
{
    private static readonly string[] SomeSigmaFields = ["type", "actor", "time", "details.rule", "details.policy.label", "details.roles", "details.n", "details.policy.egress.action", "extra.x", "details.ok"];

    private static readonly string[] HandWritten =
    [
        "{\"actor\":\"user:admin\",\"details\":{\"clearance\":null,\"kind\":\"user\",\"name\":\"bob\",\"roles\":[\"user\",\"auditor\"]},\"subject\":\"user:bob\",\"time\":\"2026-03-01T09:00:00.000Z\",\"type\":\"user.added\"}",
        "{\"actor\":\"key:k1\",\"details\":{\"bytes\":1234,\"ok\":true,\"no\":false,\"ratio\":-1.5e3,\"policy\":{\"label\":\"SECRET\",\"egress\":[{\"action\":\"deny\",\"n\":[1,2]},{\"action\":\"allow\"}]},\"empty\":{},\"none\":[]},\"subject\":\"model:m\",\"time\":\"2026-03-01T09:00:00Z\",\"type\":\"request.admitted\"}",
        "{\"actor\":\"user:\\u00e9l\\u00e8ve\",\"details\":{\"quote\":\"a\\\"b\\\\c\\n\",\"k\\u002ey\":\"v\"},\"time\":\"2026-03-01T09:00:00+02:00\",\"type\":\"auth.failed\",\"extra\":{\"x\":[null,1]}}",
        "{\"details\":\"not an object\",\"time\":\"2026-03-01T09:00:00Z\",\"type\":\"server.started\"}",
        "{\"actor\":7,\"subject\":[\"a\"],\"time\":\"2026-03-01T09:00:00Z\",\"type\":\"state.x\"}",
        "{\"time\":\"2026-03-01T09:00:00Z\",\"type\":\"\"}",
        "{\"actor\":\"a\",\"actor\":\"b\",\"type\":\"x.y\",\"time\":\"2026-03-01T09:00:00Z\",\"type\":5,\"type\":\"x.z\",\"details\":{\"\":{\"a\":[1,{\"b\":\"c\"}]},\"policy\":{\"egress\":[{\"action\":\"block\",\"allowed\":false}]}}}",
        "{\"details\":{\"roles\":[[\"x\"],{\"y\":null}],\"promptTokens\":12,\"completionTokens\":3.5,\"clearance\":\"SECRET\"},\"time\":\"2026-03-01T09:00:00Z\",\"type\":\"request.completed\",\"actor\":\"key:k1\",\"subject\":\"model:m\"}",
    ];

    public static TheoryData<string> HandWrittenEntries() => [.. HandWritten];

    [Fact]
    public void OneReader_EntryAfterEntry_GivesWhatParseGives_ForEveryFieldAndForASelection_OnGeneratedLedgerEntries()
    {
        var every = new AuditEntryReader(true, null, null);
        var some = new AuditEntryReader(true, SomeSigmaFields, InsiderEngine.DetailsRead);
        var count = 0;
        foreach (var (bytes, index) in Generated())
        {
            AssertSame(AuditEntryView.Parse(bytes, index), every.Read(bytes, index), null, null);
            AssertSame(AuditEntryView.Parse(bytes, index), some.Read(bytes, index), SomeSigmaFields, InsiderEngine.DetailsRead);
            count++;
        }

        Assert.True(count > 1000, $"only {count} generated entries");
    }

    [Theory]
    [MemberData(nameof(HandWrittenEntries))]
    public void OneReader_GivesWhatParseGives_OnHandWrittenEntries(string json)
    {
        var bytes = Encoding.UTF8.GetBytes(json);
        var every = new AuditEntryReader(true, null, null);
        var some = new AuditEntryReader(true, SomeSigmaFields, InsiderEngine.DetailsRead);
        var none = new AuditEntryReader(true, [], []);

        // Each reader reads the other entries first, then this one twice: nothing of an earlier entry stays.
        foreach (var other in HandWritten.Where(h => h != json).Append(json).Append(json))
        {
            var otherBytes = Encoding.UTF8.GetBytes(other);
            AssertSame(AuditEntryView.Parse(otherBytes, 7), every.Read(otherBytes, 7), null, null);
            AssertSame(AuditEntryView.Parse(otherBytes, 7), some.Read(otherBytes, 7), SomeSigmaFields, InsiderEngine.DetailsRead);
            AssertSame(AuditEntryView.Parse(otherBytes, 7), none.Read(otherBytes, 7), [], []);
        }

        AssertSame(AuditEntryView.Parse(bytes, 42), some.Read(bytes, 42), SomeSigmaFields, InsiderEngine.DetailsRead);
    }

    [Fact]
    public void ASelectedValue_IsTheSameString_AndUnselectedOnesAreLeftOut()
    {
        var reader = new AuditEntryReader(true, ["details.policy.label"], ["policy.label", "promptTokens"]);
        var view = reader.Read(Encoding.UTF8.GetBytes(HandWritten[1]), 3);
        Assert.Equal("SECRET", Assert.Single(view.Insider.Details).Value);
        var field = Assert.Single(view.Sigma!.Fields);
        Assert.Equal("details.policy.label", field.Key);
        Assert.Equal(new string?[] { "SECRET" }, field.Value);
        Assert.Equal("key:k1", view.Insider.Actor);
        Assert.Equal("model:m", view.Insider.Subject);
        Assert.Equal("request.admitted", view.Insider.Type);
        Assert.Equal("request", view.Sigma.LogSource.Category);
        Assert.Equal(3, view.Sigma.Position);
    }

    [Fact]
    public void WithoutTheSigmaView_TheInsiderViewStays_AndTheReasonIsGiven()
    {
        var reader = new AuditEntryReader(false, null, InsiderEngine.DetailsRead);
        var bytes = Encoding.UTF8.GetBytes(HandWritten[7]);
        var view = reader.Read(bytes, 1);
        Assert.Null(view.Sigma);
        Assert.Equal(AuditEntryReader.SigmaNotRead, view.SigmaError);
        AssertSameInsider(AuditEntryView.Parse(bytes, 1).Insider, view.Insider, InsiderEngine.DetailsRead);
        Assert.Equal("12", view.Insider.Detail("promptTokens"));
        Assert.Equal("3.5", view.Insider.Detail("completionTokens"));
        Assert.Equal("SECRET", view.Insider.Detail("clearance"));
    }

    [Theory]
    [InlineData("")]
    [InlineData("[]")]
    [InlineData("{\"type\":\"x\"}")]
    [InlineData("{\"type\":")]
    [InlineData("{\"type\":\"x\",\"time\":\"yesterday\"}")]
    [InlineData("{\"type\":1,\"time\":\"2026-03-01T09:00:00Z\"}")]
    [InlineData("{\"type\":\"x\",\"time\":\"2026-03-01T09:00:00Z\"} {}")]
    [InlineData("{\"type\":\"x\",\"time\":\"2026-03-01T09:00:00Z\",\"time\":7}")]
    [InlineData("{\"type\":\"x\",\"time\":\"2026-03-01T09:00:00Z\",\"details\":{\"a\":\"\\ud800\"}}")]
    [InlineData("{\"type\":\"x\",\"time\":\"2026-03-01T09:00:00Z\",\"details\":{\"a\":[\"\\udc00x\"]}}")]
    [InlineData("{\"type\":\"x\",\"time\":\"2026-03-01T09:00:00Z\",\"other\":\"\\ud800\"}")]
    [InlineData("{\"type\":\"x\",\"time\":\"2026-03-01T09:00:00Z\",\"details\":{\"\\ud800\":1}}")]
    [InlineData("{\"type\":\"x\",\"time\":\"2026-03-01T09:00:00Z\",\"details\":{\"a\":1},\"tail\":")]
    public void NotAnAuditEvent_IsRefusedAsParseRefusesIt_EvenWhereTheValueIsNotRead(string json)
    {
        var bytes = Encoding.UTF8.GetBytes(json);
        Assert.Throws<FormatException>(() => AuditEntryView.Parse(bytes));
        Assert.Throws<FormatException>(() => new AuditEntryReader(true, [], []).Read(bytes));
        Assert.Throws<FormatException>(() => new AuditEntryReader(true, null, null).Read(bytes));
    }

    [Theory]
    [InlineData("details", "a")]
    [InlineData("other", "x")]
    [InlineData("details", "deep")]
    public void InvalidUtf8_InAStringNotRead_IsRefusedAsParseRefusesIt(string member, string key)
    {
        var head = Encoding.UTF8.GetBytes("{\"type\":\"x\",\"time\":\"2026-03-01T09:00:00Z\",\"" + member + "\":{\"" + key + "\":[\"ok");
        byte[] bad = [0xC3, 0x28, (byte)'"', (byte)']', (byte)'}', (byte)'}'];
        var bytes = head.Concat(bad).ToArray();
        Assert.Throws<FormatException>(() => AuditEntryView.Parse(bytes));
        Assert.Throws<FormatException>(() => new AuditEntryReader(true, [], []).Read(bytes));
        Assert.Throws<FormatException>(() => new AuditEntryReader(false, null, InsiderEngine.DetailsRead).Read(bytes));
    }

    [Fact]
    public void OverTheLimits_OrTwoDetailsObjects_TheEntryIsReadAsParseReadsIt()
    {
        var many = string.Join(',', Enumerable.Range(0, SigmaEvent.MaxAuditFields + 10).Select(i => $"\"f{i}\":{i}"));
        var wide = Encoding.UTF8.GetBytes("{\"type\":\"request.admitted\",\"time\":\"2026-03-01T09:00:00Z\",\"details\":{" + many + ",\"promptTokens\":5}}");
        var reader = new AuditEntryReader(true, ["type"], InsiderEngine.DetailsRead);
        var view = reader.Read(wide, 1);
        Assert.Null(view.Sigma);
        Assert.Contains("more than 1024 fields", view.SigmaError, StringComparison.Ordinal);

        // Parse keeps the first 1024 details, so promptTokens (the 1035th) is not among them: nor is it here.
        Assert.Equal(InsiderEvent.MaxDetails, view.Insider.Details.Count);
        Assert.Null(view.Insider.Detail("promptTokens"));

        var values = string.Join(',', Enumerable.Range(0, SigmaEvent.MaxValuesPerField + 1));
        var longArray = Encoding.UTF8.GetBytes("{\"type\":\"request.admitted\",\"time\":\"2026-03-01T09:00:00Z\",\"details\":{\"n\":[" + values + "]}}");
        view = reader.Read(longArray, 1);
        Assert.Null(view.Sigma);
        Assert.Contains("details.n has more than 1024 values", view.SigmaError, StringComparison.Ordinal);

        var twice = Encoding.UTF8.GetBytes("{\"type\":\"request.completed\",\"time\":\"2026-03-01T09:00:00Z\",\"details\":{\"promptTokens\":5},\"details\":{\"completionTokens\":6}}");
        view = reader.Read(twice, 2);
        // Read by Parse: every field and detail, as Parse gives them (a superset of the cut, never other values).
        AssertSame(AuditEntryView.Parse(twice, 2), view, null, null);
        Assert.Null(view.Insider.Detail("promptTokens"));
        Assert.Equal("6", view.Insider.Detail("completionTokens"));

        // And the next ordinary entry is read by the reader itself again, with nothing of those left.
        var bytes = Encoding.UTF8.GetBytes(HandWritten[7]);
        AssertSame(AuditEntryView.Parse(bytes, 3), reader.Read(bytes, 3), ["type"], InsiderEngine.DetailsRead);
    }

    [Fact]
    public void TheExampleRules_ReadTheirFields_AndAKeywordRuleReadsThemAll()
    {
        var examples = SigmaRuleSet.Load([SigmaSupport.ExampleRules()]);
        Assert.Equal(
            new[] { "actor", "details.policy.label", "details.remoteAddress", "details.requestId", "details.rule", "type" },
            examples.FieldsRead()!.Order(StringComparer.Ordinal));

        var fieldref = SigmaSupport.Rules(SigmaSupport.Detection("    sel:\n        a|fieldref: b\n        c|exists: true\n    sel2:\n        d|hour: 3\n    filter:\n        e: x\n    condition: (sel or sel2) and not filter"));
        Assert.Empty(fieldref.Skipped);
        Assert.Equal(new[] { "a", "b", "c", "d", "e" }, fieldref.FieldsRead()!.Order(StringComparer.Ordinal));

        var keywords = SigmaSupport.Rules(SigmaSupport.Detection("    sel:\n        a: 1\n    keywords:\n        - 'jndi:'\n    condition: sel or keywords"));
        Assert.Empty(keywords.Skipped);
        Assert.Null(keywords.FieldsRead());
    }

    private static IEnumerable<(byte[] Bytes, long Index)> Generated()
    {
        foreach (var generated in new ScenarioGenerator(new ScenarioOptions { Seed = 11, Principals = 20, Days = 14 }).Generate())
        {
            var e = generated.Event;
            var details = new JsonObject();
            foreach (var (key, value) in e.Details)
            {
                details[key] = value;
            }

            yield return (new AuditEvent { Type = e.Type, Time = e.Time, Actor = e.Actor, Subject = e.Subject.Length == 0 ? "-" : e.Subject, Details = JsonSerializer.SerializeToElement(details) }.ToCanonicalJson(), generated.LedgerIndex);
        }
    }

    private static void AssertSame(AuditEntryView expected, AuditEntryView actual, IReadOnlyCollection<string>? sigmaFields, IReadOnlyCollection<string>? insiderDetails)
    {
        AssertSameInsider(expected.Insider, actual.Insider, insiderDetails);
        if (expected.Sigma is null)
        {
            Assert.Null(actual.Sigma);
            Assert.Equal(expected.SigmaError, actual.SigmaError);
            return;
        }

        var sigma = actual.Sigma;
        Assert.NotNull(sigma);
        Assert.Null(actual.SigmaError);
        Assert.Equal(expected.Sigma.Time, sigma.Time);
        Assert.Equal(expected.Sigma.Position, sigma.Position);
        Assert.Equal(expected.Sigma.LogSource, sigma.LogSource);
        Assert.Equal(
            expected.Sigma.Fields.Where(f => sigmaFields is null || sigmaFields.Contains(f.Key)).OrderBy(f => f.Key, StringComparer.Ordinal).Select(f => (f.Key, string.Join('\u0001', f.Value.Select(v => v ?? "\u0000null")))),
            sigma.Fields.OrderBy(f => f.Key, StringComparer.Ordinal).Select(f => (f.Key, string.Join('\u0001', f.Value.Select(v => v ?? "\u0000null")))));
    }

    private static void AssertSameInsider(InsiderEvent expected, InsiderEvent actual, IReadOnlyCollection<string>? details)
    {
        Assert.Equal(expected.Type, actual.Type);
        Assert.Equal(expected.Time, actual.Time);
        Assert.Equal(expected.Actor, actual.Actor);
        Assert.Equal(expected.Subject, actual.Subject);
        Assert.Equal(
            expected.Details.Where(d => details is null || details.Contains(d.Key)).OrderBy(d => d.Key, StringComparer.Ordinal).ToList(),
            actual.Details.OrderBy(d => d.Key, StringComparer.Ordinal).ToList());
    }
}
