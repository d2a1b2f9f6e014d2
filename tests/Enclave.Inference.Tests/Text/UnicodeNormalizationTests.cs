using Enclave.Inference.Text.Pipeline;
using FsCheck.Xunit;

// Not "...Tests.Text": that would shadow Enclave.Inference.Text for code in sibling namespaces that writes Text.ITextTokenizer.
namespace Enclave.Inference.Tests.Tokenization;

/// <summary>NFC and NFD from the shipped tables (string.Normalize is a no-op under InvariantGlobalization).</summary>
public sealed class UnicodeNormalizationTests
{
    [Theory]
    [InlineData("e\u0301", "\u00e9")]
    [InlineData("a\u0301\u0328", "\u0105\u0301")] // reordered by combining class, then composed
    [InlineData("\u1100\u1161\u11a8", "\uac01")] // Hangul jamo compose algorithmically
    [InlineData("\u212b", "\u00c5")] // ANGSTROM SIGN is a singleton decomposition
    [InlineData("\u0958", "\u0915\u093c")] // composition exclusion: stays decomposed
    [InlineData("plain ASCII", "plain ASCII")]
    [InlineData("x\ud800y", "x\ud800y")] // a lone surrogate passes through
    [InlineData("😀e\u0301", "😀\u00e9")]
    public void Nfc_ComposesCanonically(string input, string expected)
    {
        Assert.Equal(expected, UnicodeNormalization.Nfc(input));
    }

    [Theory]
    [InlineData("\u00e9", "e\u0301")]
    [InlineData("\uac01", "\u1100\u1161\u11a8")]
    [InlineData("\u1e09", "c\u0327\u0301")]
    public void Nfd_DecomposesFully(string input, string expected)
    {
        Assert.Equal(expected, UnicodeNormalization.Nfd(input));
    }

    [Property]
    public bool Nfc_IsIdempotent(string text) =>
        text is null || UnicodeNormalization.Nfc(UnicodeNormalization.Nfc(text)) == UnicodeNormalization.Nfc(text);
}
