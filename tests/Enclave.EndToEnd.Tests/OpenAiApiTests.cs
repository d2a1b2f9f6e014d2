using System.ClientModel;
using System.ClientModel.Primitives;
using System.Globalization;
using System.Net;
using System.Net.Http.Headers;
using System.Text;
using System.Text.Json;
using Enclave.Ledger;
using OpenAI;
using OpenAI.Chat;
using OpenAI.Embeddings;

namespace Enclave.EndToEnd.Tests;

/// <summary>The official OpenAI .NET client against the enclave on loopback.</summary>
public sealed class OpenAiApiTests(EnclaveFixture enclave) : IClassFixture<EnclaveFixture>
{
    private OpenAIClient Client(string? key = null) => new(
        new ApiKeyCredential(key ?? enclave.AdminKey),
        new OpenAIClientOptions { Endpoint = new Uri(enclave.BaseUrl + "/v1"), RetryPolicy = new ClientRetryPolicy(maxRetries: 0) });

    [Fact]
    public async Task Chat_AnswersAndIsRecordedAdmittedThenCompleted_WithDigestsNotText()
    {
        var chat = Client().GetChatClient("echo-chat");
        const string secret = "the launch code is 0000";

        var result = await chat.CompleteChatAsync([new UserChatMessage(secret)]);

        Assert.Equal("echo: the launch code is 0000", result.Value.Content[0].Text);
        Assert.Equal("echo-chat", result.Value.Model);
        Assert.True(result.Value.Usage.OutputTokenCount > 0);
        Assert.True(result.GetRawResponse().Headers.TryGetValue("Enclave-Ledger-Index", out var indexText));
        var admittedIndex = long.Parse(indexText!, CultureInfo.InvariantCulture);

        var admitted = enclave.Entry(admittedIndex);
        Assert.Equal("request.admitted", admitted.Type);
        Assert.Equal("model:echo-chat", admitted.Subject);
        Assert.Equal("user:admin", admitted.Actor); // the fixture's key belongs to the user admin
        Assert.Equal(64, admitted.Details!.Value.GetProperty("promptSha256").GetString()!.Length);

        var completed = await EnclaveFixture.EventuallyAsync(() => enclave.CompletedEntry(admittedIndex));
        Assert.Equal("ok", completed.Details!.Value.GetProperty("outcome").GetString());
        Assert.Equal("stub-vllm", completed.Details!.Value.GetProperty("backend").GetString());
        Assert.Equal("sha256:" + new string('a', 64), completed.Details!.Value.GetProperty("modelDigest").GetString());
        Assert.True(completed.Details!.Value.GetProperty("completionTokens").GetInt32() > 0);

        Assert.DoesNotContain(enclave.Entries(), e => Encoding.UTF8.GetString(e.Bytes).Contains("launch code", StringComparison.Ordinal));
    }

    [Fact]
    public async Task ChatStreaming_DeliversTokensAndAFinalUsageChunk()
    {
        var chat = Client().GetChatClient("echo-chat");
        var text = new StringBuilder();
        ChatTokenUsage? usage = null;

        await foreach (var update in chat.CompleteChatStreamingAsync([new UserChatMessage("one two three")]))
        {
            foreach (var part in update.ContentUpdate)
            {
                text.Append(part.Text);
            }

            usage ??= update.Usage;
        }

        Assert.Equal("echo: one two three", text.ToString());
        Assert.NotNull(usage);
        Assert.Equal(4, usage!.OutputTokenCount);
    }

    [Fact]
    public async Task ChatStreaming_RawSse_EndsWithUsageChunkWithoutChoicesThenDone()
    {
        using var http = RawClient();
        var body = """{"model":"echo-chat","stream":true,"stream_options":{"include_usage":true},"messages":[{"role":"user","content":"a b"}]}""";
        using var response = await http.PostAsync("/v1/chat/completions", new StringContent(body, Encoding.UTF8, "application/json"));
        var lines = (await response.Content.ReadAsStringAsync()).Split("\n\n", StringSplitOptions.RemoveEmptyEntries);

        Assert.Equal("text/event-stream", response.Content.Headers.ContentType?.MediaType);
        Assert.True(response.Headers.Contains("Enclave-Ledger-Index"));
        Assert.Equal("data: [DONE]", lines[^1].Trim());
        using var usageChunk = JsonDocument.Parse(lines[^2]["data: ".Length..]);
        Assert.Equal(0, usageChunk.RootElement.GetProperty("choices").GetArrayLength());
        Assert.Equal(3, usageChunk.RootElement.GetProperty("usage").GetProperty("completion_tokens").GetInt32());
    }

    [Fact]
    public async Task Embeddings_WorkThroughTheClient_AndInBothEncodings()
    {
        var embedding = (await Client().GetEmbeddingClient("echo-embed").GenerateEmbeddingAsync("hello")).Value.ToFloats().ToArray();
        Assert.Equal(VllmStub.Vector("hello"), embedding);

        using var http = RawClient();
        foreach (var format in new[] { "float", "base64" })
        {
            using var response = await http.PostAsync("/v1/embeddings", new StringContent($$"""{"model":"echo-embed","input":["hello"],"encoding_format":"{{format}}"}""", Encoding.UTF8, "application/json"));
            Assert.Equal(HttpStatusCode.OK, response.StatusCode);
            Assert.Equal("application/json; charset=utf-8", response.Content.Headers.ContentType?.ToString());
            var answer = await response.Content.ReadAsByteArrayAsync();
            Assert.Equal(answer.Length, response.Content.Headers.ContentLength);
            using var doc = JsonDocument.Parse(answer);
            var value = doc.RootElement.GetProperty("data")[0].GetProperty("embedding");
            float[] vector = format == "float"
                ? [.. value.EnumerateArray().Select(v => v.GetSingle())]
                : [.. System.Runtime.InteropServices.MemoryMarshal.Cast<byte, float>(Convert.FromBase64String(value.GetString()!))];
            Assert.Equal(VllmStub.Vector("hello"), vector);
        }
    }

    [Fact]
    public async Task Models_ListsTheCatalogAsAnOpenAiList()
    {
        var models = (await Client().GetOpenAIModelClient().GetModelsAsync()).Value;
        Assert.Contains(models, m => m.Id == "echo-chat");
        Assert.Contains(models, m => m.Id == "echo-embed");
    }

    [Fact]
    public async Task ToolCalls_PassThroughBothWays()
    {
        var options = new ChatCompletionOptions();
        options.Tools.Add(ChatTool.CreateFunctionTool("get_weather", "weather for a city", BinaryData.FromString("""{"type":"object","properties":{"city":{"type":"string"}}}""")));

        var completion = (await Client().GetChatClient("echo-chat").CompleteChatAsync([new UserChatMessage("weather in Oslo?")], options)).Value;

        Assert.Equal(ChatFinishReason.ToolCalls, completion.FinishReason);
        Assert.Equal("get_weather", completion.ToolCalls[0].FunctionName);
        Assert.Equal("""{"city":"Oslo"}""", completion.ToolCalls[0].FunctionArguments.ToString());
    }

    [Fact]
    public async Task Errors_MapToOpenAiStatusesAndObjects()
    {
        var unknown = await Assert.ThrowsAsync<ClientResultException>(() => Client().GetChatClient("no-such-model").CompleteChatAsync([new UserChatMessage("x")]));
        Assert.Equal(404, unknown.Status);

        var overloaded = await Assert.ThrowsAsync<ClientResultException>(() => Client().GetChatClient("overloaded").CompleteChatAsync([new UserChatMessage("x")]));
        Assert.Equal(429, overloaded.Status);
        Assert.True(overloaded.GetRawResponse()!.Headers.TryGetValue("Retry-After", out var retryAfter));
        Assert.True(int.Parse(retryAfter!, CultureInfo.InvariantCulture) >= 1);

        var broken = await Assert.ThrowsAsync<ClientResultException>(() => Client().GetChatClient("broken").CompleteChatAsync([new UserChatMessage("x")]));
        Assert.InRange(broken.Status, 500, 599);

        using var http = RawClient();
        using var bad = await http.PostAsync("/v1/chat/completions", new StringContent("{not json", Encoding.UTF8, "application/json"));
        Assert.Equal(HttpStatusCode.BadRequest, bad.StatusCode);
        using var error = JsonDocument.Parse(await bad.Content.ReadAsStringAsync());
        Assert.Equal("invalid_request_error", error.RootElement.GetProperty("error").GetProperty("type").GetString());

        using var noMessages = await http.PostAsync("/v1/chat/completions", new StringContent("""{"model":"echo-chat"}""", Encoding.UTF8, "application/json"));
        Assert.Equal(HttpStatusCode.BadRequest, noMessages.StatusCode);
    }

    [Theory]
    [InlineData("\"stream\":\"yes\"", "stream")]
    [InlineData("\"stream\":1", "stream")]
    [InlineData("\"stream_options\":true", "stream_options")]
    [InlineData("\"stream\":true,\"stream_options\":{\"include_usage\":\"yes\"}", "stream_options")]
    [InlineData("\"user\":42", "user")]
    public async Task WrongTypes_Are400_NamingTheParameter(string field, string param)
    {
        using var http = RawClient();
        var body = "{\"model\":\"echo-chat\"," + field + ",\"messages\":[{\"role\":\"user\",\"content\":\"x\"}]}";
        using var response = await http.PostAsync("/v1/chat/completions", new StringContent(body, Encoding.UTF8, "application/json"));
        Assert.Equal(HttpStatusCode.BadRequest, response.StatusCode);
        using var error = JsonDocument.Parse(await response.Content.ReadAsStringAsync());
        Assert.Equal(param, error.RootElement.GetProperty("error").GetProperty("param").GetString());
    }

    [Fact]
    public async Task MissingOrWrongKey_Is401WithAnOpenAiError()
    {
        var wrong = await Assert.ThrowsAsync<ClientResultException>(() => Client("ek_000000000000_" + new string('A', 43)).GetChatClient("echo-chat").CompleteChatAsync([new UserChatMessage("x")]));
        Assert.Equal(401, wrong.Status);

        using var http = new HttpClient { BaseAddress = new Uri(enclave.BaseUrl) };
        using var response = await http.GetAsync("/v1/models");
        Assert.Equal(HttpStatusCode.Unauthorized, response.StatusCode);
        using var error = JsonDocument.Parse(await response.Content.ReadAsStringAsync());
        Assert.Equal("invalid_api_key", error.RootElement.GetProperty("error").GetProperty("code").GetString());
    }

    [Fact]
    public async Task Cancellation_StopsTheStream_AndIsRecordedAsCancelled()
    {
        using var http = RawClient();
        using var request = new HttpRequestMessage(HttpMethod.Post, "/v1/chat/completions")
        {
            Content = new StringContent("""{"model":"slow","stream":true,"messages":[{"role":"user","content":"tell me everything"}]}""", Encoding.UTF8, "application/json"),
        };
        long admittedIndex;
        using (var response = await http.SendAsync(request, HttpCompletionOption.ResponseHeadersRead))
        {
            admittedIndex = long.Parse(response.Headers.GetValues("Enclave-Ledger-Index").First(), CultureInfo.InvariantCulture);
            var reader = new StreamReader(await response.Content.ReadAsStreamAsync());
            Assert.StartsWith("data: ", await reader.ReadLineAsync());
        }

        // The client hung up after the first chunk while the upstream still holds the rest.
        var completed = await EnclaveFixture.EventuallyAsync(() => enclave.CompletedEntry(admittedIndex));
        Assert.Equal("cancelled", completed.Details!.Value.GetProperty("outcome").GetString());
    }

    [Fact]
    public async Task Ledger_CheckpointCoversTheRequests_AndVerifiesWithThePublicKey()
    {
        await Client().GetChatClient("echo-chat").CompleteChatAsync([new UserChatMessage("audit me")]);

        using var http = RawClient();
        var note = await http.GetStringAsync("/admin/v1/ledger/checkpoint");
        var checkpoint = LedgerAuditor.VerifyCheckpoint(Encoding.UTF8.GetBytes(note), enclave.VerifierKeys, "e2e.example/ledger");
        Assert.True(checkpoint.Size >= 2);
        using var reader = LedgerReader.Open(enclave.DataDirectory);
        LedgerAuditor.VerifyTiles(reader.OpenTileReader(), checkpoint);
    }

    [Fact]
    public async Task Metrics_AreScrapedInPrometheusFormat_OnlyWithAKey()
    {
        await Client().GetChatClient("echo-chat").CompleteChatAsync([new UserChatMessage("count me")]);

        using var http = RawClient();
        var text = await http.GetStringAsync("/metrics");
        Assert.Contains("enclave_requests_total", text, StringComparison.Ordinal);
        Assert.Contains("model=\"echo-chat\"", text, StringComparison.Ordinal);
        Assert.Contains("enclave_ledger_size", text, StringComparison.Ordinal);

        using var anonymous = new HttpClient { BaseAddress = new Uri(enclave.BaseUrl) };
        Assert.Equal(HttpStatusCode.Unauthorized, (await anonymous.GetAsync("/metrics")).StatusCode);
    }

    [Fact]
    public async Task HealthEndpoints_AnswerWithoutAKey()
    {
        using var anonymous = new HttpClient { BaseAddress = new Uri(enclave.BaseUrl) };
        Assert.Equal(HttpStatusCode.OK, (await anonymous.GetAsync("/healthz")).StatusCode);
        using var ready = JsonDocument.Parse(await anonymous.GetStringAsync("/readyz"));
        Assert.Equal("ready", ready.RootElement.GetProperty("status").GetString());
    }

    private HttpClient RawClient()
    {
        var http = new HttpClient { BaseAddress = new Uri(enclave.BaseUrl) };
        http.DefaultRequestHeaders.Authorization = new AuthenticationHeaderValue("Bearer", enclave.AdminKey);
        return http;
    }
}
