namespace Enclave.Retrieval.Extraction;

/// <summary>A document's text, ready to be chunked.</summary>
/// <param name="Type">The type it was read as.</param>
/// <param name="Text">The text (pages of a PDF separated by a blank line).</param>
/// <param name="Pages">Pages read: a PDF's page count, 1 for any other type.</param>
public sealed record ExtractedDocument(DocumentType Type, string Text, int Pages);
