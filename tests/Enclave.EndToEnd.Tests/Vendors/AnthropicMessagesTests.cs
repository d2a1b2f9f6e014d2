using System.Net;
using System.Net.Http.Headers;
using System.Text;
using System.Text.Json;
using System.Text.Json.Nodes;
using Anthropic;
using Anthropic.Models.Messages;

namespace Enclave.EndToEnd.Tests.Vendors;

/// <summary>
/// The official Anthropic .NET SDK against <c>POST /v1/messages</c> on a real enclave on loopback: the request goes the
/// chat path (auth, policy, ledger) to the fixture's backend, and the answer, stream and errors come back in Anthropic's form.
/// </summary>
public sealed class AnthropicMessagesTests(EnclaveFixture enclave) : IClassFixture<EnclaveFixture>
{
    private AnthropicClient Client(string? key = null) => new() { ApiKey = key ?? enclave.AdminKey, BaseUrl = enclave.BaseUrl, MaxRetries = 0 };

    [Fact]
    public async Task AnthropicSdk_Create_IsAnsweredByTheChatBackend_AndTheLedgerRecordsTheRequest()
    {
        var before = enclave.Entries().Count;
        var message = await Client().Messages.Create(new MessageCreateParams
        {
            Model = "echo-chat",
            MaxTokens = 64,
            System = "Be brief.",
            Messages = [new UserMessageParam { Content = "hello anthropic" }],
        });

        var text = string.Concat(message.Content.Select(b => b.TryPickText(out var t) ? t.Text : string.Empty));
        Assert.Equal("echo: hello anthropic", text);
        Assert.Equal("\"echo-chat\"", message.Model.ToString()); // the SDK prints its string enums as JSON
        Assert.True(message.Usage.InputTokens > 0);
        Assert.True(message.Usage.OutputTokens > 0);
        Assert.Equal("\"end_turn\"", message.StopReason?.ToString());

        var admitted = enclave.Entries().Skip(before).Single(e => e.Event.Type == "request.admitted"
            && e.Event.Details!.Value.GetProperty("endpoint").GetString() == "/v1/messages");
        Assert.Equal("user:admin", admitted.Event.Actor);
        Assert.Equal("model:echo-chat", admitted.Event.Subject);
        var completed = await EnclaveFixture.EventuallyAsync(() => enclave.CompletedEntry(admitted.Index));
        Assert.Equal("ok", completed.Details!.Value.GetProperty("outcome").GetString());
        Assert.Equal("/v1/messages", completed.Details!.Value.GetProperty("endpoint").GetString());
    }

    [Fact]
    public async Task AnthropicSdk_CreateStreaming_DeliversAnthropicStreamEvents_InOrder()
    {
        var events = new List<string>();
        var text = new StringBuilder();
        await foreach (var update in Client().Messages.CreateStreaming(new MessageCreateParams
        {
            Model = "echo-chat",
            MaxTokens = 64,
            Messages = [new UserMessageParam { Content = "one two three" }],
        }))
        {
            if (update.TryPickStart(out _))
            {
                events.Add("message_start");
            }
            else if (update.TryPickContentBlockStart(out _))
            {
                events.Add("content_block_start");
            }
            else if (update.TryPickContentBlockDelta(out var delta))
            {
                events.Add("content_block_delta");
                if (delta.Delta.TryPickText(out var t))
                {
                    text.Append(t.Text);
                }
            }
            else if (update.TryPickContentBlockStop(out _))
            {
                events.Add("content_block_stop");
            }
            else if (update.TryPickDelta(out var messageDelta))
            {
                events.Add("message_delta");
                Assert.True(messageDelta.Usage.OutputTokens > 0);
            }
            else if (update.TryPickStop(out _))
            {
                events.Add("message_stop");
            }
        }

        Assert.Equal("echo: one two three", text.ToString());
        Assert.Equal("message_start", events[0]);
        Assert.Equal("content_block_start", events[1]);
        Assert.All(events.Skip(2).Take(events.Count - 5), e => Assert.Equal("content_block_delta", e));
        Assert.Equal(["content_block_stop", "message_delta", "message_stop"], events.TakeLast(3));
    }

    [Fact]
    public async Task Tools_AreTranslated_AndAToolCallComesBackAsToolUse()
    {
        using var http = Raw();
        http.DefaultRequestHeaders.Add("x-api-key", enclave.AdminKey);
        var (status, body) = await PostAsync(http, """
            {"model":"echo-chat","max_tokens":32,
             "tools":[{"name":"get_weather","description":"weather for a city","input_schema":{"type":"object","properties":{"city":{"type":"string"}}}}],
             "messages":[{"role":"user","content":[{"type":"text","text":"weather in Oslo?"}]}]}
            """);
        Assert.Equal(HttpStatusCode.OK, status);
        Assert.Equal("message", (string?)body["type"]);
        Assert.Equal("tool_use", (string?)body["stop_reason"]);
        var block = body["content"]![0]!;
        Assert.Equal("tool_use", (string?)block["type"]);
        Assert.Equal("get_weather", (string?)block["name"]);
        Assert.Equal("Oslo", (string?)block["input"]!["city"]);
    }

    [Theory]
    [InlineData("""{"model":"echo-chat","max_tokens":16,"thinking":{"type":"enabled","budget_tokens":1024},"messages":[{"role":"user","content":"hi"}]}""", "'thinking'")]
    [InlineData("""{"model":"echo-chat","messages":[{"role":"user","content":"hi"}]}""", "'max_tokens'")]
    [InlineData("""{"model":"echo-chat","max_tokens":16,"messages":[{"role":"system","content":"hi"}]}""", "'messages[0].role'")]
    [InlineData("""{"model":"echo-chat","max_tokens":16,"messages":[{"role":"user","content":[{"type":"document","source":{}}]}]}""", "'messages[0].content[0].type'")]
    public async Task A_parameter_that_cannot_be_honoured_is_a_400_anthropic_error_naming_it(string request, string named)
    {
        using var http = Raw();
        http.DefaultRequestHeaders.Add("x-api-key", enclave.AdminKey);
        var (status, body) = await PostAsync(http, request);
        Assert.Equal(HttpStatusCode.BadRequest, status);
        Assert.Equal("error", (string?)body["type"]);
        Assert.Equal("invalid_request_error", (string?)body["error"]!["type"]);
        Assert.Contains(named, (string?)body["error"]!["message"], StringComparison.Ordinal);
    }

    [Fact]
    public async Task Errors_on_the_route_are_anthropic_error_objects_and_bearer_keys_work_too()
    {
        using (var anonymous = Raw())
        {
            var (status, body) = await PostAsync(anonymous, """{"model":"echo-chat","max_tokens":16,"messages":[{"role":"user","content":"hi"}]}""");
            Assert.Equal(HttpStatusCode.Unauthorized, status);
            Assert.Equal("authentication_error", (string?)body["error"]!["type"]);
        }

        using (var wrong = Raw())
        {
            wrong.DefaultRequestHeaders.Add("x-api-key", "ek_not_a_key");
            var (status, body) = await PostAsync(wrong, """{"model":"echo-chat","max_tokens":16,"messages":[{"role":"user","content":"hi"}]}""");
            Assert.Equal(HttpStatusCode.Unauthorized, status);
            Assert.Equal("error", (string?)body["type"]);
        }

        using var bearer = Raw();
        bearer.DefaultRequestHeaders.Authorization = new AuthenticationHeaderValue("Bearer", enclave.AdminKey);
        var (missing, notFound) = await PostAsync(bearer, """{"model":"no-such-model","max_tokens":16,"messages":[{"role":"user","content":"hi"}]}""");
        Assert.Equal(HttpStatusCode.NotFound, missing);
        Assert.Equal("not_found_error", (string?)notFound["error"]!["type"]);
        Assert.Contains("no-such-model", (string?)notFound["error"]!["message"], StringComparison.Ordinal);

        var (ok, answer) = await PostAsync(bearer, """{"model":"echo-chat","max_tokens":16,"messages":[{"role":"user","content":"hi"}]}""");
        Assert.Equal(HttpStatusCode.OK, ok);
        Assert.Equal("echo: hi", (string?)answer["content"]![0]!["text"]);
    }

    [Fact]
    public async Task Policy_applies_as_on_chat_completions_a_secret_request_is_denied_and_recorded()
    {
        using var http = Raw();
        http.DefaultRequestHeaders.Add("x-api-key", enclave.AdminKey);
        http.DefaultRequestHeaders.Add("Enclave-Classification", "SECRET");
        var before = enclave.Entries().Count;
        var (status, body) = await PostAsync(http, """{"model":"echo-chat","max_tokens":16,"messages":[{"role":"user","content":"hi"}]}""");

        Assert.True(status is HttpStatusCode.Forbidden or HttpStatusCode.BadRequest, $"got {status}");
        Assert.Equal("error", (string?)body["type"]);
        Assert.Equal(status == HttpStatusCode.Forbidden ? "permission_error" : "invalid_request_error", (string?)body["error"]!["type"]);
        var denied = Assert.Single(enclave.Entries().Skip(before), e => e.Event.Type == "request.denied");
        Assert.Equal("/v1/messages", denied.Event.Details!.Value.GetProperty("endpoint").GetString());
        Assert.DoesNotContain(enclave.Entries().Skip(before), e => e.Event.Type == "request.admitted");
    }

    [Fact]
    public async Task The_x_api_key_header_is_not_accepted_on_the_openai_routes()
    {
        using var http = Raw();
        http.DefaultRequestHeaders.Add("x-api-key", enclave.AdminKey);
        using var response = await http.PostAsync("/v1/chat/completions", new StringContent("""{"model":"echo-chat","messages":[{"role":"user","content":"hi"}]}""", Encoding.UTF8, "application/json"));
        Assert.Equal(HttpStatusCode.Unauthorized, response.StatusCode);
    }

    private HttpClient Raw() => new() { BaseAddress = new Uri(enclave.BaseUrl) };

    private static async Task<(HttpStatusCode Status, JsonNode Body)> PostAsync(HttpClient http, string json)
    {
        using var response = await http.PostAsync("/v1/messages", new StringContent(json, Encoding.UTF8, "application/json"));
        return (response.StatusCode, JsonNode.Parse(await response.Content.ReadAsStringAsync())!);
    }
}
