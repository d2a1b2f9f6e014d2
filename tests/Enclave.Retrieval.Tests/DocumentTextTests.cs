using System.Text;
using Enclave.Retrieval.Extraction;
using UglyToad.PdfPig.Content;
using UglyToad.PdfPig.Fonts.Standard14Fonts;
using UglyToad.PdfPig.Writer;

namespace Enclave.Retrieval.Tests;

/// <summary>Text extraction of uploaded documents: each type read, and every malformed input a refusal with its reason.</summary>
public sealed class DocumentTextTests
{
    private static byte[] Utf8(string s) => Encoding.UTF8.GetBytes(s);

    private static byte[] Pdf(params string[] pages)
    {
        using var builder = new PdfDocumentBuilder();
        var font = builder.AddStandard14Font(Standard14Font.Helvetica);
        foreach (var text in pages)
        {
            var page = builder.AddPage(PageSize.A4);
            page.AddText(text, 12, new UglyToad.PdfPig.Core.PdfPoint(25, 700), font);
        }

        return builder.Build();
    }

    [Fact]
    public void PlainText_IsTakenAsItIs_WithoutItsByteOrderMark()
    {
        var doc = DocumentText.Extract(Utf8("\uFEFF(S) the blue binder"), "notes.txt");
        Assert.Equal((DocumentType.PlainText, "(S) the blue binder", 1), (doc.Type, doc.Text, doc.Pages));
    }

    [Fact]
    public void Markdown_LosesItsMarkup_AndKeepsPortionMarkings()
    {
        var doc = DocumentText.Extract(Utf8("# Title\n\n(S) The **launch** codes are in [the binder](x.md).\n"), "notes.md");
        Assert.Equal(DocumentType.Markdown, doc.Type);
        Assert.Contains("(S) The launch codes are in the binder.", doc.Text, StringComparison.Ordinal);
        Assert.DoesNotContain("**", doc.Text, StringComparison.Ordinal);
    }

    [Fact]
    public void Html_IsTheBodysText_WithoutScriptsOrStyles_AndParagraphsApart()
    {
        var doc = DocumentText.Extract(Utf8("<html><head><title>T</title><style>p{}</style></head><body><p>(U) one</p><p>(S) two</p><script>var secret=1</script></body></html>"), "page.html");
        Assert.Equal(DocumentType.Html, doc.Type);
        Assert.Contains("(U) one\n", doc.Text, StringComparison.Ordinal);
        Assert.Contains("(S) two", doc.Text, StringComparison.Ordinal);
        Assert.DoesNotContain("var secret", doc.Text, StringComparison.Ordinal);
        Assert.DoesNotContain("p{}", doc.Text, StringComparison.Ordinal);
    }

    [Fact]
    public void Pdf_IsReadPageByPage()
    {
        var doc = DocumentText.Extract(Pdf("(U) first page text", "(S) second page text"), "scan.pdf");
        Assert.Equal((DocumentType.Pdf, 2), (doc.Type, doc.Pages));
        Assert.Contains("first page text", doc.Text, StringComparison.Ordinal);
        Assert.Contains("(S) second page text", doc.Text, StringComparison.Ordinal);
    }

    [Theory]
    [InlineData("notes.exe", DocumentRejection.UnsupportedType)]
    [InlineData("notes", DocumentRejection.UnsupportedType)]
    public void AnUnsupportedType_IsRefused(string name, DocumentRejection reason) =>
        Assert.Equal(reason, Assert.Throws<DocumentRejectedException>(() => DocumentText.Extract(Utf8("text"), name)).Reason);

    [Theory]
    [InlineData("a.txt")]
    [InlineData("a.md")]
    [InlineData("a.html")]
    public void InvalidUtf8_IsRefused(string name)
    {
        var ex = Assert.Throws<DocumentRejectedException>(() => DocumentText.Extract(new byte[] { 0x61, 0xC3, 0x28, 0x62 }, name));
        Assert.Equal(DocumentRejection.InvalidUtf8, ex.Reason);
        Assert.Contains("byte 1", ex.Message, StringComparison.Ordinal);
    }

    [Fact]
    public void ALoneSurrogateEncodedInUtf8_IsRefused() =>
        Assert.Equal(DocumentRejection.InvalidUtf8, Assert.Throws<DocumentRejectedException>(() => DocumentText.Extract(new byte[] { 0x61, 0xED, 0xA0, 0x80 }, "a.txt")).Reason);

    [Theory]
    [InlineData("")]
    [InlineData("  \n\t ")]
    public void ADocumentWithoutText_IsRefused(string text) =>
        Assert.Equal(DocumentRejection.NoText, Assert.Throws<DocumentRejectedException>(() => DocumentText.Extract(Utf8(text), "a.txt")).Reason);

    [Fact]
    public void AFileOverTheBound_IsRefusedBeforeItIsParsed()
    {
        var options = new ExtractionOptions { MaxFileBytes = 10 };
        Assert.Equal(DocumentRejection.TooLarge, Assert.Throws<DocumentRejectedException>(() => DocumentText.Extract(Utf8(new string('a', 11)), "a.txt", options)).Reason);
        Assert.Equal(DocumentRejection.TooLarge, Assert.Throws<DocumentRejectedException>(() => DocumentText.Extract(Utf8(new string('a', 20)), "a.txt", new ExtractionOptions { MaxTextChars = 19 })).Reason);
        Assert.Equal(DocumentRejection.TooLarge, Assert.Throws<DocumentRejectedException>(() => DocumentText.Extract(Pdf("a", "b", "c"), "a.pdf", new ExtractionOptions { MaxPages = 2 })).Reason);
    }

    [Fact]
    public void APdfWithoutItsHeader_IsMalformed() =>
        Assert.Equal(DocumentRejection.Malformed, Assert.Throws<DocumentRejectedException>(() => DocumentText.Extract(Utf8("just text"), "a.pdf")).Reason);

    [Fact]
    public void ATruncatedPdf_IsRefused_AtEveryLength()
    {
        var pdf = Pdf("(S) some text on a page");
        foreach (var length in new[] { 5, 16, pdf.Length / 4, pdf.Length / 2, pdf.Length - 40, pdf.Length - 1 })
        {
            var ex = Record.Exception(() => DocumentText.Extract(pdf.AsMemory(0, length), "a.pdf"));
            Assert.True(ex is null or DocumentRejectedException, $"length {length}: {ex}");
        }
    }

    [Fact]
    public void ATamperedPdf_IsReadOrRefused_NeverAnotherException()
    {
        var pdf = Pdf("(S) some text on a page");
        var random = new Random(14);
        for (var i = 0; i < 300; i++)
        {
            var copy = (byte[])pdf.Clone();
            copy[5 + random.Next(copy.Length - 5)] ^= (byte)(1 << random.Next(8));
            var ex = Record.Exception(() => DocumentText.Extract(copy, "a.pdf"));
            Assert.True(ex is null or DocumentRejectedException, $"flip {i}: {ex}");
        }
    }

    [Fact]
    public void APdfWithADuplicatedObject_IsReadOrRefused_NeverAnotherException()
    {
        var pdf = Encoding.Latin1.GetString(Pdf("(S) some text"));
        int obj = pdf.IndexOf("1 0 obj", StringComparison.Ordinal);
        int end = pdf.IndexOf("endobj", obj, StringComparison.Ordinal) + "endobj".Length;
        var duplicated = Encoding.Latin1.GetBytes(pdf[..end] + "\n" + pdf[obj..end] + pdf[end..]);
        var ex = Record.Exception(() => DocumentText.Extract(duplicated, "a.pdf"));
        Assert.True(ex is null or DocumentRejectedException, ex?.ToString());
    }
}
