using System.Text.Json.Nodes;
using Enclave.Inference.Backends;
using Enclave.Inference.Upstream;
using static Enclave.Inference.Tests.Upstream.UpstreamTestKit;

namespace Enclave.Inference.Tests.Upstream;

/// <summary>Cloud vendor kinds against loopback servers that speak each vendor's documented wire protocol.</summary>
public sealed class VendorBackendTests
{
    private const string Claude = "claude-sonnet-4-5";

    [Fact]
    public async Task Anthropic_Chat_WithTheClientsBytes_StillSendsTheTranslation()
    {
        await using var stub = await AnthropicStub.StartAsync();
        using var backend = new OpenAiUpstreamBackend(AnthropicOptions(stub), AnthropicStub.Key);
        var bytes = System.Text.Encoding.UTF8.GetBytes($$"""{"model":"{{Claude}}","messages":[{"role":"system","content":"You are terse."},{"role":"user","content":"Hi"}],"max_tokens":300}""");

        await backend.ChatAsync(InferenceRequest.FromClient((JsonObject)JsonNode.Parse(bytes)!, bytes), CancellationToken.None);

        var (sent, _, _) = Assert.Single(stub.Received);
        Assert.Equal("You are terse.", (string?)sent["system"]);
        Assert.Equal(300, (int)sent["max_tokens"]!);
        Assert.Equal("user", (string?)Assert.Single(sent["messages"]!.AsArray())!["role"]);
    }

    [Fact]
    public async Task Anthropic_Chat_TranslatesSystemImagesStopAndTools_AndTheToolUseAnswerBack()
    {
        await using var stub = await AnthropicStub.StartAsync();
        using var backend = new OpenAiUpstreamBackend(AnthropicOptions(stub), AnthropicStub.Key);
        var request = new JsonObject
        {
            ["model"] = Claude,
            ["messages"] = new JsonArray(
                new JsonObject { ["role"] = "system", ["content"] = "You are terse." },
                new JsonObject
                {
                    ["role"] = "user",
                    ["content"] = new JsonArray(
                        new JsonObject { ["type"] = "text", ["text"] = "Weather where this was taken?" },
                        new JsonObject { ["type"] = "image_url", ["image_url"] = new JsonObject { ["url"] = "data:image/png;base64,iVBORw0KGgo=" } }),
                }),
            ["max_completion_tokens"] = 300,
            ["temperature"] = 0.2,
            ["stop"] = "END",
            ["tools"] = new JsonArray(WeatherTool()),
            ["tool_choice"] = "required",
        };

        var response = await backend.ChatAsync(request, CancellationToken.None);

        var (sent, key, version) = Assert.Single(stub.Received);
        Assert.Equal(AnthropicStub.Key, key);
        Assert.Equal("2023-06-01", version);
        Assert.Equal("You are terse.", (string?)sent["system"]);
        Assert.Equal(300, (int)sent["max_tokens"]!);
        Assert.Equal(0.2, (double)sent["temperature"]!);
        Assert.Equal("END", (string?)sent["stop_sequences"]![0]);
        Assert.Equal("any", (string?)sent["tool_choice"]!["type"]);
        Assert.Equal("get_weather", (string?)sent["tools"]![0]!["name"]);
        Assert.Equal("object", (string?)sent["tools"]![0]!["input_schema"]!["type"]);
        var message = Assert.Single(sent["messages"]!.AsArray())!;
        Assert.Equal("user", (string?)message["role"]);
        var image = message["content"]![1]!;
        Assert.Equal("image", (string?)image["type"]);
        Assert.Equal("image/png", (string?)image["source"]!["media_type"]);
        Assert.Equal("iVBORw0KGgo=", (string?)image["source"]!["data"]);

        var body = response.Body;
        Assert.Equal("chat.completion", (string?)body["object"]);
        Assert.Equal(AnthropicStub.ModelVersion, (string?)body["model"]);
        var choice = body["choices"]![0]!;
        Assert.Equal("tool_calls", (string?)choice["finish_reason"]);
        Assert.Equal("Let me look that up.", (string?)choice["message"]!["content"]);
        var call = choice["message"]!["tool_calls"]![0]!;
        Assert.Equal("toolu_01A", (string?)call["id"]);
        Assert.Equal("function", (string?)call["type"]);
        Assert.Equal("get_weather", (string?)call["function"]!["name"]);
        Assert.True(JsonNode.DeepEquals(new JsonObject { ["city"] = "Paris" }, JsonNode.Parse((string)call["function"]!["arguments"]!)));
        Assert.Equal(new TokenUsage(12, 6), response.Usage);
    }

    [Fact]
    public async Task Anthropic_Chat_ToolResultsGoBackAsToolResultBlocks_AndTheAnswerEndsWithStop()
    {
        await using var stub = await AnthropicStub.StartAsync();
        using var backend = new OpenAiUpstreamBackend(AnthropicOptions(stub), AnthropicStub.Key);
        var request = new JsonObject
        {
            ["model"] = Claude,
            ["messages"] = new JsonArray(
                new JsonObject { ["role"] = "user", ["content"] = "Weather in Paris?" },
                new JsonObject
                {
                    ["role"] = "assistant",
                    ["content"] = null,
                    ["tool_calls"] = new JsonArray(new JsonObject
                    {
                        ["id"] = "toolu_01A", ["type"] = "function",
                        ["function"] = new JsonObject { ["name"] = "get_weather", ["arguments"] = "{\"city\":\"Paris\"}" },
                    }),
                },
                new JsonObject { ["role"] = "tool", ["tool_call_id"] = "toolu_01A", ["content"] = "sunny, 21 C" }),
            ["tools"] = new JsonArray(WeatherTool()),
        };

        var response = await backend.ChatAsync(request, CancellationToken.None);

        var sent = Assert.Single(stub.Received).Body;
        Assert.Equal(4096, (int)sent["max_tokens"]!); // DefaultMaxTokens: Anthropic requires max_tokens
        var messages = sent["messages"]!.AsArray();
        Assert.Equal(3, messages.Count);
        var toolUse = messages[1]!["content"]![0]!;
        Assert.Equal("tool_use", (string?)toolUse["type"]);
        Assert.Equal("Paris", (string?)toolUse["input"]!["city"]);
        var toolResult = messages[2]!["content"]![0]!;
        Assert.Equal("user", (string?)messages[2]!["role"]);
        Assert.Equal("tool_result", (string?)toolResult["type"]);
        Assert.Equal("toolu_01A", (string?)toolResult["tool_use_id"]);
        Assert.Equal("sunny, 21 C", (string?)toolResult["content"]);
        Assert.Equal("It is sunny in Paris.", ContentOf(response.Body));
        Assert.Equal("stop", (string?)response.Body["choices"]![0]!["finish_reason"]);
    }

    [Fact]
    public async Task Anthropic_Stream_BecomesOpenAiChunks_WithRoleTextFinishReasonAndUsage()
    {
        await using var stub = await AnthropicStub.StartAsync();
        using var backend = new OpenAiUpstreamBackend(AnthropicOptions(stub), AnthropicStub.Key);
        var request = StreamingChatRequest(Claude);

        var chunks = await ToListAsync(backend.ChatStreamAsync(request, CancellationToken.None));

        Assert.True((bool)Assert.Single(stub.Received).Body["stream"]!);
        Assert.All(chunks, c => Assert.Equal("chat.completion.chunk", (string?)c["object"]));
        Assert.All(chunks, c => Assert.Equal(AnthropicStub.ModelVersion, (string?)c["model"]));
        Assert.Equal("assistant", (string?)chunks[0]["choices"]![0]!["delta"]!["role"]);
        var text = string.Concat(chunks.Where(c => c["choices"]!.AsArray().Count > 0).Select(c => (string?)c["choices"]![0]!["delta"]!["content"]));
        Assert.Equal("Claude heard: Say hello", text);
        Assert.Equal("stop", (string?)chunks[^2]["choices"]![0]!["finish_reason"]);
        Assert.Empty(chunks[^1]["choices"]!.AsArray());
        Assert.Equal(new TokenUsage(25, 15), UpstreamUsage.Read(chunks[^1]));
    }

    [Fact]
    public async Task Anthropic_Stream_ToolUseBecomesToolCallDeltas_WithoutUsageUnlessAsked()
    {
        await using var stub = await AnthropicStub.StartAsync();
        using var backend = new OpenAiUpstreamBackend(AnthropicOptions(stub), AnthropicStub.Key);
        var request = ChatRequest(Claude);
        request["tools"] = new JsonArray(WeatherTool());

        var chunks = await ToListAsync(backend.ChatStreamAsync(request, CancellationToken.None));

        var calls = chunks.Select(c => c["choices"]![0]!["delta"]!["tool_calls"]).OfType<JsonArray>().Select(a => a[0]!).ToList();
        Assert.Equal("toolu_01B", (string?)calls[0]["id"]);
        Assert.Equal("get_weather", (string?)calls[0]["function"]!["name"]);
        Assert.All(calls, c => Assert.Equal(0, (int)c["index"]!));
        Assert.Equal("{\"city\": \"Paris\"}", string.Concat(calls.Select(c => (string?)c["function"]!["arguments"])));
        Assert.Equal("tool_calls", (string?)chunks[^1]["choices"]![0]!["finish_reason"]);
        Assert.All(chunks, c => Assert.Null(c["usage"]));
    }

    [Theory]
    [InlineData("logprobs", "true")]
    [InlineData("n", "2")]
    [InlineData("response_format", "{\"type\":\"grammar\"}")]
    [InlineData("temperature", "1.5")]
    [InlineData("seed", "42")]
    [InlineData("frequency_penalty", "0.5")]
    public async Task Anthropic_WhatTheVendorCannotDo_Is400NamingTheParameter_AndNothingIsSent(string parameter, string json)
    {
        await using var stub = await AnthropicStub.StartAsync();
        using var backend = new OpenAiUpstreamBackend(AnthropicOptions(stub), AnthropicStub.Key);
        var request = ChatRequest(Claude);
        request[parameter] = JsonNode.Parse(json);

        var error = await Assert.ThrowsAsync<BackendException>(() => backend.ChatAsync(request, CancellationToken.None));

        Assert.Equal(400, error.StatusCode);
        Assert.Equal("invalid_request_error", error.ErrorType);
        Assert.Contains($"'{parameter}'", error.Message, StringComparison.Ordinal);
        Assert.Equal(0, stub.Requests);
    }

    [Fact]
    public async Task Anthropic_AudioPartsAndCompletions_AreRefusedWith400()
    {
        await using var stub = await AnthropicStub.StartAsync();
        using var backend = new OpenAiUpstreamBackend(AnthropicOptions(stub), AnthropicStub.Key);
        var request = ChatRequest(Claude);
        request["messages"]![0]!["content"] = new JsonArray(new JsonObject { ["type"] = "input_audio", ["input_audio"] = new JsonObject { ["data"] = "AAAA", ["format"] = "wav" } });

        var audio = await Assert.ThrowsAsync<BackendException>(() => backend.ChatAsync(request, CancellationToken.None));
        var completion = await Assert.ThrowsAsync<BackendException>(() => backend.CompletionAsync(CompletionRequest(Claude), CancellationToken.None));

        Assert.Equal(400, audio.StatusCode);
        Assert.Contains("messages[0].content[0].type", audio.Message, StringComparison.Ordinal);
        Assert.Equal(400, completion.StatusCode);
        Assert.Contains("chat completions only", completion.Message, StringComparison.Ordinal);
        Assert.Equal(0, stub.Requests);
    }

    [Fact]
    public async Task Anthropic_RateLimitAndOverload_Become429WithRetryAfterAnd503()
    {
        await using var stub = await AnthropicStub.StartAsync();
        using var backend = new OpenAiUpstreamBackend(AnthropicOptions(stub), AnthropicStub.Key);
        stub.Faults.Enqueue(AnthropicFault.RateLimited);
        stub.Faults.Enqueue(AnthropicFault.Overloaded);

        var limited = await Assert.ThrowsAsync<BackendException>(() => backend.ChatAsync(ChatRequest(Claude), CancellationToken.None));
        var overloaded = await Assert.ThrowsAsync<BackendException>(() => backend.ChatAsync(ChatRequest(Claude), CancellationToken.None));

        Assert.Equal(429, limited.StatusCode);
        Assert.Equal("rate_limit_exceeded", limited.ErrorType);
        Assert.Equal(TimeSpan.FromSeconds(7), limited.RetryAfter);
        Assert.Contains("per-minute rate limit", limited.Message, StringComparison.Ordinal);
        Assert.Equal(503, overloaded.StatusCode);
        Assert.Equal("overloaded", overloaded.ErrorType);
        Assert.True(overloaded.Retryable);
    }

    [Fact]
    public async Task Anthropic_ErrorEventMidStream_IsStreamInterrupted_AfterTheChunksPassedOn()
    {
        await using var stub = await AnthropicStub.StartAsync();
        using var backend = new OpenAiUpstreamBackend(AnthropicOptions(stub), AnthropicStub.Key);
        stub.Faults.Enqueue(AnthropicFault.StreamErrorEvent);
        var received = new List<JsonObject>();

        var error = await Assert.ThrowsAsync<BackendException>(async () =>
        {
            await foreach (var chunk in backend.ChatStreamAsync(ChatRequest(Claude), CancellationToken.None))
            {
                received.Add(chunk);
            }
        });

        Assert.Equal(2, received.Count); // the role chunk and one text delta
        Assert.Equal("stream_interrupted", error.ErrorType);
        Assert.Equal(503, error.StatusCode);
        Assert.Contains("after 2 chunk(s)", error.Message, StringComparison.Ordinal);
    }

    [Fact]
    public async Task Anthropic_WrongKey_Is502NamingTheKeyReference_NotTheClientsFault()
    {
        await using var stub = await AnthropicStub.StartAsync();
        using var backend = new OpenAiUpstreamBackend(AnthropicOptions(stub), "sk-ant-wrong");

        var error = await Assert.ThrowsAsync<BackendException>(() => backend.ChatAsync(ChatRequest(Claude), CancellationToken.None));

        Assert.Equal(502, error.StatusCode);
        Assert.Equal("upstream_authentication_error", error.ErrorType);
        Assert.DoesNotContain("sk-ant-wrong", error.Message, StringComparison.Ordinal);
    }

    [Fact]
    public async Task Anthropic_KeyFile_IsReReadWhenItChanges_WithoutARestart()
    {
        await using var stub = await AnthropicStub.StartAsync();
        var path = Path.Combine(Path.GetTempPath(), $"enclave-anthropic-key-{Guid.NewGuid():N}");
        try
        {
            await File.WriteAllTextAsync(path, "sk-ant-old-key\n");
            var options = AnthropicOptions(stub) with { ApiKeyReference = "file:" + path };
            using var backend = OpenAiUpstreamBackend.Create(options);
            stub.RequiredKey = "sk-ant-old-key";
            await backend.ChatAsync(ChatRequest(Claude), CancellationToken.None);

            stub.RequiredKey = "sk-ant-rotated-key";
            await File.WriteAllTextAsync(path, "sk-ant-rotated-key-and-longer\n");
            stub.RequiredKey = "sk-ant-rotated-key-and-longer";
            await backend.ChatAsync(ChatRequest(Claude), CancellationToken.None);

            Assert.Equal(["sk-ant-old-key", "sk-ant-rotated-key-and-longer"], stub.Received.Select(r => r.ApiKey));
            Assert.True(await backend.CheckHealthAsync(CancellationToken.None));
        }
        finally
        {
            File.Delete(path);
        }
    }

    [Fact]
    public async Task Azure_Chat_GoesToTheDeploymentUrlWithApiVersionAndApiKey_AndTheBodyBothWaysUnchanged()
    {
        await using var stub = await AzureOpenAiStub.StartAsync();
        using var backend = new OpenAiUpstreamBackend(AzureOptions(stub), AzureOpenAiStub.Key);
        var request = ChatRequest(AzureOpenAiStub.Deployment);
        request["logprobs"] = true;

        var response = await backend.ChatAsync(request, CancellationToken.None);

        var received = Assert.Single(stub.Received);
        Assert.Equal($"/openai/deployments/{AzureOpenAiStub.Deployment}/chat/completions", received.Path);
        Assert.Equal("?api-version=2024-10-21", received.Query);
        Assert.Equal(AzureOpenAiStub.Key, received.ApiKey);
        Assert.True(string.IsNullOrEmpty(received.Authorization), "Azure keys go in api-key, not Authorization");
        Assert.True(JsonNode.DeepEquals(request, received.Body));
        Assert.Equal("Azure heard: Say hello", ContentOf(response.Body));
        Assert.Equal(AzureOpenAiStub.ModelVersion, (string?)response.Body["model"]);
        Assert.NotNull(response.Body["prompt_filter_results"]);
        Assert.Equal(new TokenUsage(9, 4), response.Usage);
        Assert.True(await backend.CheckHealthAsync(CancellationToken.None));
    }

    [Fact]
    public async Task Azure_Stream_PassesThePromptFilterChunkAndDeltasThrough_AndEndsAtDone()
    {
        await using var stub = await AzureOpenAiStub.StartAsync();
        using var backend = new OpenAiUpstreamBackend(AzureOptions(stub), AzureOpenAiStub.Key);

        var chunks = await ToListAsync(backend.ChatStreamAsync(StreamingChatRequest(AzureOpenAiStub.Deployment), CancellationToken.None));

        Assert.Empty(chunks[0]["choices"]!.AsArray());
        Assert.NotNull(chunks[0]["prompt_filter_results"]);
        Assert.Equal("Azure heard: Say hello", string.Concat(chunks.Where(c => c["choices"]!.AsArray().Count > 0).Select(c => (string?)c["choices"]![0]!["delta"]!["content"])));
        Assert.Equal(new TokenUsage(9, 4), UpstreamUsage.Read(chunks[^1]));
    }

    [Fact]
    public async Task Azure_RateLimit_Is429WithRetryAfter()
    {
        await using var stub = await AzureOpenAiStub.StartAsync();
        using var backend = new OpenAiUpstreamBackend(AzureOptions(stub), AzureOpenAiStub.Key);
        stub.RateLimits.Enqueue(3);

        var error = await Assert.ThrowsAsync<BackendException>(() => backend.ChatAsync(ChatRequest(AzureOpenAiStub.Deployment), CancellationToken.None));

        Assert.Equal(429, error.StatusCode);
        Assert.Equal(TimeSpan.FromSeconds(3), error.RetryAfter);
        Assert.Contains("exceeded call rate limit", error.Message, StringComparison.Ordinal);
    }

    [Fact]
    public async Task Router_FailsOverFromAnOverloadedAnthropicBackend_ToAzure_ServingTheSameModelName()
    {
        await using var anthropic = await AnthropicStub.StartAsync();
        await using var azure = await AzureOpenAiStub.StartAsync();
        anthropic.Faults.Enqueue(AnthropicFault.Overloaded);
        anthropic.Faults.Enqueue(AnthropicFault.Overloaded);
        anthropic.Faults.Enqueue(AnthropicFault.Overloaded);
        var options = RouterOptions(
            AnthropicOptions(anthropic) with { Models = [AzureOpenAiStub.Deployment], MaxRetries = 0 },
            AzureOptions(azure));
        using var router = new UpstreamRouter(options, getEnvironmentVariable: name => name switch
        {
            "ANTHROPIC_KEY" => AnthropicStub.Key,
            "AZURE_KEY" => AzureOpenAiStub.Key,
            _ => null,
        });
        var histories = new List<string>();
        for (var i = 0; i < 3; i++)
        {
            var call = new UpstreamCall(_ => true);
            var response = await router.ChatAsync(ChatRequest(AzureOpenAiStub.Deployment), call, CancellationToken.None);
            Assert.Equal("azure", call.Backend);
            Assert.Equal("Azure heard: Say hello", ContentOf(response.Body));
            histories.Add(string.Join(" ", call.Attempts.Select(a => $"{a.Backend}:{a.StatusCode}")));
        }

        // Ties rotate, so one of the requests tries Anthropic first: its 529 is a retryable 503 and Azure answers.
        Assert.Contains("anthropic:503 azure:200", histories);
        Assert.True(anthropic.Received.Count >= 1);
    }

    [Fact]
    public void Options_VendorKinds_AreValidatedOnStart_WithEveryProblemListed()
    {
        var options = new UpstreamOptions
        {
            Backends =
            [
                new UpstreamBackendOptions { Name = "a", Kind = "azure-openai", BaseUrl = "https://x.openai.azure.com", Models = ["bad deployment/name"], Labels = Labels() },
                new UpstreamBackendOptions { Name = "b", Kind = "bedrock", BaseUrl = "https://bedrock-runtime.eu-west-3.amazonaws.com", ApiKeyReference = "AWS_KEY", Models = ["anthropic.claude-3-haiku"], Labels = Labels() },
                new UpstreamBackendOptions { Name = "c", Kind = "cohere", BaseUrl = "https://api.cohere.com/v2", Models = ["command"], Labels = Labels() },
                new UpstreamBackendOptions { Name = "d", Kind = "anthropic", BaseUrl = "https://api.anthropic.com/v1", Models = [Claude], Labels = Labels(), DefaultMaxTokens = 0, Region = "us east" },
            ],
        };

        var problems = string.Join("\n", options.Validate());

        Assert.Contains("Backends[0] ('a'): Kind 'azure-openai' needs ApiKeyReference", problems, StringComparison.Ordinal);
        Assert.Contains("Backends[0] ('a'): Kind 'azure-openai' needs ApiVersion", problems, StringComparison.Ordinal);
        Assert.Contains("'bad deployment/name', which cannot be a azure-openai model name in a URL", problems, StringComparison.Ordinal);
        Assert.Contains("Backends[1] ('b'): Kind 'bedrock' needs Region", problems, StringComparison.Ordinal);
        Assert.Contains("Backends[2] ('c'): Kind must be one of openai, azure-openai, anthropic, gemini, bedrock (was 'cohere')", problems, StringComparison.Ordinal);
        Assert.Contains("Backends[3] ('d'): Kind 'anthropic' needs ApiKeyReference", problems, StringComparison.Ordinal);
        Assert.Contains("Backends[3] ('d'): DefaultMaxTokens must be 1..1000000 (was 0)", problems, StringComparison.Ordinal);
        Assert.Contains("Backends[3] ('d'): Region must be", problems, StringComparison.Ordinal);
    }

    private static UpstreamLabels Labels() => new() { Classification = "UNCLASSIFIED", Jurisdiction = "US", LeavesEnclave = true };

    private static JsonObject WeatherTool() => new()
    {
        ["type"] = "function",
        ["function"] = new JsonObject
        {
            ["name"] = "get_weather",
            ["description"] = "Current weather in a city",
            ["parameters"] = new JsonObject
            {
                ["type"] = "object",
                ["properties"] = new JsonObject { ["city"] = new JsonObject { ["type"] = "string" } },
                ["required"] = new JsonArray("city"),
            },
        },
    };

    private static UpstreamBackendOptions AnthropicOptions(AnthropicStub stub) => new()
    {
        Name = "anthropic",
        Kind = "anthropic",
        BaseUrl = stub.BaseUrl,
        ApiKeyReference = "ANTHROPIC_KEY",
        Region = "us-east-1",
        Models = [Claude],
        Labels = new UpstreamLabels { Classification = "UNCLASSIFIED", Jurisdiction = "US" },
        Timeout = TimeSpan.FromSeconds(30),
    };

    private static UpstreamBackendOptions AzureOptions(AzureOpenAiStub stub) => new()
    {
        Name = "azure",
        Kind = "azure-openai",
        BaseUrl = stub.BaseUrl,
        ApiKeyReference = "AZURE_KEY",
        ApiVersion = "2024-10-21",
        Region = "swedencentral",
        Models = [AzureOpenAiStub.Deployment],
        Labels = new UpstreamLabels { Classification = "UNCLASSIFIED", Jurisdiction = "SE" },
        Timeout = TimeSpan.FromSeconds(30),
    };
}
