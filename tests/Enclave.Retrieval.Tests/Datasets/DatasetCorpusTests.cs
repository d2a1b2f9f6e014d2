using System.Text;
using Enclave.Policy.Labels;
using Enclave.Retrieval.Chunking;
using Enclave.Retrieval.Datasets;
using Enclave.Retrieval.Extraction;

namespace Enclave.Retrieval.Tests.Datasets;

/// <summary>
/// The documents of a dataset bundle read as uploads are: labelled by the manifest or the bundle, raised by their
/// markings, and refused, every problem named, when one cannot be indexed or holds a label above the bundle's.
/// </summary>
public sealed class DatasetCorpusTests
{
    private static readonly LabelScheme Scheme = LabelScheme.Default;

    private static readonly DatasetCorpus Corpus = new(Scheme, new TextChunker(Scheme, new ChunkerOptions { MaxChars = 80, OverlapChars = 20 }), new ExtractionOptions { MaxFileBytes = 4096 });

    private static readonly SecurityLabel Secret = Scheme.ParseMarking("SECRET");

    private static readonly SecurityLabel Unclassified = Scheme.ParseMarking("UNCLASSIFIED");

    private const string Handbook = "(U) The canteen opens at eight in the morning and serves coffee, tea and soup all day long to the staff of the building.\n\n(S) Operation NIGHTJAR moves the convoy north on the fourth of May at dawn.";

    private static DatasetFile File(string path, string text)
    {
        var bytes = Encoding.UTF8.GetBytes(text);
        return new DatasetFile(path, bytes.Length, () => new MemoryStream(bytes, writable: false));
    }

    private static DatasetFile File(string path, byte[] bytes) => new(path, bytes.Length, () => new MemoryStream(bytes, writable: false));

    [Fact]
    public void Prepare_LabelsADocumentByTheManifest_RaisedByItsPortionMarkings()
    {
        DatasetFile[] files = [File("handbook.md", Handbook), File(DatasetManifest.FileName, """{"labels":{"handbook.md":"UNCLASSIFIED"}}""")];
        var manifest = Corpus.ReadManifest(files, Secret);

        var document = Corpus.Prepare(files[0], manifest, Secret);

        Assert.Equal(Unclassified, document.Label);
        Assert.Equal(Secret, document.Highest);
        Assert.Contains(document.Chunks, c => c.Label == Unclassified && c.Text.Contains("canteen", StringComparison.Ordinal));
        Assert.All(document.Chunks.Where(c => c.Text.Contains("NIGHTJAR", StringComparison.Ordinal)), c => Assert.Equal(Secret, c.Label));
        Assert.Empty(Corpus.Check(files, Secret, 10));
    }

    [Fact]
    public void Prepare_WithoutAManifestLabel_TakesTheBundlesLabel()
    {
        var document = Corpus.Prepare(File("plain.txt", "The canteen opens at eight."), new DatasetManifest(), Secret);

        Assert.All(document.Chunks, c => Assert.Equal(Secret, c.Label));
    }

    [Fact]
    public void Check_RefusesASecretPortionInAnUnclassifiedBundle_NamingTheDocument()
    {
        var problems = Corpus.Check([File("handbook.md", Handbook)], Unclassified, 10);

        var problem = Assert.Single(problems);
        Assert.Contains("handbook.md", problem, StringComparison.Ordinal);
        Assert.Contains("marked SECRET, above the bundle's label UNCLASSIFIED", problem, StringComparison.Ordinal);
        Assert.Equal(DocumentRejection.LabelAboveBundle, Assert.Throws<DocumentRejectedException>(() => Corpus.Prepare(File("handbook.md", Handbook), new DatasetManifest(), Unclassified)).Reason);
    }

    [Fact]
    public void Prepare_ADocumentWhoseMarkingScanCannotFinish_IsRefusedSayingWhy_NotAsMarkedTopSecret()
    {
        // One paragraph of 4,097 portion markings, over the scan's bound of 4,096 (LabelExtractionOptions.MaxMarkings):
        // the scan stops and the paragraph is labelled at the top of the lattice, fail closed, as a scan that timed out
        // on a busy machine is (the soak benchmark of issue 18 saw that refusal reported as a TOP SECRET marking).
        var text = string.Concat(Enumerable.Repeat("(U) ", 4097)).TrimEnd();
        var chunker = new TextChunker(Scheme);
        var corpus = new DatasetCorpus(Scheme, chunker, new ExtractionOptions { MaxFileBytes = 64 * 1024 });

        var chunks = chunker.Chunk(text, Unclassified);
        Assert.All(chunks, c => Assert.Equal(Scheme.Highest, c.Label));
        Assert.All(chunks, c => Assert.Equal(["the paragraph at 0: over 4096 markings found, the scanning limit"], c.Escalations));
        Assert.All(chunker.Chunk(Handbook, Unclassified), c => Assert.Empty(c.Escalations));

        var e = Assert.Throws<DocumentRejectedException>(() => corpus.Prepare(File("markings.txt", text), new DatasetManifest(), Unclassified));
        Assert.Equal(DocumentRejection.LabelAboveBundle, e.Reason);
        Assert.Contains("markings.txt: its chunk 0 could not be scanned for markings (the paragraph at 0: over 4096 markings found, the scanning limit)", e.Message, StringComparison.Ordinal);
        Assert.Contains($"so it is labelled {Scheme.FormatBanner(Scheme.Highest)}, above the bundle's label UNCLASSIFIED", e.Message, StringComparison.Ordinal);
        Assert.DoesNotContain("is marked", e.Message, StringComparison.Ordinal);
    }

    [Fact]
    public void Check_NamesEveryProblem_UnknownTypesOversizedAndUnreadableFiles()
    {
        DatasetFile[] files =
        [
            File("good.txt", "The canteen opens at eight."),
            File("slides.pptx", "not a document"),
            File("huge.txt", new string('a', 5000)),
            File("bad.txt", [0x41, 0xC3, 0x28]),
            File("empty.md", "   "),
        ];

        var problems = Corpus.Check(files, Secret, 10);

        Assert.Equal(4, problems.Count);
        Assert.Contains(problems, p => p.StartsWith("slides.pptx: '.pptx' files are not extracted", StringComparison.Ordinal));
        Assert.Contains(problems, p => p.StartsWith("huge.txt: the file is 5000 bytes; at most 4096", StringComparison.Ordinal));
        Assert.Contains(problems, p => p.StartsWith("bad.txt:", StringComparison.Ordinal));
        Assert.Contains(problems, p => p.StartsWith("empty.md:", StringComparison.Ordinal));
    }

    [Fact]
    public void Check_RefusesAManifestLabelAboveTheBundle_OrForADocumentThatIsNotThere()
    {
        DatasetFile[] files = [File("a.txt", "Alpha."), File(DatasetManifest.FileName, """{"labels":{"a.txt":"TOP SECRET","b.txt":"UNCLASSIFIED","a.txt ":"NOT A LEVEL"}}""")];

        var problem = Assert.Single(Corpus.Check(files, Secret, 10));

        Assert.Contains("the label of 'a.txt', TOP SECRET, is above the bundle's label SECRET", problem, StringComparison.Ordinal);
        Assert.Contains("'b.txt', which is not a document of the dataset", problem, StringComparison.Ordinal);
        Assert.Contains("'a.txt ', which is not a document", problem, StringComparison.Ordinal);
    }

    [Fact]
    public void Check_SkipsAttestations_AndRefusesAnEmptyOrTooLargeDataset()
    {
        Assert.Empty(Corpus.Check([File("a.txt", "Alpha."), File(".attestations/sbom.cdx.json", "{}")], Secret, 10));
        Assert.Equal("the dataset holds no documents", Assert.Single(Corpus.Check([File(".attestations/sbom.cdx.json", "{}")], Secret, 10)));
        Assert.Contains("at most 1 per bundle", Assert.Single(Corpus.Check([File("a.txt", "Alpha."), File("b.txt", "Beta.")], Secret, 1)), StringComparison.Ordinal);
    }

    [Fact]
    public void Check_AFileShorterThanItsRecordedLength_IsRefused()
    {
        var file = new DatasetFile("short.txt", 100, () => new MemoryStream(Encoding.UTF8.GetBytes("only a few bytes")));

        Assert.Contains("shorter than its recorded 100 bytes", Assert.Single(Corpus.Check([file], Secret, 10)), StringComparison.Ordinal);
    }
}
