using System.Net.Http.Headers;
using System.Text.Json.Nodes;
using Enclave.Inference.Backends;
using Enclave.Inference.Upstream;

namespace Enclave.Inference.Tests.Upstream;

public sealed class UpstreamParsingTests
{
    private static readonly DateTimeOffset Now = new(2030, 1, 1, 12, 0, 0, TimeSpan.Zero);

    [Theory]
    [InlineData("0", 0)]
    [InlineData("5", 5)]
    [InlineData(" 120 ", 120)]
    [InlineData("Tue, 01 Jan 2030 12:00:30 GMT", 30)]
    [InlineData("Tue, 01 Jan 2030 11:00:00 GMT", 0)]
    [InlineData("99999999999999999999999", 86400)]
    public void RetryAfter_ReadsDeltaSecondsAndHttpDates(string header, int seconds)
    {
        Assert.Equal(TimeSpan.FromSeconds(seconds), RetryAfter.Parse(header, Now));
    }

    [Theory]
    [InlineData("")]
    [InlineData("soon")]
    [InlineData("-5")]
    [InlineData("1.5")]
    [InlineData("5 seconds")]
    public void RetryAfter_Unreadable_IsNull(string header)
    {
        Assert.Null(RetryAfter.Parse(header, Now));
    }

    [Fact]
    public void RetryAfterMs_IsPreferredWhenPresent()
    {
        using var response = new HttpResponseMessage();
        response.Headers.TryAddWithoutValidation("Retry-After", "10");
        response.Headers.TryAddWithoutValidation("retry-after-ms", "1500");

        Assert.Equal(TimeSpan.FromMilliseconds(1500), RetryAfter.Parse(response.Headers, Now));

        using var plain = new HttpResponseMessage();
        plain.Headers.RetryAfter = new RetryConditionHeaderValue(TimeSpan.FromSeconds(3));
        Assert.Equal(TimeSpan.FromSeconds(3), RetryAfter.Parse(plain.Headers, Now));
    }

    [Theory]
    [InlineData("""{"usage":{"prompt_tokens":7,"completion_tokens":4,"total_tokens":11}}""", 7, 4)]
    [InlineData("""{"usage":{"prompt_tokens":3,"total_tokens":3}}""", 3, 0)]
    public void Usage_IsReadFromTheBody(string json, int prompt, int completion)
    {
        Assert.Equal(new TokenUsage(prompt, completion), UpstreamUsage.Read(JsonNode.Parse(json)!.AsObject()));
    }

    [Theory]
    [InlineData("""{}""")]
    [InlineData("""{"usage":null}""")]
    [InlineData("""{"usage":{"prompt_tokens":-1,"completion_tokens":4}}""")]
    [InlineData("""{"usage":{"prompt_tokens":1.5,"completion_tokens":4}}""")]
    [InlineData("""{"usage":{"prompt_tokens":"7","completion_tokens":4}}""")]
    [InlineData("""{"usage":{"prompt_tokens":99999999999,"completion_tokens":4}}""")]
    [InlineData("""{"usage":{"completion_tokens":4}}""")]
    public void Usage_AbsentOrImplausible_IsNullSoTheServerCountsLocally(string json)
    {
        Assert.Null(UpstreamUsage.Read(JsonNode.Parse(json)!.AsObject()));
    }

    [Theory]
    [InlineData("""{"error":{"message":"bad things","type":"invalid_request_error","param":null,"code":null}}""", 400, 400, "invalid_request_error", "bad things")]
    [InlineData("""{"object":"error","message":"too long","type":"BadRequestError","param":null,"code":400}""", 400, 400, "invalid_request_error", "too long")]
    [InlineData("""{"error":"model 'x' not found"}""", 404, 404, "invalid_request_error", "model 'x' not found")]
    [InlineData("""{"error":{"message":"overloaded","type":"server_error"}}""", 503, 503, "server_error", "overloaded")]
    [InlineData("""{}""", 503, 503, "overloaded", "HTTP 503")]
    [InlineData("""{}""", 401, 502, "upstream_authentication_error", "HTTP 401")]
    [InlineData("""{}""", 302, 502, "upstream_error", "HTTP 302")]
    [InlineData("""{}""", 408, 504, "timeout", "HTTP 408")]
    public void ErrorObjects_MapToStatusTypeAndMessage(string json, int upstreamStatus, int status, string type, string message)
    {
        var error = UpstreamErrors.FromStatus("vllm-a", upstreamStatus, null, JsonNode.Parse(json)!.AsObject());

        Assert.Equal(status, error.StatusCode);
        Assert.Equal(type, error.ErrorType);
        Assert.Contains(message, error.Message, StringComparison.Ordinal);
        Assert.Contains("vllm-a", error.Message, StringComparison.Ordinal);
    }

    [Fact]
    public void ErrorMessages_AreBoundedAndOnOneLine()
    {
        var body = new JsonObject { ["error"] = new JsonObject { ["message"] = "line one\r\nline two " + new string('x', 5000) } };

        var error = UpstreamErrors.FromStatus("vllm-a", 500, null, body);

        Assert.DoesNotContain('\n', error.Message);
        Assert.True(error.Message.Length < 700, error.Message.Length.ToString(System.Globalization.CultureInfo.InvariantCulture));
    }

    [Theory]
    [InlineData("""{"a":1,"a":2}""")]
    [InlineData("""[1,2,3]""")]
    [InlineData("""{"a":""")]
    [InlineData("""{"a":1}x""")]
    [InlineData("""{"\ud800":1}""")] // a lone surrogate in a member name: was InvalidOperationException (the cause the canonical-json fuzz harness found)
    public void UpstreamJson_RejectsDuplicateKeysNonObjectsAndTruncation(string json)
    {
        Assert.ThrowsAny<System.Text.Json.JsonException>(() => UpstreamJson.ParseObject(System.Text.Encoding.UTF8.GetBytes(json)));
    }

    [Theory]
    [InlineData(new byte[] { 0xFF })]             // not UTF-8 at all
    [InlineData(new byte[] { 0xC3 })]             // a sequence cut short
    [InlineData(new byte[] { 0xED, 0xA0, 0x80 })] // an encoded surrogate
    public void UpstreamJson_RejectsAStringValueThatIsNotUtf8_AtParse_NotWhenFirstRead(byte[] bad)
    {
        // Found by the vendor-answer fuzz harness: accepted here, it threw InvalidOperationException from the error
        // mapping's first read of the message (a 500 for the client instead of a 502).
        byte[] json = [.. "{\"error\":{\"message\":\"a"u8, .. bad, .. "b\"}}"u8];

        var error = Assert.ThrowsAny<System.Text.Json.JsonException>(() => UpstreamJson.ParseObject(json));

        Assert.Contains("not valid text", error.Message, StringComparison.Ordinal);
    }

    [Fact]
    public void UpstreamJson_RejectsALoneSurrogateEscapeInAStringValue()
    {
        Assert.ThrowsAny<System.Text.Json.JsonException>(() => UpstreamJson.ParseObject("""{"choices":[{"message":{"content":"x\ud800y"}}]}"""u8));
    }

    [Fact]
    public void UpstreamJson_KeepsValidNonAsciiText()
    {
        var parsed = UpstreamJson.ParseObject("""{"message":"héllo \u00e9 \ud83d\ude00 😀"}"""u8);

        Assert.Equal("héllo é 😀 😀", parsed["message"]!.GetValue<string>());
    }

    [Fact]
    public void UpstreamJson_RejectsExcessiveNesting()
    {
        var json = new string('[', 100) + new string(']', 100);

        Assert.ThrowsAny<System.Text.Json.JsonException>(() => UpstreamJson.ParseObject(System.Text.Encoding.UTF8.GetBytes("{\"a\":" + json + "}")));
    }

    [Fact]
    public async Task UpstreamJson_CreateContent_EachBodyOwnsItsBytes_AfterTheThreadsBufferIsReused()
    {
        // The body is written through a per-thread scratch buffer: a later body (here one much longer) must not change an
        // earlier content, which the handler may still be sending.
        var text = new string('x', 3000) + " \u00e9\u4e2d\ud83d\ude00 \"quoted\"";
        var first = UpstreamJson.CreateContent(
            new JsonObject
            {
                ["model"] = "m",
                ["stream"] = true,
                ["stream_options"] = new JsonObject { ["include_usage"] = true },
                ["messages"] = new JsonArray(new JsonObject { ["role"] = "user", ["content"] = "hello \u00e9" }),
                ["max_tokens"] = 16,
            },
            StreamField.NotStreaming);
        var second = UpstreamJson.CreateContent(
            new JsonObject { ["model"] = "x", ["stream_options"] = new JsonObject { ["include_usage"] = true }, ["prompt"] = text },
            StreamField.Streaming);
        var third = UpstreamJson.CreateContent(new JsonObject { ["input"] = "a", ["stream"] = false }, StreamField.AsGiven);

        Assert.Equal("{\"model\":\"m\",\"messages\":[{\"role\":\"user\",\"content\":\"hello \u00e9\"}],\"max_tokens\":16}", await first.ReadAsStringAsync());
        Assert.Equal("{\"model\":\"x\",\"stream_options\":{\"include_usage\":true},\"prompt\":" + new JsonObject { ["p"] = text }.ToJsonString(new System.Text.Json.JsonSerializerOptions { Encoder = System.Text.Encodings.Web.JavaScriptEncoder.UnsafeRelaxedJsonEscaping })[5..^1] + ",\"stream\":true}", await second.ReadAsStringAsync());
        Assert.Equal("{\"input\":\"a\",\"stream\":false}", await third.ReadAsStringAsync());
        Assert.Equal(System.Text.Encoding.UTF8.GetByteCount(await first.ReadAsStringAsync()), first.Headers.ContentLength);
        Assert.Equal("application/json", first.Headers.ContentType?.MediaType);
    }
}
