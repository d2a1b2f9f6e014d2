using System.Text.Json.Nodes;
using Enclave.Inference.Backends;
using Enclave.Inference.Forge;
using Enclave.Inference.Gguf;
using Enclave.Inference.Onnx;
using Enclave.Inference.Tests.Tools;
using Json.Schema;

namespace Enclave.Inference.Tests.Gguf;

/// <summary>
/// Tools on a GGUF model, through the same path as on ONNX: the forged GGUF's Qwen 2.5 template takes them, forced
/// calls are constrained by our masks over llama.cpp's logits, streamed calls add up to the answer; a GGUF whose
/// template takes no tools (plain ChatML) still refuses them with a 400 naming <c>tools</c>.
/// </summary>
public sealed class GgufToolsTests(GgufModelsFixture models) : IClassFixture<GgufModelsFixture>, IDisposable
{
    private static readonly GgufEngineOptions Engine = new() { ContextLength = 2048, Threads = 2, BatchSize = 256, Bounds = new OnnxEngineOptions { MaxConcurrentSequences = 2, MaxQueuedSequences = 4 } };

    private readonly GgufDecoderModel _chat = GgufDecoderModel.Load(models.ChatPath, Engine);

    public void Dispose() => _chat.Dispose();

    [Theory]
    [InlineData("required")]
    [InlineData("get_weather")]
    [InlineData("book")]
    public async Task ForcedCalls_OnGguf_CallADeclaredFunction_WithArgumentsThatValidate(string choice)
    {
        var backend = Backend(_chat);
        var toolChoice = choice == "required" ? JsonValue.Create("required") : (JsonNode)ToolCorpus.Named(choice);
        for (var seed = 0; seed < 8; seed++)
        {
            var response = await backend.ChatAsync(ToolCorpus.Request(toolChoice.DeepClone(), seed), CancellationToken.None);
            var calls = response.Body["choices"]![0]!["message"]!["tool_calls"]!.AsArray();
            Assert.NotEmpty(calls);
            foreach (var call in calls)
            {
                var name = (string)call!["function"]!["name"]!;
                Assert.True(choice == "required" || name == choice, name);
                var arguments = System.Text.Json.JsonDocument.Parse((string)call["function"]!["arguments"]!);
                Assert.True(JsonSchema.FromText(ToolCorpus.Parameters[name]).Evaluate(arguments.RootElement).IsValid, $"seed {seed}: {arguments.RootElement}");
            }
        }
    }

    [Theory]
    [InlineData("required")]
    [InlineData("book")]
    [InlineData("auto")]
    public async Task StreamedToolCalls_OnGguf_AddUpToTheUnstreamedAnswer(string choice)
    {
        var backend = Backend(_chat);
        var toolChoice = choice is "required" or "auto" ? JsonValue.Create(choice) : (JsonNode)ToolCorpus.Named(choice);
        for (var seed = 0; seed < 4; seed++)
        {
            var whole = await backend.ChatAsync(ToolCorpus.Request(toolChoice.DeepClone(), seed), CancellationToken.None);
            Assert.Equal(ToolStreams.Shape(whole.Body["choices"]![0]!), await ToolStreams.FoldAsync(backend, ToolCorpus.Request(toolChoice.DeepClone(), seed)));
        }
    }

    [Fact]
    public async Task AToolResult_IsRenderedBack_AndTheModelAnswersInText()
    {
        var request = ToolCorpus.Request(JsonValue.Create("none"), 7);
        request["messages"] = new JsonArray(
            new JsonObject { ["role"] = "user", ["content"] = "Weather in Oslo?" },
            new JsonObject
            {
                ["role"] = "assistant",
                ["content"] = null,
                ["tool_calls"] = new JsonArray(new JsonObject { ["id"] = "call_1", ["type"] = "function", ["function"] = new JsonObject { ["name"] = "get_weather", ["arguments"] = "{\"city\":\"Oslo\",\"unit\":\"c\"}" } }),
            },
            new JsonObject { ["role"] = "tool", ["tool_call_id"] = "call_1", ["content"] = "{\"temperature\": 3}" });
        request["max_tokens"] = 8;
        var response = await Backend(_chat).ChatAsync(request, CancellationToken.None);
        var prompt = _chat.ChatTemplate!.Render(
            [new Text.ChatMessage("user", "Weather in Oslo?"), new Text.ChatMessage("assistant", string.Empty) { ToolCalls = [new Text.ChatToolCall("call_1", "get_weather", JsonNode.Parse("{\"city\":\"Oslo\",\"unit\":\"c\"}"))] }, new Text.ChatMessage("tool", "{\"temperature\": 3}") { ToolCallId = "call_1" }],
            addGenerationPrompt: true);
        Assert.Contains("<tool_response>\n{\"temperature\": 3}\n</tool_response>", prompt, StringComparison.Ordinal);
        Assert.Equal(_chat.Tokenizer.Encode(prompt, addSpecialTokens: false).Count, response.Usage!.Value.PromptTokens);
        Assert.Null(response.Body["choices"]![0]!["message"]!["tool_calls"]);
    }

    [Fact]
    public async Task AGgufWhoseTemplateTakesNoTools_RefusesThem_NamingTools()
    {
        var dir = Path.Combine(models.Root, "chatml");
        ModelForge.ForgeGguf(dir, new ForgeOptions { Seed = 3, Hidden = 64, Heads = 4, IntermediateSize = 128 }, GgufWeightType.F16, template: ForgedChatTemplate.ChatMl);
        using var chatml = GgufDecoderModel.Load(Path.Combine(dir, ModelForge.GgufFileName), Engine);
        var e = await Assert.ThrowsAsync<BackendException>(() => Backend(chatml).ChatAsync(ToolCorpus.Request(JsonValue.Create("auto"), 1), CancellationToken.None));
        Assert.Equal((400, "tools"), (e.StatusCode, e.Param));

        // tool_choice none on it renders without the tools and answers in text.
        var none = await Backend(chatml).ChatAsync(ToolCorpus.Request(JsonValue.Create("none"), 1), CancellationToken.None);
        Assert.Null(none.Body["choices"]![0]!["message"]!["tool_calls"]);
    }

    private static OnnxInferenceBackend Backend(GgufDecoderModel chat) => new("gguf", new LocalChatModel(chat, chat.Tokenizer, chat.ChatTemplate), null);
}
