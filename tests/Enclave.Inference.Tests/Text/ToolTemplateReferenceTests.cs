using System.Text.Json.Nodes;
using Enclave.Inference.Text;

// Not "...Tests.Text": that would shadow Enclave.Inference.Text for code in sibling namespaces that writes Text.ITextTokenizer.
namespace Enclave.Inference.Tests.Tokenization;

/// <summary>
/// Conversations with tools, calls and tool results (tests/reference/tokenizers/tool-conversations.json) through the
/// reference templates and the Qwen3 family's own template, rendered byte for byte as @huggingface/jinja renders them
/// (expected/tool-templates.json, written by generate.mjs).
/// </summary>
public sealed class ToolTemplateReferenceTests
{
    private static readonly JsonArray Renders = JsonNode.Parse(File.ReadAllText(Path.Combine(ReferenceFixtures.Root, "expected", "tool-templates.json")))!["renders"]!.AsArray();

    public static TheoryData<int> Cases()
    {
        var data = new TheoryData<int>();
        for (var i = 0; i < Renders.Count; i++)
        {
            data.Add(i);
        }

        return data;
    }

    [Theory]
    [MemberData(nameof(Cases))]
    public void TemplateWithTools_RendersLikeHuggingFaceJinja(int index)
    {
        var expected = Renders[index]!;
        var template = Template((string)expected["template"]!);
        var messages = expected["messages"]!.AsArray().Select(Message).ToList();
        var tools = expected["tools"]!.AsArray();
        if (expected["error"] is { } error)
        {
            var e = Assert.Throws<TokenizerException>(() => template.Render(messages, addGenerationPrompt: true, tools));
            Assert.Equal(TokenizerError.TemplateRaised, e.Reason);
            Assert.Contains((string)error!, e.Message, StringComparison.Ordinal);
            return;
        }

        Assert.Equal((string)expected["prompt"]!, template.Render(messages, addGenerationPrompt: true, tools));
    }

    [Fact]
    public void ToolCallFormat_OfEachReferenceTemplate()
    {
        Assert.Equal(ToolCallFormat.Hermes, Template("qwen2.5").ToolCallFormat);
        Assert.Equal(ToolCallFormat.Hermes, Template("qwen3").ToolCallFormat);
        Assert.Equal(ToolCallFormat.Mistral, Template("mistral-v0.3").ToolCallFormat);
        Assert.Equal(ToolCallFormat.Llama3Json, Template("llama3.1").ToolCallFormat);
        Assert.Null(Template("phi3").ToolCallFormat);
        Assert.Null(Template("mistral-v0.1").ToolCallFormat);
    }

    private static JinjaChatTemplate Template(string name)
    {
        if (name == "qwen3")
        {
            var family = ReferenceFixtures.Reference("qwen3");
            return JinjaChatTemplate.Parse(family.ChatTemplate, family.SpecialTokens);
        }

        var entry = ReferenceFixtures.Templates.Templates.Single(t => t.Name == name);
        return JinjaChatTemplate.Parse(File.ReadAllText(Path.Combine(ReferenceFixtures.Root, "templates", entry.File)), entry.SpecialTokens);
    }

    private static ChatMessage Message(JsonNode? node)
    {
        var calls = node!["tool_calls"] is JsonArray array
            ? array.Select(c => new ChatToolCall((string)c!["id"]!, (string)c["function"]!["name"]!, c["function"]!["arguments"]!.DeepClone())).ToList()
            : [];
        return new ChatMessage((string)node["role"]!, (string?)node["content"] ?? string.Empty)
        {
            ToolCalls = calls,
            ToolCallId = (string?)node["tool_call_id"],
        };
    }
}
