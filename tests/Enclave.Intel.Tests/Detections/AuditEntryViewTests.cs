using System.Text;
using System.Text.Json;
using System.Text.Json.Nodes;
using Enclave.Core.Audit;
using Enclave.Intel.Detections;
using Enclave.Intel.Insider;
using Enclave.Intel.Sigma;

namespace Enclave.Intel.Tests.Detections;

/// <summary>
/// The live pipeline parses each ledger entry once (<see cref="AuditEntryView"/>) for both engines: the insider and the
/// Sigma event it gives hold exactly the fields, values, time and log source that the two separate parsers
/// (<see cref="InsiderEvent.FromAuditJson"/>, <see cref="SigmaEvent.FromAuditJson"/>) give from the same bytes, on
/// generated traffic written by the ledger's canonical writer and on entries with nesting, arrays, nulls, numbers,
/// escapes and the parsers' limits.
/// </summary>
public sealed class AuditEntryViewTests
{
    [Fact]
    public void OneParse_GivesBothEnginesTheFieldsOfTheirOwnParsers_OnGeneratedLedgerEntries()
    {
        var count = 0;
        foreach (var generated in new ScenarioGenerator(new ScenarioOptions { Seed = 5, Principals = 20, Days = 14 }).Generate())
        {
            var e = generated.Event;
            var details = new JsonObject();
            foreach (var (key, value) in e.Details)
            {
                details[key] = value;
            }

            var bytes = new AuditEvent { Type = e.Type, Time = e.Time, Actor = e.Actor, Subject = e.Subject.Length == 0 ? "-" : e.Subject, Details = JsonSerializer.SerializeToElement(details) }.ToCanonicalJson();
            AssertSameAsSeparateParsers(bytes, generated.LedgerIndex);
            count++;
        }

        Assert.True(count > 1000, $"only {count} generated entries");
    }

    [Theory]
    [InlineData("{\"actor\":\"user:admin\",\"details\":{\"clearance\":null,\"kind\":\"user\",\"name\":\"bob\",\"roles\":[\"user\",\"auditor\"]},\"subject\":\"user:bob\",\"time\":\"2026-03-01T09:00:00.000Z\",\"type\":\"user.added\"}")]
    [InlineData("{\"actor\":\"key:k1\",\"details\":{\"bytes\":1234,\"ok\":true,\"no\":false,\"ratio\":-1.5e3,\"policy\":{\"label\":\"SECRET\",\"egress\":[{\"action\":\"deny\",\"n\":[1,2]},{\"action\":\"allow\"}]},\"empty\":{},\"none\":[]},\"subject\":\"model:m\",\"time\":\"2026-03-01T09:00:00Z\",\"type\":\"request.admitted\"}")]
    [InlineData("{\"actor\":\"user:\\u00e9l\\u00e8ve\",\"details\":{\"quote\":\"a\\\"b\\\\c\\n\",\"k\\u002ey\":\"v\"},\"time\":\"2026-03-01T09:00:00+02:00\",\"type\":\"auth.failed\",\"extra\":{\"x\":[null,1]}}")]
    [InlineData("{\"details\":\"not an object\",\"time\":\"2026-03-01T09:00:00Z\",\"type\":\"server.started\"}")]
    [InlineData("{\"actor\":7,\"subject\":[\"a\"],\"time\":\"2026-03-01T09:00:00Z\",\"type\":\"state.x\"}")]
    [InlineData("{\"time\":\"2026-03-01T09:00:00Z\",\"type\":\"\"}")]
    [InlineData("{\"details\":{\"kkkkkkkkkkkkkkkkkkkkkkkkkkkkkkkkkkkkkkkkkkkkkkkkkkkkkkkkkkkkkkkkkkkkkkkkkkkkkkkkkkkkkkkkkkkkkkkkkkkkkkkkkkkkkkkkkkkkkkkkkkkkkkkkkkkkkkkkkkkkkkkkkkkkkkkkkkkkkkkkkkkkkkkkkkkkkkkkkkkkkkkkkkkkkkkkkkkkkkkk\":\"long name\",\"\\u00e9\":{\"kkkkkkkkkkkkkkkkkkkkkkkkkkkkkkkkkkkkkkkkkkkkkkkkkkkkkkkkkkkkkkkkkkkkkkkkkkkkkkkkkkkkkkkkkkkkkkkkkkkkkkkkkkkkkkkkkkkkkkkkkkkkkkkkkkkkkkkkkkkkkkkkkkkkkkkkkkkkkkkkkkkkkkkkkkkkkkkkkkkkkkkkkkkkkkkkkkkkkkkk\":[true,\"x\"]}},\"time\":\"2026-03-01T09:00:00Z\",\"type\":\"request.admitted\"}")]
    public void OneParse_GivesBothEnginesTheFieldsOfTheirOwnParsers_OnHandWrittenEntries(string json) =>
        AssertSameAsSeparateParsers(Encoding.UTF8.GetBytes(json), 42);

    [Theory]
    [InlineData("")]
    [InlineData("[]")]
    [InlineData("{\"type\":\"x\"}")]
    [InlineData("{\"type\":")]
    [InlineData("{\"type\":\"x\",\"time\":\"yesterday\"}")]
    [InlineData("{\"type\":1,\"time\":\"2026-03-01T09:00:00Z\"}")]
    [InlineData("{\"type\":\"x\",\"time\":\"2026-03-01T09:00:00Z\"} {}")]
    public void NotAnAuditEvent_IsRefusedAsBothParsersRefuseIt(string json)
    {
        var bytes = Encoding.UTF8.GetBytes(json);
        Assert.Throws<FormatException>(() => AuditEntryView.Parse(bytes));
        Assert.Throws<FormatException>(() => SigmaEvent.FromAuditJson(bytes));
    }

    [Fact]
    public void TooDeep_IsRefused()
    {
        var bytes = Encoding.UTF8.GetBytes("{\"type\":\"x\",\"time\":\"2026-03-01T09:00:00Z\",\"details\":" + new string('[', 40) + new string(']', 40) + "}");
        Assert.Throws<FormatException>(() => AuditEntryView.Parse(bytes));
        Assert.Throws<FormatException>(() => InsiderEvent.FromAuditJson(bytes));
        Assert.Throws<FormatException>(() => SigmaEvent.FromAuditJson(bytes));
    }

    [Fact]
    public void OverSigmasLimits_TheInsiderViewStays_TheSigmaViewIsAbsentWithTheReason()
    {
        var many = string.Join(',', Enumerable.Range(0, SigmaEvent.MaxAuditFields + 10).Select(i => $"\"f{i}\":{i}"));
        var wide = Encoding.UTF8.GetBytes("{\"type\":\"request.admitted\",\"time\":\"2026-03-01T09:00:00Z\",\"details\":{" + many + "}}");
        var view = AuditEntryView.Parse(wide, 1);
        Assert.Null(view.Sigma);
        Assert.Contains("more than 1024 fields", view.SigmaError, StringComparison.Ordinal);
        Assert.Throws<FormatException>(() => SigmaEvent.FromAuditJson(wide));
        AssertSameInsider(InsiderEvent.FromAuditJson(wide), view.Insider);
        Assert.Equal(InsiderEvent.MaxDetails, view.Insider.Details.Count);

        var values = string.Join(',', Enumerable.Range(0, SigmaEvent.MaxValuesPerField + 1));
        var longArray = Encoding.UTF8.GetBytes("{\"type\":\"request.admitted\",\"time\":\"2026-03-01T09:00:00Z\",\"details\":{\"n\":[" + values + "]}}");
        view = AuditEntryView.Parse(longArray, 1);
        Assert.Null(view.Sigma);
        Assert.Contains("details.n has more than 1024 values", view.SigmaError, StringComparison.Ordinal);
        AssertSameInsider(InsiderEvent.FromAuditJson(longArray), view.Insider);
    }

    private static void AssertSameAsSeparateParsers(byte[] bytes, long index)
    {
        var view = AuditEntryView.Parse(bytes, index);
        AssertSameInsider(InsiderEvent.FromAuditJson(bytes), view.Insider);

        SigmaEvent expected;
        try
        {
            expected = SigmaEvent.FromAuditJson(bytes, index);
        }
        catch (FormatException)
        {
            Assert.Null(view.Sigma);
            Assert.NotNull(view.SigmaError);
            return;
        }

        var sigma = view.Sigma;
        Assert.NotNull(sigma);
        Assert.Null(view.SigmaError);
        Assert.Equal(expected.Time, sigma.Time);
        Assert.Equal(expected.Position, sigma.Position);
        Assert.Equal(expected.LogSource.Product, sigma.LogSource.Product);
        Assert.Equal(expected.LogSource.Category, sigma.LogSource.Category);
        Assert.Equal(expected.LogSource.Service, sigma.LogSource.Service);
        Assert.Equal(
            expected.Fields.OrderBy(f => f.Key, StringComparer.Ordinal).Select(f => (f.Key, string.Join('\u0001', f.Value.Select(v => v ?? "\u0000null")))),
            sigma.Fields.OrderBy(f => f.Key, StringComparer.Ordinal).Select(f => (f.Key, string.Join('\u0001', f.Value.Select(v => v ?? "\u0000null")))));

        // One parse, one set of facts: every scalar detail the insider engine reads is a value of the Sigma field of
        // the same path: details.NAME, array indices dropped (or kept, where the key itself holds a dotted number).
        foreach (var (key, value) in view.Insider.Details)
        {
            var path = "details." + string.Join('.', key.Split('.').Where(part => !part.All(char.IsAsciiDigit)));
            var values = sigma.Fields.TryGetValue(path, out var found) ? found : sigma.Fields["details." + key];
            Assert.Contains(value, values);
        }
    }

    private static void AssertSameInsider(InsiderEvent expected, InsiderEvent actual)
    {
        Assert.Equal(expected.Type, actual.Type);
        Assert.Equal(expected.Time, actual.Time);
        Assert.Equal(expected.Actor, actual.Actor);
        Assert.Equal(expected.Subject, actual.Subject);
        Assert.Equal(
            expected.Details.OrderBy(d => d.Key, StringComparer.Ordinal).ToList(),
            actual.Details.OrderBy(d => d.Key, StringComparer.Ordinal).ToList());
    }
}
