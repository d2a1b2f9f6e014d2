using System.Text;
using System.Text.Json;
using System.Text.Json.Nodes;

namespace Enclave.Core.Tests;

public sealed class StrictJsonTests
{
    private static JsonException Rejects(byte[] body) => Assert.ThrowsAny<JsonException>(() => StrictJson.ParseNode(body, 64));

    private static JsonException Rejects(string body) => Rejects(Encoding.UTF8.GetBytes(body));

    [Fact]
    public void ParseNode_ReadsAValidBody()
    {
        var node = StrictJson.ParseNode("""{"model":"m","messages":[{"role":"user","content":"h\u00e9 \ud83d\ude00"}],"n":1}"""u8, 64);

        var body = Assert.IsType<JsonObject>(node);
        Assert.Equal("m", body["model"]!.GetValue<string>());
        Assert.Equal("hé 😀", body["messages"]![0]!["content"]!.GetValue<string>());
    }

    [Theory]
    [InlineData("""{"model":"m","model":"n"}""")]
    [InlineData("""{"model":"m","extra":{"a":1,"a":2}}""")]
    [InlineData("""{"model":"m","messages":[{"role":"user","role":"system"}]}""")]
    public void ParseNode_RejectsDuplicateMemberNames_TopLevelOrNested(string body) =>
        Rejects(body);

    [Fact]
    public void ParseNode_RejectsALoneSurrogateEscape_NamingWhere()
    {
        var e = Rejects("""{"model":"m","messages":[{"role":"user","content":"\ud800x"}]}""");

        Assert.Contains("$.messages[0].content", e.Message, StringComparison.Ordinal);
    }

    [Fact]
    public void ParseNode_RejectsInvalidUtf8InAString()
    {
        byte[] body = [.. """{"model":"m","prompt":"a"""u8, 0xC3, 0x28, .. "\"}"u8];

        var e = Rejects(body);

        Assert.Contains("$.prompt", e.Message, StringComparison.Ordinal);
    }

    [Fact]
    public void ParseNode_RejectsALoneSurrogateInAMemberName() =>
        Rejects("""{"model":"m","\ud800":1}""");

    [Fact]
    public void ParseNode_RejectsInvalidUtf8InAMemberName() =>
        Rejects([.. """{"model":"m","m"""u8, 0xFF, .. "ssages\":[]}"u8]);

    // Found by the openai-request fuzz harness: valid JSON that no double holds made the ledger's canonical form throw.
    [Theory]
    [InlineData("""{"model":"m","prompt":[1e400]}""", "$.prompt[0]")]
    [InlineData("""{"model":"m","temperature":-18446744674e+737095516}""", "$.temperature")]
    public void ParseNode_RejectsANumberOutOfTheRangeOfADouble(string body, string path)
    {
        var e = Rejects(body);

        Assert.Contains(path, e.Message, StringComparison.Ordinal);
    }

    [Fact]
    public void ParseNode_KeepsLargeIntegersThatADoubleHolds() =>
        Assert.Equal(1e300, StrictJson.ParseNode("""{"n":1e300}"""u8, 64)!["n"]!.GetValue<double>());

    [Fact]
    public void ParseNode_RejectsNestingDeeperThanTheLimit() =>
        Assert.ThrowsAny<JsonException>(() => StrictJson.ParseNode(Encoding.UTF8.GetBytes(new string('[', 10) + new string(']', 10)), 5));

    // Inputs the openai-request fuzz harness (fuzz/) found answering 500 before this parser existed.
    [Theory]
    [InlineData("eyJtb2RlbCI6Im0iLCJt/3NzYWdlcyI6W3sicm9sZSI6InVzZXIiLCJjb250ZW50IjoiKFMvL05GKSB0ZXh0IiwibmFtZSI6IngifV0sIm1ldGFkYXRhIjp7ImNsYXNzaWZpY2F0aW9uIjoiU0VDUkVUIn0sInRvb2xzdGkiOlt7InR5cGUiOiJmdW5jdGlvbiIsImZ1bmN0aW9uIjp7Im5hbWUiOiJmIiwicGFyYW1ldGVycyI6eyJ0eXBlIjoib2JqZWN0In19fV19")]
    [InlineData("eyJtb2RlbCI6Im0iLCJtZXNzYWdlcyI6W3sick5sZSI6InVzZXIiLCJjb25cXHRlbnQiOiIoUy8vTkYpIHRleJEiLCJuYW1lIjoieCJ9XSwibWV0YWRhdGEiOnsiY2xhc3NpZmljYXRpb24iOiJTRUNSRVQifSwidG9vbHMiOlt7InR5cGUiOiJmdW5jdGlvbiIsImZ1bmN0aW9uIjp7Im5hbWUiOiJmIiwicGFyYW1ldGVycyI6eyJ0eXBlIjoibyxqZWN0In19fV19")]
    [InlineData("eyJtb2RlbCI6Im0iLCJtZXNzYWdlcyI6InVzZXIiLCJlbnQiOiIoTnh0IiwiXFxtYSI6eyJjbGFpb24iOiJTRSJ9LCJzIjpbeyJ0eXBlIjoih3VubiIsIiI6eyIiOiJmIiwicHMiOnsidHlwZSI6ImN0In19fV19")]
    public void ParseNode_RejectsFuzzFindings(string base64) =>
        Rejects(Convert.FromBase64String(base64));
}
