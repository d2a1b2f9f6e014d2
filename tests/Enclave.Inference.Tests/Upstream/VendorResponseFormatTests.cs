using System.Text.Json.Nodes;
using Enclave.Inference.Backends;
using Enclave.Inference.Upstream;
using static Enclave.Inference.Tests.Upstream.UpstreamTestKit;

namespace Enclave.Inference.Tests.Upstream;

/// <summary>
/// <c>response_format</c> with a JSON schema translated to each vendor against its loopback wire-protocol stub:
/// Anthropic and Bedrock Converse by a forced tool whose input is the answer, Gemini by <c>responseSchema</c>; what a
/// vendor cannot take is a 400 naming it, and nothing is sent.
/// </summary>
public sealed class VendorResponseFormatTests
{
    private const string Schema = """{"type":"object","properties":{"city":{"type":"string","description":"a city"},"days":{"type":["integer","null"],"minimum":1}},"required":["city","days"],"additionalProperties":false}""";

    private static JsonObject WithSchema(string model, bool stream = false)
    {
        var request = stream ? StreamingChatRequest(model) : ChatRequest(model);
        request["response_format"] = new JsonObject
        {
            ["type"] = "json_schema",
            ["json_schema"] = new JsonObject { ["name"] = "forecast", ["strict"] = true, ["schema"] = JsonNode.Parse(Schema) },
        };
        return request;
    }

    [Fact]
    public async Task Anthropic_JsonSchema_IsAForcedTool_WhoseInputComesBackAsTheContent()
    {
        await using var stub = await AnthropicStub.StartAsync();
        using var backend = new OpenAiUpstreamBackend(AnthropicOptions(stub), AnthropicStub.Key);

        var response = await backend.ChatAsync(WithSchema(Claude), CancellationToken.None);

        var sent = Assert.Single(stub.Received).Body;
        var tool = Assert.Single(sent["tools"]!.AsArray())!;
        Assert.Equal("forecast", (string?)tool["name"]);
        Assert.True(JsonNode.DeepEquals(JsonNode.Parse(Schema), tool["input_schema"]));
        Assert.True(JsonNode.DeepEquals(new JsonObject { ["type"] = "tool", ["name"] = "forecast" }, sent["tool_choice"]));
        Assert.False(sent.ContainsKey("response_format"));
        var choice = response.Body["choices"]![0]!;
        Assert.Equal("""{"city":"Paris"}""", (string?)choice["message"]!["content"]);
        Assert.Null(choice["message"]!["tool_calls"]);
        Assert.Equal("stop", (string?)choice["finish_reason"]);
    }

    [Fact]
    public async Task Anthropic_JsonSchema_Streamed_DeliversTheToolInputAsContentDeltas()
    {
        await using var stub = await AnthropicStub.StartAsync();
        using var backend = new OpenAiUpstreamBackend(AnthropicOptions(stub), AnthropicStub.Key);

        var chunks = await ToListAsync(backend.ChatStreamAsync(WithSchema(Claude, stream: true), CancellationToken.None));

        var choices = chunks.Where(c => c["choices"] is JsonArray { Count: > 0 }).Select(c => c["choices"]![0]!).ToList();
        Assert.Equal("""{"city": "Paris"}""", string.Concat(choices.Select(c => (string?)c["delta"]!["content"])));
        Assert.DoesNotContain(choices, c => c["delta"]!["tool_calls"] is not null);
        Assert.Equal("stop", (string?)choices.Last(c => c["finish_reason"] is not null)["finish_reason"]);
    }

    [Fact]
    public async Task Anthropic_JsonObject_IsAForcedToolTakingAnyObject_AndAFormatWithToolsIsRefused()
    {
        await using var stub = await AnthropicStub.StartAsync();
        using var backend = new OpenAiUpstreamBackend(AnthropicOptions(stub), AnthropicStub.Key);
        var jsonObject = ChatRequest(Claude);
        jsonObject["response_format"] = new JsonObject { ["type"] = "json_object" };
        var withTools = WithSchema(Claude);
        withTools["tools"] = new JsonArray(new JsonObject { ["type"] = "function", ["function"] = new JsonObject { ["name"] = "get_weather" } });

        var response = await backend.ChatAsync(jsonObject, CancellationToken.None);
        var refused = await Assert.ThrowsAsync<BackendException>(() => backend.ChatAsync(withTools, CancellationToken.None));

        var tool = Assert.Single(Assert.Single(stub.Received).Body["tools"]!.AsArray())!;
        Assert.Equal(VendorTranslation.JsonObjectToolName, (string?)tool["name"]);
        Assert.Equal("object", (string?)tool["input_schema"]!["type"]);
        Assert.Equal("""{"city":"Paris"}""", ContentOf(response.Body));
        Assert.Equal(400, refused.StatusCode);
        Assert.Contains("'response_format'", refused.Message, StringComparison.Ordinal);
    }

    [Fact]
    public async Task Bedrock_JsonSchema_IsAForcedToolInToolConfig_AndComesBackAsContent_AnswerAndStream()
    {
        await using var stub = await BedrockStub.StartAsync();
        using var backend = new OpenAiUpstreamBackend(BedrockOptions(stub), BedrockKey);

        var response = await backend.ChatAsync(WithSchema(BedrockStub.Model), CancellationToken.None);
        var chunks = await ToListAsync(backend.ChatStreamAsync(WithSchema(BedrockStub.Model, stream: true), CancellationToken.None));

        var config = stub.Received.First().Body["toolConfig"]!;
        var spec = Assert.Single(config["tools"]!.AsArray())!["toolSpec"]!;
        Assert.Equal("forecast", (string?)spec["name"]);
        Assert.True(JsonNode.DeepEquals(JsonNode.Parse(Schema), spec["inputSchema"]!["json"]));
        Assert.Equal("forecast", (string?)config["toolChoice"]!["tool"]!["name"]);
        Assert.Equal("""{"city":"Paris"}""", ContentOf(response.Body));
        Assert.Equal("stop", (string?)response.Body["choices"]![0]!["finish_reason"]);
        var choices = chunks.Where(c => c["choices"] is JsonArray { Count: > 0 }).Select(c => c["choices"]![0]!).ToList();
        Assert.Equal("""{"city":"Paris"}""", string.Concat(choices.Select(c => (string?)c["delta"]!["content"])));
        Assert.DoesNotContain(choices, c => c["delta"]!["tool_calls"] is not null);
        Assert.Equal("stop", (string?)choices.Last(c => c["finish_reason"] is not null)["finish_reason"]);
    }

    [Fact]
    public async Task Gemini_JsonSchema_IsResponseSchema_InGeminisSchemaSubset()
    {
        await using var stub = await GeminiStub.StartAsync();
        using var backend = new OpenAiUpstreamBackend(GeminiOptions(stub), GeminiStub.Key);

        await backend.ChatAsync(WithSchema(GeminiStub.Model), CancellationToken.None);

        var config = Assert.Single(stub.Received).Body["generationConfig"]!;
        Assert.Equal("application/json", (string?)config["responseMimeType"]);
        var expected = JsonNode.Parse("""
            {"type":"OBJECT","properties":{"city":{"type":"STRING","description":"a city"},"days":{"nullable":true,"type":"INTEGER","minimum":1}},"required":["city","days"]}
            """);
        Assert.True(JsonNode.DeepEquals(expected, config["responseSchema"]), config["responseSchema"]!.ToJsonString());
    }

    private const string Claude = "claude-sonnet-4-5";

    private const string BedrockKey = BedrockStub.AccessKeyId + ":" + BedrockStub.SecretAccessKey;

    private static UpstreamBackendOptions AnthropicOptions(AnthropicStub stub) => new()
    {
        Name = "anthropic",
        Kind = "anthropic",
        BaseUrl = stub.BaseUrl,
        ApiKeyReference = "ANTHROPIC_KEY",
        Models = [Claude],
        Labels = new UpstreamLabels { Classification = "UNCLASSIFIED", Jurisdiction = "US" },
        Timeout = TimeSpan.FromSeconds(30),
    };

    private static UpstreamBackendOptions BedrockOptions(BedrockStub stub) => new()
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

    private static UpstreamBackendOptions GeminiOptions(GeminiStub stub) => new()
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
