using System.ClientModel;
using System.ClientModel.Primitives;
using System.Globalization;
using System.Net;
using System.Text;
using System.Text.Json;
using System.Text.Json.Nodes;
using Enclave.Core.Audit;
using Enclave.Inference.Tests.Upstream;
using OpenAI;
using OpenAI.Chat;

namespace Enclave.EndToEnd.Tests.Vendors;

/// <summary>The official OpenAI .NET client in front of the enclave, a cloud vendor (Anthropic) behind it.</summary>
public sealed class VendorTests(VendorEnclave enclave) : IClassFixture<VendorEnclave>
{
    private static readonly string PrivateKeyBody = Convert.ToBase64String(Enumerable.Range(0, 120).Select(i => (byte)(i * 41)).ToArray());

    private ChatClient Chat(string key) => new OpenAIClient(
        new ApiKeyCredential(key),
        new OpenAIClientOptions { Endpoint = new Uri(enclave.BaseUrl + "/v1"), RetryPolicy = new ClientRetryPolicy(maxRetries: 0) })
        .GetChatClient(VendorEnclave.Model);

    [Fact]
    public async Task OpenAiClient_IsAnsweredByAnthropic_AndTheLedgerNamesTheVendorRegionAndModelVersion()
    {
        var result = await Chat(enclave.SecretKey).CompleteChatAsync([new SystemChatMessage("Be brief."), new UserChatMessage("Name a colour")]);

        var completion = result.Value;
        Assert.Equal("Claude heard: Name a colour", completion.Content[0].Text);
        Assert.Equal(ChatFinishReason.Stop, completion.FinishReason);
        Assert.Equal(12, completion.Usage.InputTokenCount);
        Assert.Equal(6, completion.Usage.OutputTokenCount);
        var sent = enclave.Anthropic.Received.Last().Body;
        Assert.Equal("Be brief.", (string?)sent["system"]);
        var completed = CompletedFor(result.GetRawResponse());
        Assert.Equal("anthropic", completed.GetProperty("backend").GetString());
        Assert.Equal("anthropic", completed.GetProperty("vendor").GetString());
        Assert.Equal("us-east-1", completed.GetProperty("region").GetString());
        Assert.Equal(AnthropicStub.ModelVersion, completed.GetProperty("modelVersion").GetString());
        Assert.Equal(12, completed.GetProperty("promptTokens").GetInt32());
    }

    [Fact]
    public async Task OpenAiClient_StreamsFromAnthropic_ToolCallsIncluded()
    {
        var options = new ChatCompletionOptions();
        options.Tools.Add(ChatTool.CreateFunctionTool("get_weather", "weather for a city", BinaryData.FromString("""{"type":"object","properties":{"city":{"type":"string"}}}""")));
        var text = new StringBuilder();
        var arguments = new StringBuilder();
        string? toolName = null;
        ChatFinishReason? finish = null;

        await foreach (var update in Chat(enclave.SecretKey).CompleteChatStreamingAsync([new UserChatMessage("weather in Paris?")], options))
        {
            foreach (var part in update.ContentUpdate)
            {
                text.Append(part.Text);
            }

            foreach (var call in update.ToolCallUpdates)
            {
                toolName ??= call.FunctionName;
                arguments.Append(call.FunctionArgumentsUpdate?.ToString());
            }

            finish ??= update.FinishReason;
        }

        Assert.Equal("Checking.", text.ToString());
        Assert.Equal("get_weather", toolName);
        Assert.Equal("{\"city\": \"Paris\"}", arguments.ToString());
        Assert.Equal(ChatFinishReason.ToolCalls, finish);
        Assert.True((bool)enclave.Anthropic.Received.Last().Body["stream"]!);
    }

    [Fact]
    public async Task VendorRefusal_ReachesTheClientAsA400NamingTheParameter()
    {
        var options = new ChatCompletionOptions { IncludeLogProbabilities = true };
        var before = enclave.Anthropic.Requests;

        var error = await Assert.ThrowsAsync<ClientResultException>(() => Chat(enclave.SecretKey).CompleteChatAsync([new UserChatMessage("x")], options));

        Assert.Equal(400, error.Status);
        Assert.Contains("'logprobs'", error.Message, StringComparison.Ordinal);
        Assert.Equal(before, enclave.Anthropic.Requests);
    }

    [Fact]
    public async Task SecretRequest_NeverReachesTheVendor_AndTheDenialIsRecorded()
    {
        var before = enclave.Anthropic.Requests;
        using var http = enclave.Client(enclave.SecretKey);
        var body = new JsonObject { ["model"] = VendorEnclave.Model, ["messages"] = new JsonArray(new JsonObject { ["role"] = "user", ["content"] = "where are the ships" }) };
        using var request = new HttpRequestMessage(HttpMethod.Post, "/v1/chat/completions") { Content = new StringContent(body.ToJsonString(), Encoding.UTF8, "application/json") };
        request.Headers.Add("Enclave-Classification", "SECRET");

        using var response = await http.SendAsync(request);

        Assert.Equal(HttpStatusCode.Forbidden, response.StatusCode);
        Assert.Equal(before, enclave.Anthropic.Requests);
        var denied = EntryAt(response);
        Assert.Equal("request.denied", denied.Type);
        var policy = denied.Details!.Value.GetProperty("policy");
        Assert.Equal("policy.no-backend", policy.GetProperty("rule").GetString());
        Assert.Empty(policy.GetProperty("backends").EnumerateArray());
        Assert.Contains(
            policy.GetProperty("reasons").EnumerateArray(),
            r => r.TryGetProperty("backend", out var b) && b.GetString() == "anthropic" && r.GetProperty("rule").GetString() == "policy.backend-accreditation");
    }

    [Fact]
    public async Task UnclassifiedRequestWithAPrivateKey_ReachesTheVendorRedacted()
    {
        var pem = $"-----BEGIN PRIVATE KEY-----\n{PrivateKeyBody}\n-----END PRIVATE KEY-----";

        var result = await Chat(enclave.SecretKey).CompleteChatAsync([new UserChatMessage("check this key:\n" + pem)]);

        var sent = enclave.Anthropic.Received.Last().Body.ToJsonString();
        Assert.DoesNotContain("PRIVATE KEY", sent, StringComparison.Ordinal);
        Assert.DoesNotContain(PrivateKeyBody[..40], sent, StringComparison.Ordinal);
        Assert.Contains("[REDACTED:secret.private-key]", result.Value.Content[0].Text, StringComparison.Ordinal);
        Assert.Equal("anthropic", CompletedFor(result.GetRawResponse()).GetProperty("vendor").GetString());
    }

    private AuditEvent EntryAt(HttpResponseMessage response)
    {
        var index = int.Parse(response.Headers.GetValues("Enclave-Ledger-Index").Single(), CultureInfo.InvariantCulture);
        return enclave.Entries()[index];
    }

    private JsonElement CompletedFor(PipelineResponse response)
    {
        Assert.True(response.Headers.TryGetValue("Enclave-Ledger-Index", out var text));
        var admitted = long.Parse(text!, CultureInfo.InvariantCulture);
        var completed = enclave.Entries().Single(e => e.Type == "request.completed" && e.Details!.Value.GetProperty("admittedIndex").GetInt64() == admitted);
        return completed.Details!.Value;
    }
}
