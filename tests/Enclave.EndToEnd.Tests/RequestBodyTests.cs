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
}
