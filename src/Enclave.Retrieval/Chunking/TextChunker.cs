using Enclave.Policy.Labels;

namespace Enclave.Retrieval.Chunking;

/// <summary>
/// Cuts a document into overlapping chunks at whitespace (inside a word only when a word is longer than a chunk) and
/// labels each one: the document's label, raised by the banner and portion markings found inside the chunk, so a
/// SECRET paragraph in an UNCLASSIFIED document makes a SECRET chunk. Marking scanning fails closed: a chunk the scanner
/// cannot finish is labelled at the top of the lattice.
/// </summary>
public sealed class TextChunker
{
    private readonly ChunkerOptions _options;
    private readonly RequestLabelExtractor _markings;

    public TextChunker(LabelScheme scheme, ChunkerOptions? options = null)
    {
        ArgumentNullException.ThrowIfNull(scheme);
        _options = options ?? new ChunkerOptions();
        _options.Validate();
        _markings = new RequestLabelExtractor(scheme, new LabelExtractionOptions { DefaultLabel = scheme.Lowest });
    }

    /// <summary>The chunks of <paramref name="text"/>, a document labelled <paramref name="documentLabel"/>.</summary>
    /// <exception cref="ArgumentException">The document makes more than <see cref="ChunkerOptions.MaxChunks"/> chunks.</exception>
    public IReadOnlyList<TextChunk> Chunk(string text, SecurityLabel documentLabel)
    {
        ArgumentNullException.ThrowIfNull(text);
        var chunks = new List<TextChunk>();
        int start = SkipWhitespace(text, 0);
        while (start < text.Length)
        {
            if (chunks.Count >= _options.MaxChunks)
            {
                throw new ArgumentException($"the document makes more than {_options.MaxChunks} chunks (ChunkerOptions.MaxChunks)", nameof(text));
            }

            int end = Math.Min(text.Length, start + _options.MaxChars);
            if (end < text.Length)
            {
                // Back to the last whitespace in the second half of the window, if there is one.
                int cut = text.LastIndexOfAny(Whitespace, end - 1, end - start - (_options.MaxChars / 2));
                if (cut > start)
                {
                    end = cut;
                }
            }

            string piece = text[start..end].TrimEnd();
            chunks.Add(new TextChunk(chunks.Count, start, piece, documentLabel.Join(_markings.Extract(null, [piece]).Label)));
            if (end >= text.Length)
            {
                break;
            }

            // The next chunk starts OverlapChars before this one ended, at a word start, and always moves forward.
            int next = end - _options.OverlapChars;
            if (next > start)
            {
                int space = text.IndexOfAny(Whitespace, next, end - next);
                next = space >= 0 ? space : next;
            }

            start = SkipWhitespace(text, Math.Max(next, start + 1));
        }

        return chunks;
    }

    private static readonly char[] Whitespace = [' ', '\t', '\n', '\r', '\f', '\v', '\u00a0', '\u2028', '\u2029', '\u3000'];

    private static int SkipWhitespace(string text, int i)
    {
        while (i < text.Length && char.IsWhiteSpace(text[i]))
        {
            i++;
        }

        return i;
    }
}
