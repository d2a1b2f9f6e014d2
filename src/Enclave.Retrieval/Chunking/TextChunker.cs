using Enclave.Policy.Labels;

namespace Enclave.Retrieval.Chunking;

/// <summary>
/// Cuts a document into overlapping chunks at whitespace (inside a word only when a word is longer than a chunk) and
/// labels each one: the document's label, raised by the banner and portion markings found inside the chunk, so a
/// SECRET paragraph in an UNCLASSIFIED document makes a SECRET chunk. A portion marking covers its whole paragraph (text
/// up to the next blank line): every chunk that overlaps a paragraph carries that paragraph's label, so a chunk that
/// starts in the middle of a SECRET paragraph, after its "(S)", is SECRET too. Marking scanning fails closed: a chunk the
/// scanner cannot finish is labelled at the top of the lattice.
/// </summary>
public sealed class TextChunker
{
    private readonly ChunkerOptions _options;
    private readonly RequestLabelExtractor _markings;
    private readonly SecurityLabel _lowest;
    private readonly LabelScheme _scheme;

    public TextChunker(LabelScheme scheme, ChunkerOptions? options = null)
    {
        ArgumentNullException.ThrowIfNull(scheme);
        _options = options ?? new ChunkerOptions();
        _options.Validate();
        _scheme = scheme;
        _lowest = scheme.Lowest;
        _markings = new RequestLabelExtractor(scheme, new LabelExtractionOptions { DefaultLabel = scheme.Lowest });
    }

    /// <summary>The chunks of <paramref name="text"/>, a document labelled <paramref name="documentLabel"/>.</summary>
    /// <exception cref="ArgumentException">The document makes more than <see cref="ChunkerOptions.MaxChunks"/> chunks.</exception>
    public IReadOnlyList<TextChunk> Chunk(string text, SecurityLabel documentLabel)
    {
        ArgumentNullException.ThrowIfNull(text);
        var chunks = new List<TextChunk>();
        var portions = Portions(text);
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
            var scanned = _markings.Extract(null, [piece]);
            var label = documentLabel.Join(scanned.Label);
            List<string>? escalations = scanned.Escalation is { } own ? [$"the chunk: {own}"] : null;
            foreach (var (portionStart, portionEnd, portionLabel, portionEscalation) in portions)
            {
                if (portionStart < end && portionEnd > start)
                {
                    label = label.Join(portionLabel);
                    if (portionEscalation is not null)
                    {
                        (escalations ??= []).Add($"the paragraph at {portionStart}: {portionEscalation}");
                    }
                }
            }

            chunks.Add(new TextChunk(chunks.Count, start, piece, label) { Escalations = (IReadOnlyList<string>?)escalations ?? [] });
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

    /// <summary>The paragraphs of <paramref name="text"/> (separated by a line with only whitespace) and the label of the markings in each.</summary>
    private List<(int Start, int End, SecurityLabel Label, string? Escalation)> Portions(string text)
    {
        var portions = new List<(int, int, SecurityLabel, string?)>();
        int start = 0;
        while (start < text.Length)
        {
            int end = ParagraphEnd(text, start);
            var scanned = _markings.Extract(null, [text[start..end]]);
            if (scanned.Label != _lowest)
            {
                // Only raised paragraphs are kept: a chunk checks these, not every paragraph of the document.
                portions.Add((start, end, scanned.Label, scanned.Escalation));
            }

            start = end + 1;
        }

        return portions;
    }

    /// <summary>
    /// Where the paragraph starting at <paramref name="start"/> ends: at a line of only whitespace, or at a line that starts
    /// with a valid portion marking (<c>(U)</c>, <c>(S//NF)</c>: text extractors such as Markdig's and PdfPig's keep
    /// one line break between paragraphs). A line that starts with another parenthesis does not end the paragraph, so
    /// a SECRET paragraph's label is never cut short by "(see above)".
    /// </summary>
    private int ParagraphEnd(string text, int start)
    {
        int i = text.IndexOf('\n', start);
        while (i >= 0)
        {
            int j = i + 1;
            while (j < text.Length && text[j] is ' ' or '\t' or '\r' or '\f' or '\v')
            {
                j++;
            }

            if (j >= text.Length || text[j] == '\n' || StartsWithPortionMarking(text, j))
            {
                return i;
            }

            i = text.IndexOf('\n', j);
        }

        return text.Length;
    }

    private bool StartsWithPortionMarking(string text, int at)
    {
        if (text[at] != '(')
        {
            return false;
        }

        int close = text.IndexOf(')', at, Math.Min(text.Length - at, _scheme.MaxMarkingLength + 2));
        return close > at && _scheme.TryParse(text[at..(close + 1)], portion: true, out _, out _) == MarkingError.None;
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
