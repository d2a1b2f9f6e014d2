using Enclave.Policy.Labels;
using Enclave.Retrieval.Chunking;

namespace Enclave.Retrieval.Tests;

public sealed class TextChunkerTests
{
    private static readonly LabelScheme Scheme = LabelScheme.Default;

    private static string Prose(int words, int seed) =>
        string.Join(' ', Enumerable.Range(0, words).Select(i => $"word{seed}x{i}"));

    [Fact]
    public void Chunk_ASecretPortionInsideAnUnclassifiedDocument_MakesASecretChunkAndLeavesTheOthers()
    {
        var chunker = new TextChunker(Scheme, new ChunkerOptions { MaxChars = 200, OverlapChars = 40 });
        string text = Prose(60, 1) + "\n\n(S) The launch codes are in the blue binder. " + Prose(60, 2);

        IReadOnlyList<TextChunk> chunks = chunker.Chunk(text, Scheme.ParseMarking("UNCLASSIFIED"));

        SecurityLabel secret = Scheme.ParseMarking("SECRET");
        Assert.Contains(chunks, c => c.Text.Contains("launch codes", StringComparison.Ordinal) && c.Label == secret);
        // The marking covers its paragraph: every chunk with a word of it is SECRET, those wholly before it are not.
        int paragraph = text.IndexOf("(S)", StringComparison.Ordinal);
        Assert.All(chunks.Where(c => c.Start + c.Text.Length <= paragraph), c => Assert.Equal(Scheme.ParseMarking("UNCLASSIFIED"), c.Label));
        Assert.All(chunks.Where(c => c.Start + c.Text.Length > paragraph), c => Assert.Equal(secret, c.Label));
        Assert.Contains(chunks, c => c.Label == Scheme.ParseMarking("UNCLASSIFIED"));
    }

    [Fact]
    public void Chunk_AParagraphEndsAtALineStartingWithAPortionMarking_ButNotAtAnyParenthesis()
    {
        // Markdig's and PdfPig's text keeps one line break between paragraphs.
        var chunker = new TextChunker(Scheme, new ChunkerOptions { MaxChars = 60, OverlapChars = 0 });
        string text = "(U) " + Prose(8, 6) + "\n(S) " + Prose(8, 7) + "\n(see above) " + Prose(8, 8) + "\n(U) " + Prose(8, 9);

        IReadOnlyList<TextChunk> chunks = chunker.Chunk(text, Scheme.ParseMarking("UNCLASSIFIED"));

        SecurityLabel secret = Scheme.ParseMarking("SECRET");
        Assert.All(chunks.Where(c => c.Text.Contains("word7x", StringComparison.Ordinal) || c.Text.Contains("word8x", StringComparison.Ordinal)), c => Assert.Equal(secret, c.Label));
        Assert.Contains(chunks, c => c.Label == Scheme.ParseMarking("UNCLASSIFIED") && c.Text.Contains("word6x", StringComparison.Ordinal));
        Assert.Contains(chunks, c => c.Label == Scheme.ParseMarking("UNCLASSIFIED") && c.Text.Contains("word9x", StringComparison.Ordinal));
    }

    [Fact]
    public void Chunk_StartingInsideASecretParagraphAfterItsMarking_IsSecret_AndTheNextParagraphIsNot()
    {
        var chunker = new TextChunker(Scheme, new ChunkerOptions { MaxChars = 100, OverlapChars = 0 });
        string secretParagraph = "(S) " + Prose(40, 4);
        string text = secretParagraph + "\n  \n(U) " + Prose(40, 5);

        IReadOnlyList<TextChunk> chunks = chunker.Chunk(text, Scheme.ParseMarking("UNCLASSIFIED"));

        SecurityLabel secret = Scheme.ParseMarking("SECRET");
        Assert.Contains(chunks, c => !c.Text.Contains("(S)", StringComparison.Ordinal) && c.Text.Contains("word4x", StringComparison.Ordinal));
        Assert.All(chunks.Where(c => c.Text.Contains("word4x", StringComparison.Ordinal)), c => Assert.Equal(secret, c.Label));
        Assert.All(chunks.Where(c => !c.Text.Contains("word4x", StringComparison.Ordinal)), c => Assert.Equal(Scheme.ParseMarking("UNCLASSIFIED"), c.Label));
    }

    [Fact]
    public void Chunk_KeepsTheDocumentLabelWhenAMarkingIsLower()
    {
        var chunker = new TextChunker(Scheme);

        IReadOnlyList<TextChunk> chunks = chunker.Chunk("(U) nothing to see here", Scheme.ParseMarking("SECRET"));

        Assert.Equal(Scheme.ParseMarking("SECRET"), Assert.Single(chunks).Label);
    }

    [Fact]
    public void Chunk_CoversEveryWordAndOverlapsNeighbours()
    {
        var options = new ChunkerOptions { MaxChars = 120, OverlapChars = 30 };
        string text = Prose(300, 3);

        IReadOnlyList<TextChunk> chunks = new TextChunker(Scheme, options).Chunk(text, Scheme.Lowest);

        Assert.All(chunks, c => Assert.InRange(c.Text.Length, 1, options.MaxChars));
        Assert.All(chunks, c => Assert.Equal(text.Substring(c.Start, c.Text.Length), c.Text));
        var covered = chunks.SelectMany(c => c.Text.Split(' ')).ToHashSet(StringComparer.Ordinal);
        Assert.All(text.Split(' '), w => Assert.Contains(w, covered));
        for (int i = 1; i < chunks.Count; i++)
        {
            Assert.True(chunks[i].Start < chunks[i - 1].Start + chunks[i - 1].Text.Length, $"chunk {i} does not overlap chunk {i - 1}");
            Assert.True(chunks[i].Start > chunks[i - 1].Start, $"chunk {i} does not move forward");
        }
    }

    [Fact]
    public void Chunk_CutsAWordLongerThanAChunk()
    {
        var options = new ChunkerOptions { MaxChars = 50, OverlapChars = 10 };
        string text = new('a', 500);

        IReadOnlyList<TextChunk> chunks = new TextChunker(Scheme, options).Chunk(text, Scheme.Lowest);

        Assert.All(chunks, c => Assert.InRange(c.Text.Length, 1, options.MaxChars));
        Assert.Equal(text.Length, chunks[^1].Start + chunks[^1].Text.Length);
    }

    [Fact]
    public void Chunk_RefusesADocumentOverTheChunkLimit()
    {
        var chunker = new TextChunker(Scheme, new ChunkerOptions { MaxChars = 20, OverlapChars = 0, MaxChunks = 3 });

        Assert.Throws<ArgumentException>(() => chunker.Chunk(Prose(100, 4), Scheme.Lowest));
    }

    [Fact]
    public void Chunk_OfAnEmptyOrBlankDocument_IsNothing()
    {
        var chunker = new TextChunker(Scheme);

        Assert.Empty(chunker.Chunk(string.Empty, Scheme.Lowest));
        Assert.Empty(chunker.Chunk(" \n\t ", Scheme.Lowest));
    }
}
