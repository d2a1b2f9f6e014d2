using System.Text;
using Enclave.Retrieval.Extraction;
using UglyToad.PdfPig.Content;
using UglyToad.PdfPig.Fonts.Standard14Fonts;
using UglyToad.PdfPig.Writer;

namespace Enclave.Fuzz.Targets;

/// <summary>
/// <see cref="DocumentText.Extract"/> (uploaded documents, <c>POST /v1/files</c>): the first byte picks the type
/// (0 plain text, 1 Markdown, 2 HTML, anything else PDF), the rest is the file. Rejection is
/// <see cref="DocumentRejectedException"/>; anything else would be a 500 at the upload endpoint.
/// </summary>
internal static class DocumentTarget
{
    private static readonly string[] Names = ["doc.txt", "doc.md", "doc.html", "doc.pdf"];

    public static Harness Harness { get; } = new()
    {
        Name = "document",
        Parser = "Enclave.Retrieval.Extraction.DocumentText",
        Run = Run,
        Seeds = () =>
        [
            Typed("text", 0, Encoding.UTF8.GetBytes("UNCLASSIFIED\n\n(U) The canteen opens at eight.\n\n(S//NF) The convoy moves at dawn.\n")),
            Typed("markdown", 1, Encoding.UTF8.GetBytes("# Handbook\n\n(U) The **canteen** opens at [eight](x.md).\n\n- (S) a list item\n\n```\ncode\n```\n")),
            Typed("html", 2, Encoding.UTF8.GetBytes("<html><head><title>T</title><style>p{}</style></head><body><p>(U) one</p><div>(S) two<br>three</div><script>x=1</script></body></html>")),
            Typed("pdf", 3, Pdf("(U) first page", "(S) second page")),
        ],
    };

    private static (string Name, byte[] Bytes) Typed(string name, byte type, byte[] content) => (name, [type, .. content]);

    private static byte[] Pdf(params string[] pages)
    {
        using var builder = new PdfDocumentBuilder();
        var font = builder.AddStandard14Font(Standard14Font.Helvetica);
        foreach (var text in pages)
        {
            builder.AddPage(PageSize.A4).AddText(text, 12, new UglyToad.PdfPig.Core.PdfPoint(25, 700), font);
        }

        return builder.Build();
    }

    private static void Run(byte[] input)
    {
        if (input.Length == 0)
        {
            return;
        }

        try
        {
            DocumentText.Extract(input.AsMemory(1), Names[Math.Min((int)input[0], Names.Length - 1)], new ExtractionOptions { MaxFileBytes = 1 << 20, MaxPages = 50, MaxTextChars = 1 << 20 });
        }
        catch (DocumentRejectedException)
        {
        }
    }
}
