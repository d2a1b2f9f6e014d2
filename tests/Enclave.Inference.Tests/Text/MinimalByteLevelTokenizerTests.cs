using Enclave.Inference.Text;

// Not "...Tests.Text": that would shadow Enclave.Inference.Text for code in sibling namespaces that writes Text.ITextTokenizer.
namespace Enclave.Inference.Tests.Tokenization;

/// <summary>
/// A hand-written byte-level BPE tokenizer in the shape the model forge writes: the 256 byte characters as IDs 0-255,
/// five merges, ChatML special tokens and a ChatML template (Text/Fixtures/minimal-bytelevel/). Expected IDs were
/// worked out by hand and agree with transformers.js.
/// </summary>
public sealed class MinimalByteLevelTokenizerTests
{
    private static readonly string Directory = Path.Combine(
        Path.GetDirectoryName(ReferenceFixtures.Root)!, "..", "Enclave.Inference.Tests", "Text", "Fixtures", "minimal-bytelevel");

    private static readonly LoadedTokenizer Loaded = TokenizerLoader.Load(Directory);

    [Theory]
    [InlineData("hello the world", new[] { 260, 111, 258, 32, 119, 111, 114, 108, 100 })]
    [InlineData("<|im_start|>user\nhi<|im_end|>", new[] { 262, 117, 115, 101, 114, 10, 104, 105, 263 })]
    [InlineData("héllo 👋", new[] { 104, 195, 169, 259, 111, 32, 240, 159, 145, 139 })]
    [InlineData("", new int[0])]
    public void Encode_AppliesMergesByRank_AndSplitsSpecialTokens(string text, int[] expected)
    {
        Assert.Equal(expected, Loaded.Tokenizer.Encode(text, addSpecialTokens: true));
    }

    [Theory]
    [InlineData("hello the world")]
    [InlineData("<|im_start|>user\nhi<|im_end|>")]
    [InlineData("héllo 👋 \t\n\n  x")]
    public void Decode_OfEncode_IsTheText(string text)
    {
        Assert.Equal(text, Loaded.Tokenizer.Decode(Loaded.Tokenizer.Encode(text, addSpecialTokens: false), skipSpecialTokens: false));
    }

    [Fact]
    public void Decode_SkipsSpecialTokens_WhenAsked()
    {
        Assert.Equal("user\nhi", Loaded.Tokenizer.Decode([262, 117, 115, 101, 114, 10, 104, 105, 263], skipSpecialTokens: true));
    }

    [Fact]
    public void Decode_OfIdsOutsideTheVocabulary_WritesNothingForThem()
    {
        Assert.Equal("hi", Loaded.Tokenizer.Decode([104, 5000, -1, 105], skipSpecialTokens: false));
    }

    [Fact]
    public void Decode_OfASplitUtf8Sequence_WritesReplacementCharacter()
    {
        Assert.Equal("\uFFFD", Loaded.Tokenizer.Decode([240, 159], skipSpecialTokens: false));
    }

    [Fact]
    public void Load_ReportsVocabularySize_AndImEndAsEndOfSequence()
    {
        Assert.Equal(264, Loaded.Tokenizer.VocabularySize);
        Assert.Equal(new HashSet<int> { 263 }, Loaded.Tokenizer.EndOfSequenceIds);
    }

    [Fact]
    public void ChatTemplate_RendersChatMl_WithGenerationPrompt()
    {
        Assert.NotNull(Loaded.ChatTemplate);
        string prompt = Loaded.ChatTemplate.Render([new ChatMessage("system", "Be brief."), new ChatMessage("user", "hi")], addGenerationPrompt: true);

        Assert.Equal("<|im_start|>system\nBe brief.<|im_end|>\n<|im_start|>user\nhi<|im_end|>\n<|im_start|>assistant\n", prompt);
    }

    [Fact]
    public void Encode_IsThreadSafe()
    {
        int[] expected = [260, 111, 258, 32, 119, 111, 114, 108, 100];
        Parallel.For(0, 200, _ => Assert.Equal(expected, Loaded.Tokenizer.Encode("hello the world", addSpecialTokens: false)));
    }
}
