using System.Text;
using System.Text.Json;
using System.Text.Json.Nodes;
using Enclave.Server.OpenAi;

namespace Enclave.EndToEnd.Tests;

/// <summary>The answer writer the chat path uses: the bytes <c>ToJsonString</c> gave, and nothing left over between answers.</summary>
public sealed class JsonAnswerTests
{
    private static readonly JsonSerializerOptions Compact = new() { WriteIndented = false, Encoder = System.Text.Encodings.Web.JavaScriptEncoder.UnsafeRelaxedJsonEscaping };

    [Fact]
    public void Utf8_IsTheCompactJsonTextAsBefore_AndAShortAnswerAfterALongOneHoldsNothingOfIt()
    {
        var longAnswer = JsonNode.Parse("""{"id":"chatcmpl-1","choices":[{"index":0,"message":{"role":"assistant","content":"caf\u00e9 \u4e2d\u6587 \ud83d\ude00 <b>&amp;</b> \"q\" \\ \n"}}],"usage":{"prompt_tokens":3,"completion_tokens":5}}""")!.AsObject();
        longAnswer["padding"] = new string('p', 70_000); // past what a thread keeps: the writer is dropped, not reused
        longAnswer["model"] = "m";
        var shortAnswer = new JsonObject { ["id"] = "x", ["n"] = 1.5, ["z"] = null };

        var first = JsonAnswer.Utf8(longAnswer);
        var second = JsonAnswer.Utf8(shortAnswer);
        var third = JsonAnswer.Utf8(longAnswer);
        var fourth = JsonAnswer.Utf8(shortAnswer);

        Assert.Equal(Encoding.UTF8.GetBytes(longAnswer.ToJsonString(Compact)), first);
        Assert.Equal(Encoding.UTF8.GetBytes(shortAnswer.ToJsonString(Compact)), second);
        Assert.Equal(first, third);
        Assert.Equal(second, fourth);
        Assert.Contains("caf\u00e9", Encoding.UTF8.GetString(first), StringComparison.Ordinal);
    }
}
