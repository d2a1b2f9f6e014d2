using Enclave.Policy.Labels;
using Enclave.Retrieval.Chunking;
using Enclave.Retrieval.Extraction;

namespace Enclave.Retrieval.Datasets;

/// <summary>
/// The documents of a <c>dataset</c> bundle, read as uploads are: every content file extracted, cut into chunks and each
/// chunk labelled with its document's label (the manifest's, else the bundle's) raised by the markings found in it.
/// The bundle's label is the ceiling: a document labelled above it, or holding a marking above it, is refused, as is a
/// file Enclave cannot extract (an unknown type, malformed, oversized). <see cref="Check"/> reads everything and reports
/// every problem, so that the airlock refuses the bundle before anyone approves it; <see cref="Prepare"/> reads one
/// document for indexing once the bundle is activated.
/// </summary>
public sealed class DatasetCorpus
{
    /// <summary>The folder of attestations (SBOM, provenance) inside an artifact: not documents.</summary>
    public const string AttestationsFolder = ".attestations/";

    private readonly LabelScheme _scheme;
    private readonly TextChunker _chunker;
    private readonly ExtractionOptions _extraction;

    /// <summary>A reader of dataset corpora labelled in <paramref name="scheme"/>.</summary>
    public DatasetCorpus(LabelScheme scheme, TextChunker chunker, ExtractionOptions extraction)
    {
        ArgumentNullException.ThrowIfNull(scheme);
        ArgumentNullException.ThrowIfNull(chunker);
        ArgumentNullException.ThrowIfNull(extraction);
        (_scheme, _chunker, _extraction) = (scheme, chunker, extraction);
    }

    /// <summary>Whether the file at <paramref name="path"/> (relative, '/'-separated) is a document of the corpus.</summary>
    public static bool IsDocument(string path)
    {
        ArgumentNullException.ThrowIfNull(path);
        return !path.StartsWith(AttestationsFolder, StringComparison.Ordinal) && path != DatasetManifest.FileName;
    }

    /// <summary>The manifest among <paramref name="files"/>, or an empty one when the corpus has none.</summary>
    /// <exception cref="DocumentRejectedException">The manifest is refused, or names a label that is not valid or above the bundle's, or a document the corpus lacks.</exception>
    public DatasetManifest ReadManifest(IReadOnlyList<DatasetFile> files, SecurityLabel bundleLabel)
    {
        ArgumentNullException.ThrowIfNull(files);
        var file = files.FirstOrDefault(f => f.Path == DatasetManifest.FileName);
        if (file is null)
        {
            return new DatasetManifest();
        }

        var manifest = DatasetManifest.Parse(ReadBounded(file, DatasetManifest.MaxBytes, DatasetManifest.FileName));
        var documents = files.Where(f => IsDocument(f.Path)).Select(f => f.Path).ToHashSet(StringComparer.Ordinal);
        var problems = new List<string>();
        foreach (var (path, marking) in manifest.Labels)
        {
            if (!documents.Contains(path))
            {
                problems.Add($"labels names '{path}', which is not a document of the dataset");
            }
            else if (_scheme.TryParse(marking, portion: false, out var label, out var message) != MarkingError.None)
            {
                problems.Add($"the label of '{path}' is not a valid marking: {message}");
            }
            else if (!bundleLabel.Dominates(label))
            {
                problems.Add($"the label of '{path}', {_scheme.FormatBanner(label)}, is above the bundle's label {_scheme.FormatBanner(bundleLabel)}");
            }
        }

        return problems.Count > 0
            ? throw new DocumentRejectedException(DocumentRejection.Malformed, $"{DatasetManifest.FileName} is refused: {string.Join("; ", problems)}")
            : manifest;
    }

    /// <summary>
    /// Reads every document of <paramref name="files"/> as <see cref="Prepare"/> does and returns every problem found
    /// (empty when the whole corpus can be indexed). At most <paramref name="maxDocuments"/> documents.
    /// </summary>
    public IReadOnlyList<string> Check(IReadOnlyList<DatasetFile> files, SecurityLabel bundleLabel, int maxDocuments)
    {
        ArgumentNullException.ThrowIfNull(files);
        DatasetManifest manifest;
        try
        {
            manifest = ReadManifest(files, bundleLabel);
        }
        catch (DocumentRejectedException ex)
        {
            return [ex.Message];
        }

        var documents = files.Where(f => IsDocument(f.Path)).ToList();
        if (documents.Count == 0)
        {
            return ["the dataset holds no documents"];
        }

        if (documents.Count > maxDocuments)
        {
            return [$"the dataset holds {documents.Count} documents; this enclave indexes at most {maxDocuments} per bundle (Retrieval:DatasetMaxDocuments)"];
        }

        var problems = new List<string>();
        foreach (var file in documents)
        {
            try
            {
                Prepare(file, manifest, bundleLabel);
            }
            catch (DocumentRejectedException ex)
            {
                problems.Add(ex.Message);
            }
        }

        return problems;
    }

    /// <summary>Extracts, chunks and labels one document of the corpus.</summary>
    /// <exception cref="DocumentRejectedException">The document cannot be indexed; the message names it and says why.</exception>
    public DatasetDocument Prepare(DatasetFile file, DatasetManifest manifest, SecurityLabel bundleLabel)
    {
        ArgumentNullException.ThrowIfNull(file);
        ArgumentNullException.ThrowIfNull(manifest);
        var label = manifest.Labels.TryGetValue(file.Path, out var marking) ? _scheme.ParseBanner(marking) : bundleLabel;
        if (DocumentText.TypeOf(file.Path) is null)
        {
            throw new DocumentRejectedException(DocumentRejection.UnsupportedType, $"{file.Path}: '{Path.GetExtension(file.Path)}' files are not extracted; a dataset holds plain text (.txt), Markdown (.md), HTML (.html) and PDF (.pdf) documents");
        }

        var content = ReadBounded(file, _extraction.MaxFileBytes, file.Path);
        ExtractedDocument document;
        IReadOnlyList<TextChunk> chunks;
        try
        {
            document = DocumentText.Extract(content, file.Path, _extraction);
            chunks = _chunker.Chunk(document.Text, label);
        }
        catch (DocumentRejectedException ex)
        {
            throw new DocumentRejectedException(ex.Reason, $"{file.Path}: {ex.Message}", ex);
        }
        catch (ArgumentException ex)
        {
            throw new DocumentRejectedException(DocumentRejection.TooLarge, $"{file.Path}: {ex.Message}", ex);
        }

        var highest = chunks.Aggregate(label, (l, c) => l.Join(c.Label));
        if (!bundleLabel.Dominates(highest))
        {
            var above = chunks.First(c => !bundleLabel.Dominates(c.Label));
            if (above.Escalations.Count > 0)
            {
                // Not a marking in the text: the scan stopped, and a chunk it could not finish is labelled at the top of
                // the lattice (fail closed). Say so, rather than name a marking the document does not hold.
                throw new DocumentRejectedException(
                    DocumentRejection.LabelAboveBundle,
                    $"{file.Path}: its chunk {above.Index} could not be scanned for markings ({string.Join("; ", above.Escalations)}), so it is labelled {_scheme.FormatBanner(above.Label)}, above the bundle's label {_scheme.FormatBanner(bundleLabel)}; "
                    + "a timeout means the machine was too busy: import the bundle again; a bound means the document holds too much marked text for one scan: split it");
            }

            throw new DocumentRejectedException(
                DocumentRejection.LabelAboveBundle,
                $"{file.Path}: its chunk {above.Index} is marked {_scheme.FormatBanner(above.Label)}, above the bundle's label {_scheme.FormatBanner(bundleLabel)}; bundle it under a label that dominates it, or remove the portion");
        }

        return new DatasetDocument(file.Path, content, document, label, chunks, highest);
    }

    private static byte[] ReadBounded(DatasetFile file, long max, string name)
    {
        if (file.Length > max)
        {
            throw new DocumentRejectedException(DocumentRejection.TooLarge, $"{name}: the file is {file.Length} bytes; at most {max} are read");
        }

        using var stream = file.Open();
        var buffer = new byte[file.Length];
        try
        {
            stream.ReadExactly(buffer);
        }
        catch (EndOfStreamException ex)
        {
            throw new DocumentRejectedException(DocumentRejection.Malformed, $"{name}: the file is shorter than its recorded {file.Length} bytes", ex);
        }

        if (stream.ReadByte() >= 0)
        {
            throw new DocumentRejectedException(DocumentRejection.TooLarge, $"{name}: the file is longer than its recorded {file.Length} bytes");
        }

        return buffer;
    }
}

/// <summary>One file of a dataset: its path inside the artifact ('/'-separated), its length, and how to read it.</summary>
public sealed record DatasetFile(string Path, long Length, Func<Stream> Open);

/// <summary>One document read for indexing: its bytes, its text, its label, its labelled chunks and the highest of them.</summary>
public sealed record DatasetDocument(string Path, byte[] Content, ExtractedDocument Document, SecurityLabel Label, IReadOnlyList<TextChunk> Chunks, SecurityLabel Highest);
