using System.Net;
using System.Net.Http.Headers;
using System.Text;
using System.Text.Json.Nodes;

namespace Enclave.EndToEnd.Tests;

/// <summary>Request bodies at and past their bounds: sent with and without Content-Length, malformed, truncated.</summary>
public sealed class RequestBodyTests(EnclaveFixture enclave) : IClassFixture<EnclaveFixture>
{
    private HttpClient Client()
    {
        var http = new HttpClient { BaseAddress = new Uri(enclave.BaseUrl) };
        http.DefaultRequestHeaders.Authorization = new AuthenticationHeaderValue("Bearer", enclave.AdminKey);
        return http;
    }

    private static string Chat(int contentChars) =>
        new JsonObject { ["model"] = "echo-chat", ["messages"] = new JsonArray(new JsonObject { ["role"] = "user", ["content"] = new string('x', contentChars) }) }.ToJsonString();

    /// <summary>A body streamed in pieces without Content-Length (chunked), so the server cannot size its buffer in advance.</summary>
    private sealed class ChunkedContent(byte[] bytes) : HttpContent
    {
        protected override async Task SerializeToStreamAsync(Stream stream, TransportContext? context)
        {
            for (var offset = 0; offset < bytes.Length; offset += 7919)
            {
                await stream.WriteAsync(bytes.AsMemory(offset, Math.Min(7919, bytes.Length - offset)));
                await stream.FlushAsync();
            }
        }

        protected override bool TryComputeLength(out long length)
        {
            length = 0;
            return false;
        }
    }

    [Theory]
    [InlineData(10, false)]
    [InlineData(300_000, false)]
    [InlineData(300_000, true)]
    [InlineData(3_000_000, true)]
    public async Task Bodies_UpToTheLimit_AreAnswered_WithOrWithoutContentLength(int contentChars, bool chunked)
    {
        using var http = Client();
        var bytes = Encoding.UTF8.GetBytes(Chat(contentChars));
        using HttpContent content = chunked ? new ChunkedContent(bytes) : new ByteArrayContent(bytes);
        content.Headers.ContentType = new MediaTypeHeaderValue("application/json");
        using var response = await http.PostAsync("/v1/chat/completions", content);
        Assert.Equal(HttpStatusCode.OK, response.StatusCode);
        Assert.Equal(chunked, response.RequestMessage!.Content!.Headers.ContentLength is null);
    }

    [Theory]
    [InlineData(false)]
    [InlineData(true)]
    public async Task A_body_over_the_limit_is_413_and_admits_nothing(bool chunked)
    {
        using var http = Client();
        // With a Content-Length the server refuses before reading; Expect: 100-continue lets the client hear that
        // instead of writing into a closed connection (as curl does for large bodies).
        http.DefaultRequestHeaders.ExpectContinue = !chunked;
        var before = enclave.Entries().Count;
        var bytes = Encoding.UTF8.GetBytes(Chat(5 * 1024 * 1024));
        using HttpContent content = chunked ? new ChunkedContent(bytes) : new ByteArrayContent(bytes);
        content.Headers.ContentType = new MediaTypeHeaderValue("application/json");
        using var response = await http.PostAsync("/v1/chat/completions", content);
        Assert.Equal(HttpStatusCode.RequestEntityTooLarge, response.StatusCode);
        Assert.Equal(before, enclave.Entries().Count);
    }

    [Theory]
    [InlineData("{\"model\":\"echo-chat\",\"messages\":[{\"role\":\"user\",\"content\":\"hi\"}")]
    [InlineData("{\"model\":\"echo-chat\",\"messages\":[{\"role\":\"user\",\"content\":\"hi")]
    [InlineData("")]
    [InlineData("[1,2,3]")]
    [InlineData("{\"model\":\"echo-chat\",\"messages\":[]}")]
    [InlineData("\u0000\u0001garbage")]
    public async Task Malformed_or_truncated_bodies_are_400_and_admit_nothing(string body)
    {
        using var http = Client();
        var before = enclave.Entries().Count;
        using var response = await http.PostAsync("/v1/chat/completions", new StringContent(body, Encoding.UTF8, "application/json"));
        Assert.Equal(HttpStatusCode.BadRequest, response.StatusCode);
        var error = JsonNode.Parse(await response.Content.ReadAsStringAsync())!["error"]!;
        Assert.Equal("invalid_request_error", error["type"]!.GetValue<string>());
        Assert.Equal(before, enclave.Entries().Count);
    }

    [Fact]
    public async Task Nesting_deeper_than_64_is_refused()
    {
        using var http = Client();
        var deep = "{\"model\":\"echo-chat\",\"messages\":[{\"role\":\"user\",\"content\":\"hi\"}],\"x\":" + new string('[', 100) + new string(']', 100) + "}";
        using var response = await http.PostAsync("/v1/chat/completions", new StringContent(deep, Encoding.UTF8, "application/json"));
        Assert.Equal(HttpStatusCode.BadRequest, response.StatusCode);
    }

    public static TheoryData<string, byte[]> StrictlyRefused()
    {
        static byte[] Utf8(string s) => Encoding.UTF8.GetBytes(s);
        const string Message = "{\"role\":\"user\",\"content\":\"hi\"}";
        return new TheoryData<string, byte[]>
        {
            { "duplicate top-level key", Utf8("{\"model\":\"echo-chat\",\"model\":\"echo-chat\",\"messages\":[" + Message + "]}") },
            { "duplicate key spelled with an escape", Utf8("{\"model\":\"echo-chat\",\"\\u006dessages\":[],\"messages\":[" + Message + "]}") },
            { "duplicate nested key", Utf8("{\"model\":\"echo-chat\",\"messages\":[{\"role\":\"user\",\"role\":\"user\",\"content\":\"hi\"}]}") },
            { "lone surrogate escape", Utf8("{\"model\":\"echo-chat\",\"messages\":[{\"role\":\"user\",\"content\":\"\\ud800x\"}]}") },
            { "lone surrogate in a member name", Utf8("{\"model\":\"echo-chat\",\"messages\":[" + Message + "],\"\\udfff\":1}") },
            { "invalid UTF-8", [.. Utf8("{\"model\":\"echo-chat\",\"messages\":[{\"role\":\"user\",\"content\":\"a"), 0xFF, 0xFE, .. Utf8("\"}]}")] },
            { "number out of the range of a double", Utf8("{\"model\":\"echo-chat\",\"messages\":[" + Message + "],\"temperature\":1e400}") },
            { "nested deeper than 64", Utf8("{\"model\":\"echo-chat\",\"messages\":[" + Message + "],\"x\":" + new string('[', 100) + new string(']', 100) + "}") },
            { "truncated", Utf8("{\"model\":\"echo-chat\",\"messages\":[" + Message) },
        };
    }

    [Theory]
    [MemberData(nameof(StrictlyRefused))]
    public async Task StrictlyRefusedBodies_Are400_WithTheStrictParsersMessage_AndAdmitNothing(string why, byte[] body)
    {
        // The message the node parser of 71a5c31 gave (StrictJson.Parse), which the handler's element parse keeps.
        var expected = "the request body is not valid JSON: " + Assert.ThrowsAny<System.Text.Json.JsonException>(() => Enclave.Core.StrictJson.Parse(body, maxDepth: 64)).Message;
        using var http = Client();
        var before = enclave.Entries().Count;
        using var content = new ByteArrayContent(body);
        content.Headers.ContentType = new MediaTypeHeaderValue("application/json");

        using var response = await http.PostAsync("/v1/chat/completions", content);

        Assert.Equal(HttpStatusCode.BadRequest, response.StatusCode);
        var error = JsonNode.Parse(await response.Content.ReadAsStringAsync())!["error"]!;
        Assert.True(expected == error["message"]!.GetValue<string>(), $"{why}: expected '{expected}', got '{error["message"]}'");
        Assert.Equal(before, enclave.Entries().Count);
    }

    [Theory]
    [InlineData("\"stream\":\"yes\"", "stream")]
    [InlineData("\"stream_options\":{\"include_usage\":1}", "stream_options")]
    [InlineData("\"stream_options\":[]", "stream_options")]
    [InlineData("\"user\":5", "user")]
    [InlineData("\"model\":5", "model")]
    [InlineData("\"model\":\"\"", "model")]
    public async Task FieldsOfTheWrongType_Are400_NamingTheParameter(string field, string param)
    {
        using var http = Client();
        var body = "{\"messages\":[{\"role\":\"user\",\"content\":\"hi\"}]," + field + (param == "model" ? string.Empty : ",\"model\":\"echo-chat\"") + "}";

        using var response = await http.PostAsync("/v1/chat/completions", new StringContent(body, Encoding.UTF8, "application/json"));

        Assert.Equal(HttpStatusCode.BadRequest, response.StatusCode);
        Assert.Equal(param, JsonNode.Parse(await response.Content.ReadAsStringAsync())!["error"]!["param"]!.GetValue<string>());
    }

    [Theory]
    [InlineData("{\"model\":\"echo-chat\",\"messages\":null}", HttpStatusCode.BadRequest)]
    [InlineData("{\"model\":\"echo-chat\",\"messages\":{}}", HttpStatusCode.BadRequest)]
    [InlineData("{\"model\":null,\"messages\":[{\"role\":\"user\",\"content\":\"hi\"}]}", HttpStatusCode.BadRequest)]
    [InlineData("{\"model\":\"echo-chat\",\"messages\":[{\"role\":\"user\",\"content\":\"hi\"}],\"stream\":null,\"user\":null,\"stream_options\":null}", HttpStatusCode.OK)]
    [InlineData("{\"model\":\"echo-chat\",\"messages\":[{\"role\":\"user\",\"content\":\"hi\"}],\"stream_options\":{\"include_usage\":null}}", HttpStatusCode.OK)]
    public async Task NullFields_AreReadAsAbsent(string body, HttpStatusCode status)
    {
        using var http = Client();

        using var response = await http.PostAsync("/v1/chat/completions", new StringContent(body, Encoding.UTF8, "application/json"));

        Assert.Equal(status, response.StatusCode);
    }
}
