using System.Text.Json.Nodes;
using Enclave.Inference.Backends;
using Enclave.Inference.Upstream;
using static Enclave.Inference.Tests.Upstream.UpstreamTestKit;

namespace Enclave.Inference.Tests.Upstream;

/// <summary>The <c>bedrock</c> kind against a loopback server that speaks Converse and verifies SigV4.</summary>
public sealed class BedrockBackendTests
{
    private const string Key = BedrockStub.AccessKeyId + ":" + BedrockStub.SecretAccessKey;

    [Fact]
    public async Task Converse_IsSignedAndAccepted_AndTranslatesSystemImagesToolsAndTheToolUseBack()
    {
        await using var stub = await BedrockStub.StartAsync();
        using var backend = new OpenAiUpstreamBackend(Options(stub), Key);
        var request = new JsonObject
        {
            ["model"] = BedrockStub.Model,
            ["messages"] = new JsonArray(
                new JsonObject { ["role"] = "system", ["content"] = "You are terse." },
                new JsonObject
                {
                    ["role"] = "user",
                    ["content"] = new JsonArray(
                        new JsonObject { ["type"] = "text", ["text"] = "Weather here?" },
                        new JsonObject { ["type"] = "image_url", ["image_url"] = new JsonObject { ["url"] = "data:image/webp;base64,UklGRg==" } }),
                }),
            ["max_tokens"] = 128,
            ["temperature"] = 0.5,
            ["stop"] = "END",
            ["tools"] = new JsonArray(new JsonObject
            {
                ["type"] = "function",
                ["function"] = new JsonObject { ["name"] = "get_weather", ["parameters"] = new JsonObject { ["type"] = "object" } },
            }),
            ["tool_choice"] = "required",
        };

        var response = await backend.ChatAsync(request, CancellationToken.None);

        Assert.Equal(0, stub.SignatureFailures);
        var (target, sent, authorization) = Assert.Single(stub.Received);
        Assert.Equal("/model/anthropic.claude-3-haiku-20240307-v1%3A0/converse", target);
        Assert.StartsWith($"AWS4-HMAC-SHA256 Credential={BedrockStub.AccessKeyId}/", authorization, StringComparison.Ordinal);
        Assert.DoesNotContain(BedrockStub.SecretAccessKey, authorization, StringComparison.Ordinal);
        Assert.Equal("You are terse.", (string?)sent["system"]![0]!["text"]);
        var image = sent["messages"]![0]!["content"]![1]!["image"]!;
        Assert.Equal("webp", (string?)image["format"]);
        Assert.Equal("UklGRg==", (string?)image["source"]!["bytes"]);
        Assert.Equal(128, (int)sent["inferenceConfig"]!["maxTokens"]!);
        Assert.Equal("END", (string?)sent["inferenceConfig"]!["stopSequences"]![0]);
        Assert.Equal("get_weather", (string?)sent["toolConfig"]!["tools"]![0]!["toolSpec"]!["name"]);
        Assert.NotNull(sent["toolConfig"]!["toolChoice"]!["any"]);

        var choice = response.Body["choices"]![0]!;
        Assert.Equal("tool_calls", (string?)choice["finish_reason"]);
        Assert.Equal("tooluse_1", (string?)choice["message"]!["tool_calls"]![0]!["id"]);
        Assert.Equal(BedrockStub.Model, (string?)response.Body["model"]);
        Assert.Equal(new TokenUsage(21, 8), response.Usage);
    }

    [Fact]
    public async Task Converse_ToolResultsGoBackAsToolResultBlocks()
    {
        await using var stub = await BedrockStub.StartAsync();
        using var backend = new OpenAiUpstreamBackend(Options(stub), Key);
        var request = new JsonObject
        {
            ["model"] = BedrockStub.Model,
            ["messages"] = new JsonArray(
                new JsonObject { ["role"] = "user", ["content"] = "Weather in Paris?" },
                new JsonObject
                {
                    ["role"] = "assistant",
                    ["tool_calls"] = new JsonArray(new JsonObject { ["id"] = "tooluse_1", ["type"] = "function", ["function"] = new JsonObject { ["name"] = "get_weather", ["arguments"] = "{\"city\":\"Paris\"}" } }),
                },
                new JsonObject { ["role"] = "tool", ["tool_call_id"] = "tooluse_1", ["content"] = "sunny" }),
        };

        var response = await backend.ChatAsync(request, CancellationToken.None);

        var messages = Assert.Single(stub.Received).Body["messages"]!.AsArray();
        Assert.Equal("Paris", (string?)messages[1]!["content"]![0]!["toolUse"]!["input"]!["city"]);
        Assert.Equal("tooluse_1", (string?)messages[2]!["content"]![0]!["toolResult"]!["toolUseId"]);
        Assert.Equal("sunny", (string?)messages[2]!["content"]![0]!["toolResult"]!["content"]![0]!["text"]);
        Assert.Equal("It is sunny in Paris.", ContentOf(response.Body));
    }

    [Fact]
    public async Task ConverseStream_DecodesTheEventStream_IntoOpenAiChunks_WithToolCallsAndUsage()
    {
        await using var stub = await BedrockStub.StartAsync();
        using var backend = new OpenAiUpstreamBackend(Options(stub), Key);
        var request = StreamingChatRequest(BedrockStub.Model);
        request["tools"] = new JsonArray(new JsonObject { ["type"] = "function", ["function"] = new JsonObject { ["name"] = "get_weather" } });

        var chunks = await ToListAsync(backend.ChatStreamAsync(request, CancellationToken.None));

        Assert.Equal(0, stub.SignatureFailures);
        Assert.EndsWith("/converse-stream", Assert.Single(stub.Received).RawTarget, StringComparison.Ordinal);
        Assert.Equal("assistant", (string?)chunks[0]["choices"]![0]!["delta"]!["role"]);
        var text = string.Concat(chunks.Where(c => c["choices"]!.AsArray().Count > 0).Select(c => (string?)c["choices"]![0]!["delta"]!["content"]));
        Assert.Equal("Bedrock heard: Say hello", text);
        var calls = chunks.Where(c => c["choices"]!.AsArray().Count > 0).Select(c => c["choices"]![0]!["delta"]!["tool_calls"]).OfType<JsonArray>().Select(a => a[0]!).ToList();
        Assert.Equal("tooluse_2", (string?)calls[0]["id"]);
        Assert.Equal("{\"city\":\"Paris\"}", string.Concat(calls.Select(c => (string?)c["function"]!["arguments"])));
        Assert.Equal("tool_calls", (string?)chunks[^2]["choices"]![0]!["finish_reason"]);
        Assert.Equal(new TokenUsage(21, 8), UpstreamUsage.Read(chunks[^1]));
    }

    [Fact]
    public async Task WrongSecret_IsRefusedByTheSignatureCheck_As502AuthenticationError()
    {
        await using var stub = await BedrockStub.StartAsync();
        using var backend = new OpenAiUpstreamBackend(Options(stub), BedrockStub.AccessKeyId + ":not-the-secret");

        var error = await Assert.ThrowsAsync<BackendException>(() => backend.ChatAsync(ChatRequest(BedrockStub.Model), CancellationToken.None));

        Assert.Equal(1, stub.SignatureFailures);
        Assert.Equal(502, error.StatusCode);
        Assert.Equal("upstream_authentication_error", error.ErrorType);
        Assert.Contains("signature we calculated does not match", error.Message, StringComparison.Ordinal);
    }

    [Fact]
    public async Task KeyNotInAwsShape_Is502NamingTheExpectedShape_AndNothingIsSent()
    {
        await using var stub = await BedrockStub.StartAsync();
        using var backend = new OpenAiUpstreamBackend(Options(stub), "just-a-token");

        var error = await Assert.ThrowsAsync<BackendException>(() => backend.ChatAsync(ChatRequest(BedrockStub.Model), CancellationToken.None));

        Assert.Equal(502, error.StatusCode);
        Assert.Contains("ACCESS_KEY_ID:SECRET_ACCESS_KEY", error.Message, StringComparison.Ordinal);
        Assert.Equal(0, stub.Requests);
    }

    [Fact]
    public async Task Throttling_Is429_AndAnExceptionMidStream_IsStreamInterrupted()
    {
        await using var stub = await BedrockStub.StartAsync();
        using var backend = new OpenAiUpstreamBackend(Options(stub), Key);
        stub.Faults.Enqueue(BedrockFault.Throttled);
        stub.Faults.Enqueue(BedrockFault.StreamException);

        var throttled = await Assert.ThrowsAsync<BackendException>(() => backend.ChatAsync(ChatRequest(BedrockStub.Model), CancellationToken.None));
        var interrupted = await Assert.ThrowsAsync<BackendException>(() => ToListAsync(backend.ChatStreamAsync(ChatRequest(BedrockStub.Model), CancellationToken.None)));

        Assert.Equal(429, throttled.StatusCode);
        Assert.True(throttled.Retryable);
        Assert.Contains("Too many requests", throttled.Message, StringComparison.Ordinal);
        Assert.Equal("stream_interrupted", interrupted.ErrorType);
        Assert.Equal(429, interrupted.StatusCode);
        Assert.Contains("throttlingException", interrupted.Message, StringComparison.Ordinal);
    }

    [Theory]
    [InlineData("tool_choice", "\"none\"")]
    [InlineData("seed", "1")]
    [InlineData("response_format", "{\"type\":\"grammar\"}")]
    public async Task WhatConverseCannotDo_Is400NamingTheParameter(string parameter, string json)
    {
        await using var stub = await BedrockStub.StartAsync();
        using var backend = new OpenAiUpstreamBackend(Options(stub), Key);
        var request = ChatRequest(BedrockStub.Model);
        request[parameter] = JsonNode.Parse(json);

        var error = await Assert.ThrowsAsync<BackendException>(() => backend.ChatAsync(request, CancellationToken.None));

        Assert.Equal(400, error.StatusCode);
        Assert.Contains($"'{parameter}'", error.Message, StringComparison.Ordinal);
        Assert.Equal(0, stub.Requests);
    }

    private static UpstreamBackendOptions Options(BedrockStub stub) => new()
    {
        Name = "bedrock",
        Kind = "bedrock",
        BaseUrl = stub.BaseUrl,
        ApiKeyReference = "AWS_BEDROCK_CREDENTIALS",
        Region = BedrockStub.Region,
        Models = [BedrockStub.Model],
        Labels = new UpstreamLabels { Classification = "UNCLASSIFIED", Jurisdiction = "FR" },
        Timeout = TimeSpan.FromSeconds(30),
    };
}
