using Enclave.Inference.Text;

// Not "...Tests.Text": that would shadow Enclave.Inference.Text for code in sibling namespaces that writes Text.ITextTokenizer.
namespace Enclave.Inference.Tests.Tokenization;

/// <summary>
/// The Qwen2.5, Phi-3, Phi-4, Mistral (v0.1, v0.3) and Llama 3.1 chat templates in tests/reference/tokenizers/templates/,
/// rendered byte for byte as @huggingface/jinja renders them.
/// </summary>
public sealed class TemplateReferenceTests
{
    public static TheoryData<int> Renders()
    {
        var data = new TheoryData<int>();
        for (int i = 0; i < ReferenceFixtures.Templates.Renders.Count; i++)
        {
            data.Add(i);
        }

        return data;
    }

    [Theory]
    [MemberData(nameof(Renders))]
    public void Template_RendersLikeHuggingFaceJinja(int index)
    {
        ChatCase expected = ReferenceFixtures.Templates.Renders[index];
        TemplateEntry entry = ReferenceFixtures.Templates.Templates.Single(t => t.Name == expected.Template);
        string source = File.ReadAllText(Path.Combine(ReferenceFixtures.Root, "templates", entry.File));
        JinjaChatTemplate template = JinjaChatTemplate.Parse(source, entry.SpecialTokens);

        if (expected.Error is not null)
        {
            TokenizerException e = Assert.Throws<TokenizerException>(() => template.Render(expected.ChatMessages, expected.AddGenerationPrompt));
            Assert.Equal(TokenizerError.TemplateRaised, e.Reason);
            Assert.Contains(expected.Error, e.Message, StringComparison.Ordinal);
            return;
        }

        Assert.Equal(expected.Prompt, template.Render(expected.ChatMessages, expected.AddGenerationPrompt));
    }
}
