using System.Text.Json.Nodes;
using Enclave.Inference.Backends;
using Enclave.Inference.Onnx;
using Enclave.Inference.Text;

namespace Enclave.Inference.Tests.Tools;

/// <summary>
/// The tool fields of a chat request on the built-in engine: every malformed or unsupported part is a 400 that names
/// it (never ignored, never a 500), <c>none</c> and <c>auto</c> behave as OpenAI's do, and a conversation with calls
/// and their results is rendered through the model's own template.
/// </summary>
public sealed class ToolRequestTests(ToolModelsFixture models) : IClassFixture<ToolModelsFixture>
{
    [Theory]
    [InlineData("""{"tools":{}}""", "tools")]
    [InlineData("""{"tools":[]}""", "tools")]
    [InlineData("""{"tools":[1]}""", "tools[0]")]
    [InlineData("""{"tools":[{"type":"code_interpreter"}]}""", "tools[0].type")]
    [InlineData("""{"tools":[{"type":"function","function":{"name":"a b"}}]}""", "tools[0].function.name")]
    [InlineData("""{"tools":[{"type":"function","function":{"name":"a"}},{"type":"function","function":{"name":"a"}}]}""", "tools[1].function.name")]
    [InlineData("""{"tools":[{"type":"function","function":{"name":"a","parameters":[]}}]}""", "tools[0].function.parameters")]
    [InlineData("""{"tools":[{"type":"function","function":{"name":"a","strict":"yes"}}]}""", "tools[0].function.strict")]
    [InlineData("""{"tools":[{"type":"function","function":{"name":"a","description":3}}]}""", "tools[0].function.description")]
    [InlineData("""{"tools":[{"type":"function","function":{"name":"a","examples":[]}}]}""", "tools[0].function.examples")]
    [InlineData("""{"tools":[{"type":"function","function":{"name":"a"},"cache":true}]}""", "tools[0].cache")]
    [InlineData("""{"tools":[{"type":"function","function":{"name":"a"}}],"tool_choice":"always"}""", "tool_choice")]
    [InlineData("""{"tools":[{"type":"function","function":{"name":"a"}}],"tool_choice":{"type":"function","function":{"name":"b"}}}""", "tool_choice.function.name")]
    [InlineData("""{"tools":[{"type":"function","function":{"name":"a"}}],"tool_choice":7}""", "tool_choice")]
    [InlineData("""{"tools":[{"type":"function","function":{"name":"a"}}],"parallel_tool_calls":"yes"}""", "parallel_tool_calls")]
    [InlineData("""{"tool_choice":"auto"}""", "tool_choice")]
    [InlineData("""{"parallel_tool_calls":true}""", "parallel_tool_calls")]
    [InlineData("""{"functions":[{"name":"a"}]}""", "functions")]
    [InlineData("""{"function_call":"auto"}""", "function_call")]
    [InlineData("""{"tools":[{"type":"function","function":{"name":"a","parameters":{"type":"object","properties":{"x":{"type":"integer","multipleOf":2}}}}}],"tool_choice":"required"}""", "tools[0].function.parameters.properties.x.multipleOf")]
    [InlineData("""{"tools":[{"type":"function","function":{"name":"a"}}],"tool_choice":"required","response_format":{"type":"json_object"}}""", "response_format")]
    public async Task MalformedOrUnsupportedToolFields_Are400_NamingTheParameter(string fields, string param)
    {
        var request = Request();
        foreach (var (key, value) in JsonNode.Parse(fields)!.AsObject())
        {
            request[key] = value?.DeepClone();
        }

        var e = await Assert.ThrowsAsync<BackendException>(() => models.Forged.ChatAsync(request, CancellationToken.None));
        Assert.Equal(400, e.StatusCode);
        Assert.Equal(param, e.Param);
    }

    [Fact]
    public async Task Tools_OnATemplateThatTakesNone_Are400_NamingTools()
    {
        var backend = models.Serve("bpe", "phi3");
        var request = Request();
        request["tools"] = ToolCorpus.Tools();
        var e = await Assert.ThrowsAsync<BackendException>(() => backend.ChatAsync(request, CancellationToken.None));
        Assert.Equal("tools", e.Param);

        request["tool_choice"] = "none"; // the model is not shown the tools: its template need not take them
        var response = await backend.ChatAsync(request, CancellationToken.None);
        Assert.Null(response.Body["choices"]![0]!["message"]!["tool_calls"]);
    }

    [Fact]
    public async Task ToolChoiceNone_RendersNoTools_AndAnswersText()
    {
        var withTools = await models.Forged.ChatAsync(ToolCorpus.Request("auto", 1), CancellationToken.None);
        var none = await models.Forged.ChatAsync(ToolCorpus.Request("none", 1), CancellationToken.None);
        var plain = Request();
        plain["max_tokens"] = 200;
        plain["messages"] = new JsonArray(new JsonObject { ["role"] = "user", ["content"] = "Plan my trip." });
        var without = await models.Forged.ChatAsync(plain, CancellationToken.None);
        Assert.Equal(without.Usage!.Value.PromptTokens, none.Usage!.Value.PromptTokens);
        Assert.True(withTools.Usage!.Value.PromptTokens > none.Usage.Value.PromptTokens + 50);
        Assert.IsType<string>((string?)none.Body["choices"]![0]!["message"]!["content"]);
        Assert.Null(none.Body["choices"]![0]!["message"]!["tool_calls"]);
    }

    [Fact]
    public async Task ACallAndItsResult_AreRenderedThroughTheModelsTemplate()
    {
        var request = ToolCorpus.Request("auto", 3);
        request["messages"] = JsonNode.Parse("""
            [{"role":"user","content":"Weather in Oslo?"},
             {"role":"assistant","content":null,"tool_calls":[{"id":"call_1","type":"function","function":{"name":"get_weather","arguments":"{\"city\":\"Oslo\",\"unit\":\"c\"}"}}]},
             {"role":"tool","tool_call_id":"call_1","content":"21 and clear"}]
            """);
        var response = await models.Forged.ChatAsync(request, CancellationToken.None);

        var chat = models.Chat("bpe");
        var expected = chat.ChatTemplate!.Render(
            [
                new ChatMessage("user", "Weather in Oslo?"),
                new ChatMessage("assistant", string.Empty) { ToolCalls = [new ChatToolCall("call_1", "get_weather", JsonNode.Parse("{\"city\":\"Oslo\",\"unit\":\"c\"}"))] },
                new ChatMessage("tool", "21 and clear") { ToolCallId = "call_1" },
            ],
            addGenerationPrompt: true,
            ToolCorpus.Tools());
        Assert.Contains("<tool_call>\n{\"name\": \"get_weather\", \"arguments\": {\"city\": \"Oslo\", \"unit\": \"c\"}}\n</tool_call>", expected, StringComparison.Ordinal);
        Assert.Contains("<tool_response>\n21 and clear\n</tool_response>", expected, StringComparison.Ordinal);
        Assert.Equal(chat.Tokenizer.Encode(expected, addSpecialTokens: false).Count, response.Usage!.Value.PromptTokens);
    }

    [Theory]
    [InlineData("""[{"role":"tool","content":"x"}]""")]
    [InlineData("""[{"role":"assistant","content":null,"tool_calls":{}}]""")]
    [InlineData("""[{"role":"assistant","content":null,"tool_calls":[{"id":"c","type":"function","function":{"name":"a","arguments":{}}}]}]""")]
    [InlineData("""[{"role":"assistant","content":null,"tool_calls":[{"type":"function","function":{"name":"a","arguments":"{}"}}]}]""")]
    [InlineData("""[{"role":"function","name":"a","content":"x"}]""")]
    public async Task MalformedToolMessages_Are400_NamingMessages(string messages)
    {
        var request = Request();
        request["messages"] = JsonNode.Parse(messages);
        var e = await Assert.ThrowsAsync<BackendException>(() => models.Forged.ChatAsync(request, CancellationToken.None));
        Assert.Equal("messages", e.Param);
    }

    [Fact]
    public async Task Auto_OnARandomModel_AnswersTextOrWellFormedCalls()
    {
        for (var seed = 0; seed < 10; seed++)
        {
            var response = await models.Forged.ChatAsync(ToolCorpus.Request("auto", seed), CancellationToken.None);
            var choice = response.Body["choices"]![0]!;
            if (choice["message"]!["tool_calls"] is JsonArray calls)
            {
                Assert.Equal("tool_calls", (string?)choice["finish_reason"]);
                Assert.All(calls, c => Assert.Contains((string)c!["function"]!["name"]!, ToolCorpus.Parameters.Keys));
            }
            else
            {
                Assert.IsType<string>((string?)choice["message"]!["content"]);
                Assert.Contains((string?)choice["finish_reason"], new[] { "stop", "length" });
            }
        }
    }

    private static JsonObject Request() => new()
    {
        ["model"] = "forged",
        ["messages"] = new JsonArray(new JsonObject { ["role"] = "user", ["content"] = "Hi" }),
        ["max_tokens"] = 4,
        ["seed"] = 1,
    };
}
