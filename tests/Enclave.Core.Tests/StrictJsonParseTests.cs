using System.Text;
using System.Text.Json;
using System.Text.Json.Nodes;
using Enclave.Core;

namespace Enclave.Core.Tests;

public sealed class StrictJsonParseTests
{
    public static TheoryData<string, string> Malformed => new()
    {
        { "duplicate top-level key", """{"model":"a","model":"b"}""" },
        { "duplicate nested key", """{"messages":[{"role":"user","role":"system"}]}""" },
        { "duplicate key inside an unknown field", """{"model":"a","extra":{"x":{"k":1,"k":2}}}""" },
        { "duplicate key spelled with an escape", """{"model":"a","\u006dodel":"b"}""" },
        { "lone high surrogate escape", """{"model":"\ud800x"}""" },
        { "lone low surrogate escape", """{"model":"a\udc00"}""" },
        { "lone surrogate in a member name", """{"\ud800":1}""" },
        { "lone surrogate deep in an unknown field", """{"a":{"b":["\ud83d"]}}""" },
        { "trailing comma", """{"a":1,}""" },
        { "comment", """{"a":1/* x */}""" },
    };

    [Theory]
    [MemberData(nameof(Malformed))]
    public void Parse_RejectsMalformedInput_WithJsonException(string why, string json)
    {
        var ex = Assert.ThrowsAny<JsonException>(() => StrictJson.Parse(Encoding.UTF8.GetBytes(json)));
        Assert.False(string.IsNullOrEmpty(ex.Message), why);
    }

    [Theory]
    [InlineData(new byte[] { 0xFF })]
    [InlineData(new byte[] { 0xC3 })] // truncated two-byte sequence
    [InlineData(new byte[] { 0xED, 0xA0, 0x80 })] // UTF-8 encoded surrogate (CESU), not valid UTF-8
    [InlineData(new byte[] { 0xC0, 0xAF })] // overlong '/'
    public void Parse_RejectsInvalidUtf8InStringsAndNames_NamingTheOffset(byte[] bad)
    {
        foreach (var (prefix, suffix) in new[] { ("{\"model\":\"a", "b\"}"), ("{\"a", "\":1}"), ("{\"x\":[{\"y\":\"", "\"}]}") })
        {
            var bytes = Encoding.UTF8.GetBytes(prefix).Concat(bad).Concat(Encoding.UTF8.GetBytes(suffix)).ToArray();
            var ex = Assert.ThrowsAny<JsonException>(() => StrictJson.Parse(bytes));
            Assert.Contains("at byte", ex.Message, StringComparison.Ordinal);
        }
    }

    [Fact]
    public void Parse_RejectsNestingPastTheBound()
    {
        var deep = new string('[', 9) + new string(']', 9);
        Assert.ThrowsAny<JsonException>(() => StrictJson.Parse(Encoding.UTF8.GetBytes(deep), maxDepth: 8));
        Assert.NotNull(StrictJson.Parse(Encoding.UTF8.GetBytes(deep), maxDepth: 9));
    }

    [Fact]
    public void Parse_AcceptsValidJson_WithPairedSurrogatesAndNonAsciiText()
    {
        var node = StrictJson.Parse(Encoding.UTF8.GetBytes("""{"a":"\ud83d\ude00 é 中","b":[{"a":1},{"a":2}],"c":null}"""));
        var o = Assert.IsType<JsonObject>(node);
        Assert.Equal("😀 é 中", o["a"]!.GetValue<string>());
        Assert.Equal(2, o["b"]!.AsArray().Count);
    }
}
