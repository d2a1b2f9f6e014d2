namespace Enclave.Retrieval.Extraction;

/// <summary>The document types whose text Enclave extracts.</summary>
public enum DocumentType
{
    /// <summary><c>.txt</c>, <c>.text</c>, <c>.log</c>, <c>.csv</c>: UTF-8 text taken as it is.</summary>
    PlainText,

    /// <summary><c>.md</c>, <c>.markdown</c>: CommonMark, reduced to its text by Markdig.</summary>
    Markdown,

    /// <summary><c>.html</c>, <c>.htm</c>: parsed as HTML5 by AngleSharp; the body's text without scripts and styles.</summary>
    Html,

    /// <summary><c>.pdf</c>: each page's text in reading order, by PdfPig.</summary>
    Pdf,
}
