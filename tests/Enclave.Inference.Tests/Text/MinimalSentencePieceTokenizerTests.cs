using Enclave.Inference.Text;

// Not "...Tests.Text": that would shadow Enclave.Inference.Text for code in sibling namespaces that writes Text.ITextTokenizer.
namespace Enclave.Inference.Tests.Tokenization;

/// <summary>
/// A SentencePiece-style BPE tokenizer (Llama 2 / Mistral / Phi-3 shape): Prepend and Replace normalizers, no
/// pre-tokenizer, byte_fallback to &lt;0xXX&gt; tokens, fuse_unk, a BOS from TemplateProcessing, and the
/// Replace/ByteFallback/Fuse/Strip decoder chain (Text/Fixtures/minimal-sentencepiece/). Expected values are
/// transformers.js's for the same files.
/// </summary>
public sealed class MinimalSentencePieceTokenizerTests
{
    private static readonly LoadedTokenizer Loaded = TokenizerLoader.Load(Path.Combine(
        Path.GetDirectoryName(ReferenceFixtures.Root)!, "..", "Enclave.Inference.Tests", "Text", "Fixtures", "minimal-sentencepiece"));

    [Theory]
    [InlineData("hello hello!", new[] { 1, 268, 268, 36 }, "<s> hello hello!", "hello hello!")]
    [InlineData("hello, 世界 <s>", new[] { 1, 268, 47, 259, 231, 187, 153, 234, 152, 143, 259, 1 }, "<s> hello, 世界 <s>", "hello, 世界 ")]
    [InlineData(" hello", new[] { 1, 259, 268 }, "<s>  hello", " hello")]
    public void EncodeAndDecode_MatchTransformersJs(string text, int[] ids, string decoded, string decodedSkippingSpecial)
    {
        Assert.Equal(ids, Loaded.Tokenizer.Encode(text, addSpecialTokens: true));
        Assert.Equal(decoded, Loaded.Tokenizer.Decode(ids, skipSpecialTokens: false));
        Assert.Equal(decodedSkippingSpecial, Loaded.Tokenizer.Decode(ids, skipSpecialTokens: true));
    }

    [Fact]
    public void Encode_WithoutSpecialTokens_LeavesOutTheBos()
    {
        Assert.Equal([268, 268, 36], Loaded.Tokenizer.Encode("hello hello!", addSpecialTokens: false));
    }

    [Fact]
    public void ChatTemplate_SeesTheConfiguredSpecialTokens()
    {
        Assert.NotNull(Loaded.ChatTemplate);
        Assert.Equal(
            "<s>[INST] hi [/INST]yo</s>",
            Loaded.ChatTemplate.Render([new ChatMessage("user", "hi"), new ChatMessage("assistant", "yo")], addGenerationPrompt: false));
        Assert.Contains(2, Loaded.Tokenizer.EndOfSequenceIds);
    }
}
