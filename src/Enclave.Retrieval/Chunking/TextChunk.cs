using Enclave.Policy.Labels;

namespace Enclave.Retrieval.Chunking;

/// <summary>One chunk of a document: where it lies in the text, the text, and its label.</summary>
/// <param name="Index">Position of the chunk in the document, from 0.</param>
/// <param name="Start">Offset of the chunk's first character in the document text.</param>
/// <param name="Text">The chunk's text.</param>
/// <param name="Label">The document's label joined with every marking found inside the chunk.</param>
public sealed record TextChunk(int Index, int Start, string Text, SecurityLabel Label)
{
    /// <summary>
    /// Why the marking scan of the chunk, or of a paragraph it overlaps, could not finish (a bound reached, or a match
    /// that timed out), so that <see cref="Label"/> is the top of the lattice whatever the text holds; empty when every
    /// scan finished.
    /// </summary>
    public IReadOnlyList<string> Escalations { get; init; } = [];
}
