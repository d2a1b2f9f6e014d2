using System.Security.Claims;
using Enclave.Core.Artifacts;
using Enclave.Policy.Identity;
using Enclave.Policy.Labels;
using Enclave.Retrieval.Chunking;
using Enclave.Retrieval.Datasets;
using Enclave.Retrieval.Extraction;
using Enclave.State.Retrieval;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Logging;

namespace Enclave.Server.Retrieval;

/// <summary>
/// Documents that enter through the airlock as <c>dataset</c> bundles (docs/retrieval.md, "Dataset bundles").
/// As an admission check it reads every document of a verified dataset bundle from quarantine as an upload would be
/// read (extracted, chunked, labelled) and refuses the bundle, reason <c>dataset</c> with every problem, when one cannot
/// be indexed: a type Enclave does not extract, a malformed or oversized file, a document labelled or marked above the
/// bundle's label, a refused <c>manifest.json</c>, a vector store the manifest names that does not exist. As an
/// activation hook it indexes them once the bundle is approved: each document's chunks are embedded (the policy deciding
/// for the highest of their labels, as for a caller cleared to the bundle's label), and only when all are embedded are
/// they stored, each with a <c>file.uploaded</c> entry naming the import, into the manifest's vector store or a new one.
/// </summary>
internal sealed partial class DatasetIngest(IServiceProvider services, ILogger<DatasetIngest> logger) : IImportAdmissionCheck, IArtifactActivationHook
{
    /// <summary>The artifact kind this handles.</summary>
    public const string DatasetKind = "dataset";

    /// <inheritdoc/>
    public string Kind => DatasetKind;

    /// <inheritdoc/>
    public ValueTask<ImportAdmissionRefusal?> CheckAsync(ImportCandidate candidate, CancellationToken cancellationToken)
    {
        ArgumentNullException.ThrowIfNull(candidate);
        if (candidate.Kind != DatasetKind)
        {
            return ValueTask.FromResult<ImportAdmissionRefusal?>(null);
        }

        if (candidate.OpenFile is not { } open)
        {
            return ValueTask.FromResult<ImportAdmissionRefusal?>(Refusal(candidate.Name, candidate.Version, ["the airlock offered no way to read its documents"]));
        }

        // Extraction (PDF above all) is CPU work: off the request's thread, as the airlock's own verification is.
        return new ValueTask<ImportAdmissionRefusal?>(Task.Run(() => Check(candidate, open), cancellationToken));
    }

    private ImportAdmissionRefusal? Check(ImportCandidate candidate, Func<string, Stream> open)
    {
        var retrieval = services.GetRequiredService<RetrievalService>();
        var files = candidate.Files.Select(f => new DatasetFile(f.RelativePath, f.Length, () => open(f.RelativePath))).ToList();
        var problems = new List<string>();
        if (!TryParse(retrieval.Scheme, candidate.Label, out var label, out var labelProblem))
        {
            problems.Add(labelProblem);
        }
        else
        {
            var corpus = Corpus(retrieval);
            problems.AddRange(corpus.Check(files, label, Options.DatasetMaxDocuments));
            if (problems.Count == 0 && corpus.ReadManifest(files, label).VectorStoreId is { } storeId && Store.GetVectorStore(storeId) is null)
            {
                problems.Add($"{DatasetManifest.FileName} names the vector store {storeId}, which does not exist here; create it first, or name a new store with vector_store_name");
            }
        }

        return problems.Count == 0 ? null : Refusal(candidate.Name, candidate.Version, problems);
    }

    /// <inheritdoc/>
    public async Task OnActivatedAsync(ArtifactActivation activation, CancellationToken cancellationToken)
    {
        ArgumentNullException.ThrowIfNull(activation);
        var retrieval = services.GetRequiredService<RetrievalService>();
        if (!TryParse(retrieval.Scheme, activation.Label, out var label, out var labelProblem))
        {
            throw new RetrievalException(RetrievalError.InvalidLabel, $"dataset {activation.Name} {activation.Version}: {labelProblem}; nothing was indexed");
        }

        var files = activation.Files
            .Select(f => new DatasetFile(f.RelativePath, f.Length, () => File.OpenRead(Path.Combine(activation.Folder, f.RelativePath.Replace('/', Path.DirectorySeparatorChar)))))
            .ToList();
        var corpus = Corpus(retrieval);
        var problems = corpus.Check(files, label, Options.DatasetMaxDocuments);
        if (problems.Count > 0)
        {
            throw new DocumentRejectedException(DocumentRejection.Malformed, $"dataset {activation.Name} {activation.Version} cannot be indexed, nothing was: {string.Join("; ", problems)}");
        }

        var manifest = corpus.ReadManifest(files, label);
        var target = manifest.VectorStoreId is { } id
            ? Store.GetVectorStore(id) ?? throw new RetrievalException(RetrievalError.VectorStoreNotFound, $"dataset {activation.Name} {activation.Version}: its manifest names the vector store {id}, which does not exist; nothing was indexed")
            : null;

        // Embed every document first: a document the policy does not let the embedding model see stops the whole dataset
        // before anything is stored.
        var bundleReader = new ClaimsPrincipal(new ClaimsIdentity([new Claim(EnclaveClaims.Clearance, activation.Label)], "airlock"));
        var prepared = new List<PreparedFile>();
        foreach (var file in files.Where(f => DatasetCorpus.IsDocument(f.Path)))
        {
            var document = corpus.Prepare(file, manifest, label);
            prepared.Add(await retrieval.EmbedDocumentAsync(bundleReader, document.Path, "assistants", document.Content, document.Document, document.Label, document.Chunks, cancellationToken).ConfigureAwait(false));
        }

        var stored = new List<RetrievalFileRow>(prepared.Count);
        foreach (var file in prepared)
        {
            stored.Add(await retrieval.StoreAsync(activation.ActivatedBy, file, activation.ImportId, cancellationToken).ConfigureAwait(false));
        }

        VectorStoreRow store;
        if (target is null)
        {
            store = await retrieval.CreateStoreAsync(activation.ActivatedBy, manifest.VectorStoreName ?? $"{activation.Name} {activation.Version}", stored, cancellationToken).ConfigureAwait(false);
        }
        else
        {
            await retrieval.AddFilesAsync(activation.ActivatedBy, target, stored, cancellationToken).ConfigureAwait(false);
            store = target;
        }

        Log.DatasetIndexed(logger, activation.ImportId, activation.Name, activation.Version, stored.Count, store.Id);
    }

    private RetrievalOptions Options => services.GetRequiredService<RetrievalOptions>();

    private IRetrievalStore Store => services.GetRequiredService<IRetrievalStore>();

    private DatasetCorpus Corpus(RetrievalService retrieval) =>
        new(retrieval.Scheme, new TextChunker(retrieval.Scheme, new ChunkerOptions { MaxChars = Options.ChunkChars, OverlapChars = Options.ChunkOverlapChars }), Options.Extraction);

    private static bool TryParse(LabelScheme scheme, string marking, out SecurityLabel label, out string problem)
    {
        if (scheme.TryParse(marking, portion: false, out label, out var message) == MarkingError.None)
        {
            problem = string.Empty;
            return true;
        }

        problem = $"the bundle's label '{marking}' is not a valid marking here: {message}";
        return false;
    }

    private static ImportAdmissionRefusal Refusal(string name, string version, IReadOnlyList<string> problems) =>
        new("dataset", $"dataset {name} {version} cannot be indexed ({problems.Count} problem{(problems.Count == 1 ? string.Empty : "s")}): {problems[0]}{(problems.Count > 1 ? "; and more in findings" : string.Empty)}; nothing was imported", problems);

    private static partial class Log
    {
        [LoggerMessage(EventId = 3402, Level = LogLevel.Information, Message = "Dataset {Name} {Version} of import {ImportId} indexed: {Documents} documents into vector store {VectorStoreId}")]
        public static partial void DatasetIndexed(ILogger logger, string importId, string name, string version, int documents, string vectorStoreId);
    }
}
