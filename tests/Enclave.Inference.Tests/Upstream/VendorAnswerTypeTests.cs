using System.Text;
using System.Text.Json;
using System.Text.Json.Nodes;
using Enclave.Inference.Backends;
using Enclave.Inference.Upstream;

namespace Enclave.Inference.Tests.Upstream;

/// <summary>
/// Vendor answers whose members have another JSON type than the vendor documents (a number where an object is, a
/// string where an array is): a 502 (<see cref="BackendException"/> for an answer, <see cref="JsonException"/> for a
/// stream event, which the backend answers 502), never the <see cref="InvalidOperationException"/> of a
/// <see cref="JsonNode"/> indexer, which reached the client as a 500. The first cases are the inputs the
/// <c>vendor-answer</c> fuzz harness found.
/// </summary>
public sealed class VendorAnswerTypeTests
{
    private static readonly JsonObject Request = new()
    {
        ["model"] = "m",
        ["messages"] = new JsonArray(new JsonObject { ["role"] = "user", ["content"] = "hi" }),
    };

    [Theory]
    [InlineData("bedrock", """{"output":{"message":5}}""")]
    [InlineData("gemini", """{"candidates":[{"content":"S"}],"usageMetadata":{"promptTokenCount":3}}""")]
    [InlineData("anthropic", """{"type":"message","content":[5],"stop_reason":"end_turn"}""")]
    public void AnAnswerWithAMistypedMember_IsABadGateway(string kind, string body)
    {
        var dialect = UpstreamDialect.For(Options(kind), TimeProvider.System);

        var error = Record.Exception(() => dialect.TranslateResponse(UpstreamOperation.Chat, Request, UpstreamJson.ParseObject(Encoding.UTF8.GetBytes(body))));

        var backend = Assert.IsType<BackendException>(error);
        Assert.Equal(502, backend.StatusCode);
        Assert.Equal("upstream_error", backend.ErrorType);
        Assert.Contains($"'{kind}-1'", backend.Message, StringComparison.Ordinal);
    }

    [Theory]
    [InlineData("anthropic", "message_start", """{"type":"message_start","message":5}""")]
    [InlineData("anthropic", "content_block_start", """{"type":"content_block_start","index":0,"content_block":"text"}""")]
    [InlineData("gemini", null, """{"candidates":[{"content":"STOP"}]}""")]
    [InlineData("bedrock", "contentBlockDelta", """{"contentBlockIndex":0,"delta":5}""")]
    public void AStreamEventWithAMistypedMember_IsAJsonError(string kind, string? eventName, string data)
    {
        var dialect = UpstreamDialect.For(Options(kind), TimeProvider.System);
        var translator = dialect.StartStream(Request);
        var output = new List<JsonObject>();
        if (kind == "anthropic" && eventName != "message_start")
        {
            translator.OnEvent("message_start", """{"type":"message_start","message":{"id":"m","model":"c"}}"""u8, 0, output);
        }
        else if (kind == "bedrock")
        {
            translator.OnEvent("messageStart", """{"role":"assistant"}"""u8, 0, output);
        }

        var error = Record.Exception(() => translator.OnEvent(eventName, Encoding.UTF8.GetBytes(data), 0, output));

        Assert.True(error is JsonException or BackendException { StatusCode: 502 }, error?.ToString() ?? "no error: the event was accepted");
    }

    private static UpstreamBackendOptions Options(string kind) => new()
    {
        Name = kind + "-1",
        Kind = kind,
        BaseUrl = "http://127.0.0.1:9/v1/",
        Region = kind == "bedrock" ? "eu-west-1" : null,
        Models = ["m"],
    };
}
