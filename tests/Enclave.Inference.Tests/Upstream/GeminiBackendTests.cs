using System.Text.Json.Nodes;
using Enclave.Inference.Backends;
using Enclave.Inference.Upstream;
using static Enclave.Inference.Tests.Upstream.UpstreamTestKit;

namespace Enclave.Inference.Tests.Upstream;

/// <summary>The <c>gemini</c> kind against a loopback server that speaks the documented Gemini API.</summary>
public sealed class GeminiBackendTests
{
    [Fact]
    public async Task Chat_TranslatesSystemImagesToolsAndConfig_AndTheFunctionCallBack()
    {
        await using var stub = await GeminiStub.StartAsync();
        using var backend = new OpenAiUpstreamBackend(Options(stub), GeminiStub.Key);
        var request = new JsonObject
        {
            ["model"] = GeminiStub.Model,
            ["messages"] = new JsonArray(
                new JsonObject { ["role"] = "system", ["content"] = "You are terse." },
                new JsonObject
                {
                    ["role"] = "user",
                    ["content"] = new JsonArray(
                        new JsonObject { ["type"] = "text", ["text"] = "Weather where this was taken?" },
                        new JsonObject { ["type"] = "image_url", ["image_url"] = new JsonObject { ["url"] = "data:image/jpeg;base64,/9j/4AAQ" } }),
                }),
            ["max_tokens"] = 200,
            ["temperature"] = 1.3,
            ["top_p"] = 0.9,
            ["stop"] = new JsonArray("END", "STOP"),
            ["seed"] = 7,
            ["tools"] = new JsonArray(new JsonObject
            {
                ["type"] = "function",
                ["function"] = new JsonObject
                {
                    ["name"] = "get_weather",
                    ["parameters"] = new JsonObject { ["type"] = "object", ["properties"] = new JsonObject { ["city"] = new JsonObject { ["type"] = "string" } } },
                },
            }),
            ["tool_choice"] = new JsonObject { ["type"] = "function", ["function"] = new JsonObject { ["name"] = "get_weather" } },
        };

        var response = await backend.ChatAsync(request, CancellationToken.None);

        var (path, query, sent) = Assert.Single(stub.Received);
        Assert.Equal($"/v1beta/models/{GeminiStub.Model}:generateContent", path);
        Assert.Equal("", query);
        Assert.Equal("You are terse.", (string?)sent["systemInstruction"]!["parts"]![0]!["text"]);
        var parts = Assert.Single(sent["contents"]!.AsArray())!["parts"]!.AsArray();
        Assert.Equal("Weather where this was taken?", (string?)parts[0]!["text"]);
        Assert.Equal("image/jpeg", (string?)parts[1]!["inlineData"]!["mimeType"]);
        Assert.Equal("/9j/4AAQ", (string?)parts[1]!["inlineData"]!["data"]);
        var config = sent["generationConfig"]!;
        Assert.Equal(200, (int)config["maxOutputTokens"]!);
        Assert.Equal(1.3, (double)config["temperature"]!);
        Assert.Equal(0.9, (double)config["topP"]!);
        Assert.Equal(7, (int)config["seed"]!);
        Assert.Equal(["END", "STOP"], config["stopSequences"]!.AsArray().Select(s => (string?)s));
        Assert.Equal("get_weather", (string?)sent["tools"]![0]!["functionDeclarations"]![0]!["name"]);
        Assert.Equal("ANY", (string?)sent["toolConfig"]!["functionCallingConfig"]!["mode"]);
        Assert.Equal("get_weather", (string?)sent["toolConfig"]!["functionCallingConfig"]!["allowedFunctionNames"]![0]);

        var choice = response.Body["choices"]![0]!;
        Assert.Equal(GeminiStub.ModelVersion, (string?)response.Body["model"]);
        Assert.Equal("tool_calls", (string?)choice["finish_reason"]);
        var call = choice["message"]!["tool_calls"]![0]!;
        Assert.Equal("get_weather", (string?)call["function"]!["name"]);
        Assert.Equal("call_0", (string?)call["id"]);
        Assert.True(JsonNode.DeepEquals(new JsonObject { ["city"] = "Paris" }, JsonNode.Parse((string)call["function"]!["arguments"]!)));
        Assert.Equal(new TokenUsage(11, 5), response.Usage);
    }

    [Fact]
    public async Task Chat_ToolResultsGoBackAsFunctionResponsesByName()
    {
        await using var stub = await GeminiStub.StartAsync();
        using var backend = new OpenAiUpstreamBackend(Options(stub), GeminiStub.Key);
        var request = new JsonObject
        {
            ["model"] = GeminiStub.Model,
            ["messages"] = new JsonArray(
                new JsonObject { ["role"] = "user", ["content"] = "Weather in Paris?" },
                new JsonObject
                {
                    ["role"] = "assistant",
                    ["tool_calls"] = new JsonArray(new JsonObject
                    {
                        ["id"] = "call_0", ["type"] = "function",
                        ["function"] = new JsonObject { ["name"] = "get_weather", ["arguments"] = "{\"city\":\"Paris\"}" },
                    }),
                },
                new JsonObject { ["role"] = "tool", ["tool_call_id"] = "call_0", ["content"] = "sunny" }),
        };

        var response = await backend.ChatAsync(request, CancellationToken.None);

        var contents = Assert.Single(stub.Received).Body["contents"]!.AsArray();
        Assert.Equal(["user", "model", "user"], contents.Select(c => (string?)c!["role"]));
        Assert.Equal("Paris", (string?)contents[1]!["parts"]![0]!["functionCall"]!["args"]!["city"]);
        var functionResponse = contents[2]!["parts"]![0]!["functionResponse"]!;
        Assert.Equal("get_weather", (string?)functionResponse["name"]);
        Assert.Equal("sunny", (string?)functionResponse["response"]!["content"]);
        Assert.Equal("It is sunny in Paris.", ContentOf(response.Body));
        Assert.Equal("stop", (string?)response.Body["choices"]![0]!["finish_reason"]);
    }

    [Fact]
    public async Task Stream_UsesAltSse_AndBecomesOpenAiChunks_EndingWithTheFinishReasonAndUsage()
    {
        await using var stub = await GeminiStub.StartAsync();
        using var backend = new OpenAiUpstreamBackend(Options(stub), GeminiStub.Key);

        var chunks = await ToListAsync(backend.ChatStreamAsync(StreamingChatRequest(GeminiStub.Model), CancellationToken.None));

        var (path, query, _) = Assert.Single(stub.Received);
        Assert.Equal($"/v1beta/models/{GeminiStub.Model}:streamGenerateContent", path);
        Assert.Equal("?alt=sse", query);
        Assert.Equal("assistant", (string?)chunks[0]["choices"]![0]!["delta"]!["role"]);
        var text = string.Concat(chunks.Where(c => c["choices"]!.AsArray().Count > 0).Select(c => (string?)c["choices"]![0]!["delta"]!["content"]));
        Assert.Equal("Gemini heard: Say hello", text);
        Assert.Equal("stop", (string?)chunks[^2]["choices"]![0]!["finish_reason"]);
        Assert.Equal(new TokenUsage(11, 5), UpstreamUsage.Read(chunks[^1]));
        Assert.All(chunks, c => Assert.Equal(GeminiStub.ModelVersion, (string?)c["model"]));
    }

    [Fact]
    public async Task Stream_EndingBeforeAFinishReason_IsAnError_NotASilentTruncation()
    {
        await using var stub = await GeminiStub.StartAsync();
        using var backend = new OpenAiUpstreamBackend(Options(stub), GeminiStub.Key);
        stub.Faults.Enqueue(GeminiFault.TruncatedStream);

        var error = await Assert.ThrowsAsync<BackendException>(() => ToListAsync(backend.ChatStreamAsync(ChatRequest(GeminiStub.Model), CancellationToken.None)));

        Assert.Equal("stream_interrupted", error.ErrorType);
        Assert.Contains("without a chunk with a finishReason", error.Message, StringComparison.Ordinal);
    }

    [Fact]
    public async Task ResourceExhausted_Is429_WithRetryAfterFromRetryInfo()
    {
        await using var stub = await GeminiStub.StartAsync();
        using var backend = new OpenAiUpstreamBackend(Options(stub), GeminiStub.Key);
        stub.Faults.Enqueue(GeminiFault.ResourceExhausted);

        var error = await Assert.ThrowsAsync<BackendException>(() => backend.ChatAsync(ChatRequest(GeminiStub.Model), CancellationToken.None));

        Assert.Equal(429, error.StatusCode);
        Assert.Equal(TimeSpan.FromSeconds(13), error.RetryAfter);
        Assert.Contains("exceeded your current quota", error.Message, StringComparison.Ordinal);
    }

    [Fact]
    public async Task WrongKey_Is502AuthenticationError_ThoughGoogleAnswers400()
    {
        await using var stub = await GeminiStub.StartAsync();
        using var backend = new OpenAiUpstreamBackend(Options(stub), "not-the-key");

        var error = await Assert.ThrowsAsync<BackendException>(() => backend.ChatAsync(ChatRequest(GeminiStub.Model), CancellationToken.None));

        Assert.Equal(502, error.StatusCode);
        Assert.Equal("upstream_authentication_error", error.ErrorType);
        Assert.False(await backend.CheckHealthAsync(CancellationToken.None));
    }

    [Theory]
    [InlineData("logit_bias", "{\"50256\": -100}", "'logit_bias'")]
    [InlineData("user", "\"alice\"", "'user'")]
    [InlineData("response_format", "{\"type\":\"grammar\"}", "'response_format'")]
    [InlineData("response_format", "{\"type\":\"json_schema\",\"json_schema\":{\"name\":\"x\",\"schema\":{\"$ref\":\"#/$defs/a\"}}}", "'response_format.json_schema.schema.$ref'")]
    [InlineData("response_format", "{\"type\":\"json_schema\",\"json_schema\":{\"name\":\"x\",\"schema\":{\"type\":\"object\",\"properties\":{\"a\":{\"const\":1}}}}}", "'response_format.json_schema.schema.properties.a.const'")]
    [InlineData("n", "3", "'n'")]
    public async Task WhatGeminiCannotDo_Is400NamingTheParameter_AndNothingIsSent(string parameter, string json, string named)
    {
        await using var stub = await GeminiStub.StartAsync();
        using var backend = new OpenAiUpstreamBackend(Options(stub), GeminiStub.Key);
        var request = ChatRequest(GeminiStub.Model);
        request[parameter] = JsonNode.Parse(json);

        var error = await Assert.ThrowsAsync<BackendException>(() => backend.ChatAsync(request, CancellationToken.None));

        Assert.Equal(400, error.StatusCode);
        Assert.Contains(named, error.Message, StringComparison.Ordinal);
        Assert.Equal(0, stub.Requests);
    }

    [Fact]
    public async Task JsonObjectResponseFormat_BecomesResponseMimeType_AndImagesByUrlAreRefused()
    {
        await using var stub = await GeminiStub.StartAsync();
        using var backend = new OpenAiUpstreamBackend(Options(stub), GeminiStub.Key);
        var json = ChatRequest(GeminiStub.Model);
        json["response_format"] = new JsonObject { ["type"] = "json_object" };
        var byUrl = ChatRequest(GeminiStub.Model);
        byUrl["messages"]![0]!["content"] = new JsonArray(new JsonObject { ["type"] = "image_url", ["image_url"] = new JsonObject { ["url"] = "https://example.com/a.png" } });

        await backend.ChatAsync(json, CancellationToken.None);
        var refused = await Assert.ThrowsAsync<BackendException>(() => backend.ChatAsync(byUrl, CancellationToken.None));

        Assert.Equal("application/json", (string?)Assert.Single(stub.Received).Body["generationConfig"]!["responseMimeType"]);
        Assert.Equal(400, refused.StatusCode);
        Assert.Contains("messages[0].content[0].image_url.url", refused.Message, StringComparison.Ordinal);
    }

    private static UpstreamBackendOptions Options(GeminiStub stub) => new()
    {
        Name = "gemini",
        Kind = "gemini",
        BaseUrl = stub.BaseUrl,
        ApiKeyReference = "GEMINI_KEY",
        Region = "europe-west1",
        Models = [GeminiStub.Model],
        Labels = new UpstreamLabels { Classification = "UNCLASSIFIED", Jurisdiction = "EU" },
        Timeout = TimeSpan.FromSeconds(30),
    };
}
