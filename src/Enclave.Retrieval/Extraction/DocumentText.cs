using System.Text;
using AngleSharp.Html.Parser;
using UglyToad.PdfPig;
using UglyToad.PdfPig.Core;
using UglyToad.PdfPig.DocumentLayoutAnalysis.TextExtractor;

namespace Enclave.Retrieval.Extraction;

/// <summary>
/// The text of an uploaded document, by its type: plain text and Markdown (Markdig) and HTML (AngleSharp) as strict
/// UTF-8, PDF page by page (PdfPig, lenient parsing off). Every failure of the input is a
/// <see cref="DocumentRejectedException"/> with its reason, never another exception: the upload endpoint answers it
/// with a 400. Sizes are bounded by <see cref="ExtractionOptions"/> before and during parsing.
/// </summary>
public static class DocumentText
{
    private static readonly UTF8Encoding StrictUtf8 = new(encoderShouldEmitUTF8Identifier: false, throwOnInvalidBytes: true);

    /// <summary>The type of a file named <paramref name="filename"/>, by its extension; null when Enclave does not extract it.</summary>
    public static DocumentType? TypeOf(string filename)
    {
        ArgumentNullException.ThrowIfNull(filename);
        return Path.GetExtension(filename).ToUpperInvariant() switch
        {
            ".TXT" or ".TEXT" or ".LOG" or ".CSV" => DocumentType.PlainText,
            ".MD" or ".MARKDOWN" => DocumentType.Markdown,
            ".HTML" or ".HTM" => DocumentType.Html,
            ".PDF" => DocumentType.Pdf,
            _ => null,
        };
    }

    /// <summary>Extracts the text of <paramref name="content"/>, a file named <paramref name="filename"/>.</summary>
    /// <exception cref="DocumentRejectedException">The document cannot be read (the reason says why).</exception>
    public static ExtractedDocument Extract(ReadOnlyMemory<byte> content, string filename, ExtractionOptions? options = null)
    {
        options ??= new ExtractionOptions();
        var type = TypeOf(filename) ?? throw new DocumentRejectedException(
            DocumentRejection.UnsupportedType,
            $"'{Path.GetExtension(filename)}' files are not extracted; upload plain text (.txt), Markdown (.md), HTML (.html) or PDF (.pdf)");
        if (content.Length > options.MaxFileBytes)
        {
            throw new DocumentRejectedException(DocumentRejection.TooLarge, $"the file is {content.Length} bytes; at most {options.MaxFileBytes} are extracted");
        }

        var (text, pages) = type switch
        {
            DocumentType.PlainText => (Utf8(content.Span), 1),
            DocumentType.Markdown => (Markdown(Utf8(content.Span)), 1),
            DocumentType.Html => (Html(Utf8(content.Span)), 1),
            _ => Pdf(content, options),
        };
        if (text.Length > options.MaxTextChars)
        {
            throw new DocumentRejectedException(DocumentRejection.TooLarge, $"the document's text is {text.Length} characters; at most {options.MaxTextChars} are indexed");
        }

        if (string.IsNullOrWhiteSpace(text))
        {
            throw new DocumentRejectedException(DocumentRejection.NoText, $"the {type} document has no text to index (empty, or only images)");
        }

        return new ExtractedDocument(type, text, pages);
    }

    private static string Utf8(ReadOnlySpan<byte> bytes)
    {
        if (bytes.StartsWith((ReadOnlySpan<byte>)[0xEF, 0xBB, 0xBF]))
        {
            bytes = bytes[3..];
        }

        try
        {
            return StrictUtf8.GetString(bytes);
        }
        catch (DecoderFallbackException ex)
        {
            throw new DocumentRejectedException(DocumentRejection.InvalidUtf8, $"the file is not valid UTF-8 (at byte {ex.Index}); save it as UTF-8 and upload it again", ex);
        }
    }

    private static string Markdown(string markdown)
    {
        // Plain text as Markdig renders it: markup gone, link text and code kept. Portion markings such as "(S)" are text
        // and survive, so the chunker still finds them.
        var pipeline = new Markdig.MarkdownPipelineBuilder().Build();
        try
        {
            return Markdig.Markdown.ToPlainText(markdown, pipeline);
        }
        catch (ArgumentException ex) when (ex.TargetSite?.DeclaringType?.Assembly == typeof(Markdig.Markdown).Assembly)
        {
            // Markdig refuses input nested past its depth limit with ArgumentException (fuzz finding 13): a refused
            // document, never a 500. Only when Markdig itself threw it.
            throw new DocumentRejectedException(DocumentRejection.Malformed, $"the Markdown could not be read ({ex.Message}); upload it as plain text", ex);
        }
    }

    private static string Html(string html)
    {
        var parser = new HtmlParser(new HtmlParserOptions { IsScripting = false });
        using var document = parser.ParseDocument(html);
        foreach (var hidden in document.QuerySelectorAll("script, style, template, noscript").ToList())
        {
            hidden.Remove();
        }

        // Block elements end a line, so that paragraphs (and their portion markings) stay apart.
        foreach (var block in document.QuerySelectorAll("p, div, li, h1, h2, h3, h4, h5, h6, tr, br, section, article, pre, blockquote"))
        {
            block.Append(document.CreateTextNode("\n"));
        }

        var title = document.Title;
        var body = document.Body?.TextContent ?? string.Empty;
        return string.IsNullOrWhiteSpace(title) ? body : title + "\n\n" + body;
    }

    private static (string Text, int Pages) Pdf(ReadOnlyMemory<byte> content, ExtractionOptions options)
    {
        if (!content.Span.StartsWith("%PDF-"u8))
        {
            throw new DocumentRejectedException(DocumentRejection.Malformed, "the file is named .pdf but does not start with a PDF header ('%PDF-')");
        }

        try
        {
            using var document = PdfDocument.Open(content.ToArray(), new ParsingOptions { UseLenientParsing = false, SkipMissingFonts = true });
            if (document.NumberOfPages > options.MaxPages)
            {
                throw new DocumentRejectedException(DocumentRejection.TooLarge, $"the PDF has {document.NumberOfPages} pages; at most {options.MaxPages} are extracted");
            }

            var text = new StringBuilder();
            for (var i = 1; i <= document.NumberOfPages; i++)
            {
                if (i > 1)
                {
                    text.Append("\n\n");
                }

                text.Append(ContentOrderTextExtractor.GetText(document.GetPage(i)));
                if (text.Length > options.MaxTextChars)
                {
                    throw new DocumentRejectedException(DocumentRejection.TooLarge, $"the PDF's text passes {options.MaxTextChars} characters by page {i}; at most that many are indexed");
                }
            }

            return (text.ToString(), document.NumberOfPages);
        }
        catch (DocumentRejectedException)
        {
            throw;
        }
        catch (Exception ex) when (ex is PdfDocumentFormatException or UglyToad.PdfPig.Core.PdfDocumentStackDepthException or InvalidOperationException or ArgumentException or IndexOutOfRangeException
            or NullReferenceException or InvalidCastException or KeyNotFoundException or FormatException or OverflowException or IOException
            or NotSupportedException or NotImplementedException or DivideByZeroException or EndOfStreamException)
        {
            // A damaged or hostile PDF surfaces as whichever exception the parser met first: all of them are a refused
            // document (fail closed), never a 500. Found by the document-extraction fuzz harness (fuzz/).
            throw new DocumentRejectedException(DocumentRejection.Malformed, $"the PDF could not be read ({ex.GetType().Name}: {ex.Message}); check that it opens in a PDF reader, or upload its text", ex);
        }
    }
}
