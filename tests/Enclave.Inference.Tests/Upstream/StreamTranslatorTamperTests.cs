using System.Text;
using System.Text.Json;
using System.Text.Json.Nodes;
using Enclave.Inference.Backends;
using Enclave.Inference.Upstream;

namespace Enclave.Inference.Tests.Upstream;

/// <summary>Vendor stream events that are not what the vendor documents: refused, never half-translated.</summary>
public sealed class StreamTranslatorTamperTests
{
    private static readonly UpstreamBackendOptions Backend = new() { Name = "v", Kind = "anthropic" };

    [Fact]
    public void Anthropic_AStreamThatDoesNotBeginWithMessageStart_IsRefused()
    {
        var translator = new AnthropicStreamTranslator(Backend, 0, includeUsage: false);

        var error = Assert.Throws<JsonException>(() => Feed(translator, "content_block_delta", """{"type":"content_block_delta","index":0,"delta":{"type":"text_delta","text":"hi"}}"""));

        Assert.Contains("not message_start", error.Message, StringComparison.Ordinal);
    }

    [Theory]
    [InlineData("""{"type":"message_start","message":{"id":"m","model":"c"}""")]          // truncated
    [InlineData("""{"type":"message_start","type":"ping","message":{}}""")]              // duplicate key
    [InlineData("""["message_start"]""")]                                                // not an object
    public void Anthropic_MalformedEvents_AreJsonErrors(string data)
    {
        var translator = new AnthropicStreamTranslator(Backend, 0, includeUsage: false);

        Assert.ThrowsAny<JsonException>(() => Feed(translator, "message_start", data));
    }

    [Fact]
    public void Anthropic_InputJsonDeltaForABlockThatIsNotAToolUse_IsRefused()
    {
        var translator = new AnthropicStreamTranslator(Backend, 0, includeUsage: false);
        Feed(translator, "message_start", """{"type":"message_start","message":{"id":"m","model":"c","usage":{"input_tokens":1,"output_tokens":1}}}""");

        Assert.Throws<JsonException>(() => Feed(translator, "content_block_delta", """{"type":"content_block_delta","index":3,"delta":{"type":"input_json_delta","partial_json":"{"}}"""));
    }

    [Fact]
    public void Anthropic_ErrorEventBeforeAnyChunk_IsTheMappedRetryableError()
    {
        var translator = new AnthropicStreamTranslator(Backend, 0, includeUsage: false);

        var error = Assert.Throws<BackendException>(() => Feed(translator, "error", """{"type":"error","error":{"type":"overloaded_error","message":"Overloaded"}}"""));

        Assert.Equal(503, error.StatusCode);
        Assert.True(error.Retryable);
    }

    [Fact]
    public void Anthropic_AStreamWithoutMessageStop_DoesNotEndCleanly()
    {
        var translator = new AnthropicStreamTranslator(Backend, 0, includeUsage: false);
        Feed(translator, "message_start", """{"type":"message_start","message":{"id":"m","model":"c"}}""");

        Assert.False(translator.OnEnd([]));
        Assert.False(translator.Done);
    }

    [Fact]
    public void Gemini_AnErrorObjectInTheStream_IsTheMappedError()
    {
        var translator = new GeminiStreamTranslator(Backend with { Kind = "gemini" }, 0, includeUsage: false);

        var error = Assert.Throws<BackendException>(() => Feed(translator, null, """{"error":{"code":429,"message":"quota","status":"RESOURCE_EXHAUSTED"}}"""));

        Assert.Equal(429, error.StatusCode);
    }

    [Fact]
    public void Bedrock_ADeltaForAToolBlockThatNeverStarted_IsRefused()
    {
        var translator = new BedrockStreamTranslator(Backend with { Kind = "bedrock" }, 0, "m", includeUsage: false);
        Feed(translator, "messageStart", """{"role":"assistant"}""");

        Assert.Throws<JsonException>(() => Feed(translator, "contentBlockDelta", """{"contentBlockIndex":1,"delta":{"toolUse":{"input":"{"}}}"""));
        Assert.False(translator.OnEnd([]), "a stream without messageStop is not complete");
    }

    private static List<JsonObject> Feed(UpstreamStreamTranslator translator, string? name, string data)
    {
        var output = new List<JsonObject>();
        translator.OnEvent(name, Encoding.UTF8.GetBytes(data), 0, output);
        return output;
    }
}
