using System.Text;
using System.Text.Json;
using Enclave.Core.Audit;

namespace Enclave.Core.Tests;

public sealed class AuditEventTests
{
    private static readonly DateTimeOffset Time = new(2026, 11, 22, 20, 31, 5, 123, TimeSpan.Zero);

    [Fact]
    public void ToCanonicalJson_IsSortedCompactAndStable()
    {
        using var details = JsonDocument.Parse("""{"z":1,"a":"x"}""");
        var evt = new AuditEvent { Type = "request.admitted", Time = Time, Actor = "user:alice", Subject = "model:demo", Details = details.RootElement };

        var json = Encoding.UTF8.GetString(evt.ToCanonicalJson());

        Assert.Equal("""{"actor":"user:alice","details":{"a":"x","z":1},"subject":"model:demo","time":"2026-11-22T20:31:05.123Z","type":"request.admitted"}""", json);
    }

    [Fact]
    public void ToCanonicalJson_EqualsFullRfc8785CanonicalizationOfTheEvent()
    {
        // The envelope is written directly for speed; it must be byte-identical to canonicalizing the whole object.
        using var details = JsonDocument.Parse("""{"b":[1.50,"\u00e9\n"],"a":{"z":null,"y":1e3},"é":"\ud83d\ude00"}""");
        var evt = new AuditEvent { Type = "x.y", Time = Time, Actor = "a\"b\\c", Subject = "s/ü", Details = details.RootElement };
        var naive = JsonSerializer.SerializeToUtf8Bytes(new Dictionary<string, object?>
        {
            ["type"] = evt.Type,
            ["time"] = AuditEvent.FormatTime(evt.Time),
            ["subject"] = evt.Subject,
            ["details"] = details.RootElement,
            ["actor"] = evt.Actor,
        });

        Assert.Equal(CanonicalJson.Canonicalize(naive), evt.ToCanonicalJson());
    }

    [Fact]
    public void Parse_RoundTripsCanonicalBytes()
    {
        var evt = new AuditEvent { Type = "import.activated", Time = Time, Actor = "system", Subject = "bundle:42" };
        var bytes = evt.ToCanonicalJson();

        var parsed = AuditEvent.Parse(bytes);

        Assert.Equal(bytes, parsed.ToCanonicalJson());
        Assert.Equal("import.activated", parsed.Type);
    }

    [Fact]
    public void Parse_RejectsNonCanonicalForm()
    {
        var nonCanonical = """{"type":"a.b","time":"2026-11-22T20:31:05.123Z","actor":"x","subject":"y","details":{}}"""u8.ToArray();
        Assert.Throws<EnclaveFormatException>(() => AuditEvent.Parse(nonCanonical));
    }

    [Fact]
    public void FromJson_TakesAnObjectWithoutEventFieldsAsDetails()
    {
        var evt = AuditEvent.FromJson("""{"message":"hello"}"""u8, new AuditEventDefaults { Type = "note.added", Time = Time, Actor = "cli:root", Subject = "-" });

        Assert.Equal("note.added", evt.Type);
        Assert.Equal("hello", evt.Details!.Value.GetProperty("message").GetString());
    }

    [Fact]
    public void FromJson_ReportsEveryMissingField()
    {
        var ex = Assert.Throws<EnclaveFormatException>(() => AuditEvent.FromJson("""{"details":{}}"""u8, new AuditEventDefaults()));
        Assert.Contains("type", ex.Message, StringComparison.Ordinal);
        Assert.Contains("actor", ex.Message, StringComparison.Ordinal);
        Assert.Contains("subject", ex.Message, StringComparison.Ordinal);
    }

    [Theory]
    [InlineData("""{"type":"Bad Type","time":"2026-11-22T20:31:05Z","actor":"a","subject":"s"}""")]
    [InlineData("""{"type":"a.b","time":"yesterday","actor":"a","subject":"s"}""")]
    [InlineData("""{"type":"a.b","time":"2026-11-22T20:31:05Z","actor":"","subject":"s"}""")]
    [InlineData("""{"type":"a.b","time":"2026-11-22T20:31:05Z","actor":"a","subject":"s","details":[1]}""")]
    [InlineData("""{"type":"a.b","time":"2026-11-22T20:31:05Z","actor":"a","subject":"s","extra":1}""")]
    [InlineData("""{"type":"a.b","time":"2026-11-22T20:31:05Z","actor":"a\u0000","subject":"s"}""")]
    [InlineData("""[1,2]""")]
    public void FromJson_RejectsSchemaViolations(string json)
    {
        Assert.Throws<EnclaveFormatException>(() => AuditEvent.FromJson(Encoding.UTF8.GetBytes(json), null));
    }

    [Fact]
    public void ToCanonicalJson_RejectsEventsLargerThanAnEntryCanHold()
    {
        using var details = JsonDocument.Parse($$"""{"blob":"{{new string('x', 70_000)}}"}""");
        var evt = new AuditEvent { Type = "a.b", Time = Time, Actor = "a", Subject = "s", Details = details.RootElement };
        Assert.Throws<EnclaveFormatException>(evt.ToCanonicalJson);
    }

    [Fact]
    public void Create_FromAJsonObject_EncodesExactlyAsTheElementPath()
    {
        var details = new System.Text.Json.Nodes.JsonObject
        {
            ["requestId"] = "req_1",
            ["latencyMs"] = 12.345,
            ["admittedIndex"] = 7L,
            ["policy"] = new System.Text.Json.Nodes.JsonObject { ["z"] = true, ["a"] = new System.Text.Json.Nodes.JsonArray("x", 1) },
            ["nothing"] = null,
        };
        var time = new DateTimeOffset(2026, 11, 22, 10, 0, 0, 123, TimeSpan.Zero);
        var created = AuditEvent.Create("request.completed", time, "user:alice", "model:m", details);
        var viaElement = new AuditEvent { Type = "request.completed", Time = time, Actor = "user:alice", Subject = "model:m", Details = System.Text.Json.JsonSerializer.SerializeToElement(details) };

        Assert.Equal(viaElement.ToCanonicalJson(), created.ToCanonicalJson());
        Assert.Equal(7, created.Details!.Value.GetProperty("admittedIndex").GetInt64());
        Assert.Equal(created.ToCanonicalJson(), AuditEvent.Parse(created.ToCanonicalJson()).ToCanonicalJson());
        Assert.Throws<EnclaveFormatException>(() => AuditEvent.Create("x.y", time, "a", "s", new System.Text.Json.Nodes.JsonObject { ["bad"] = double.PositiveInfinity }));
        Assert.Throws<EnclaveFormatException>(() => AuditEvent.Create("Bad Type", time, "a", "s", details).ToCanonicalJson());
    }
}
