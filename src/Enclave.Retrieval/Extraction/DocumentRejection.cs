namespace Enclave.Retrieval.Extraction;

/// <summary>Why an uploaded document's text could not be extracted.</summary>
public enum DocumentRejection
{
    /// <summary>The file's type (by its name's extension) is not one Enclave extracts: plain text, Markdown, HTML, PDF.</summary>
    UnsupportedType = 1,

    /// <summary>A text file (plain, Markdown, HTML) is not valid UTF-8.</summary>
    InvalidUtf8,

    /// <summary>The file does not parse as its type (a PDF without its header, a damaged cross-reference table...).</summary>
    Malformed,

    /// <summary>The file, its page count or its extracted text is larger than <see cref="ExtractionOptions"/> allows.</summary>
    TooLarge,

    /// <summary>Nothing to index: the document has no text (an empty file, a PDF of scanned images).</summary>
    NoText,

    /// <summary>A document of a <c>dataset</c> bundle is labelled, or holds a marking, above the bundle's own label.</summary>
    LabelAboveBundle,
}
