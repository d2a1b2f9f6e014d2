using System.Security.Claims;
using System.Security.Cryptography;
using System.Text;
using System.Text.Json.Nodes;
using Enclave.Core;
using Enclave.Core.Audit;
using Enclave.Core.Storage;
using Enclave.Inference.Backends;
using Enclave.Policy.Labels;
using Enclave.Policy.Requests;
using Enclave.Retrieval.Chunking;
using Enclave.Retrieval.Extraction;
using Enclave.Retrieval.Index;
using Enclave.Server.Hosting;
using Enclave.Server.Policy;
using Enclave.State.Retrieval;
using Microsoft.Extensions.Logging;

namespace Enclave.Server.Retrieval;

/// <summary>
/// Uploaded documents and their search: a file is extracted, cut into chunks each labelled with the file's label raised
/// by the markings inside it, embedded by the embedding model the policy allows for the highest of those labels,
/// kept content-addressed in the blob store and recorded in the ledger (<c>file.uploaded</c>). A search embeds the
/// query, drops every chunk the caller's clearance does not dominate <em>before</em> ranking (<see cref="VectorIndex"/>),
/// and records the documents' digests and chunk IDs it returned (<c>retrieval.searched</c>), never their text.
/// </summary>
internal sealed partial class RetrievalService(
    IRetrievalStore store,
    ModelCatalog catalog,
    EnclavePolicy policy,
    ILedger ledger,
    ServerSettings settings,
    RetrievalOptions options,
    TimeProvider clock,
    ILogger<RetrievalService> logger,
    ResidentIndexes resident)
{
    // Uploaded files' bytes: on the shared directory with replicas, so that a file uploaded to one is read by all.
    private readonly BlobStore _blobs = settings.SharedDirectory is { } shared ? new(shared, ReplicaId.Of(settings.DataDirectory)) : new(settings.DataDirectory);
    private readonly TextChunker _chunker = new(policy.Scheme, new ChunkerOptions { MaxChars = options.ChunkChars, OverlapChars = options.ChunkOverlapChars });

    /// <summary>The label scheme chunks are labelled in.</summary>
    public LabelScheme Scheme => policy.Scheme;

    /// <summary>The caller's clearance (the lowest level when its claim is missing or invalid: it then sees the least).</summary>
    public SecurityLabel ClearanceOf(ClaimsPrincipal user) => policy.ClearanceOf(user) is { Problem: null } c ? c.Clearance : policy.Scheme.Lowest;

    /// <summary>Whether <paramref name="user"/> may see a file: its clearance dominates every chunk of it.</summary>
    public bool CanSee(ClaimsPrincipal user, RetrievalFileRow file) => ClearanceOf(user).Dominates(HighestLabel(file));

    /// <summary>The highest label of a file's chunks (its own label when it has none).</summary>
    public SecurityLabel HighestLabel(RetrievalFileRow file) =>
        store.ChunksOfFile(file.Id).Aggregate(Parse(file.Label), (label, chunk) => label.Join(Parse(chunk.Label)));

    /// <summary>Extracts, chunks, labels, embeds, stores and records one uploaded file.</summary>
    public async Task<RetrievalFileRow> UploadAsync(ClaimsPrincipal user, string actor, string filename, string purpose, byte[] content, string? marking, CancellationToken cancellationToken)
    {
        SecurityLabel fileLabel;
        try
        {
            fileLabel = string.IsNullOrEmpty(marking) ? policy.Scheme.Lowest : policy.Scheme.ParseMarking(marking);
        }
        catch (MarkingParseException ex)
        {
            throw new RetrievalException(RetrievalError.InvalidLabel, $"the {RequestLabelExtractor.HeaderName} header is not a valid marking: {ex.Message}");
        }

        var document = DocumentText.Extract(content, filename, options.Extraction);
        IReadOnlyList<TextChunk> chunks;
        try
        {
            chunks = _chunker.Chunk(document.Text, fileLabel);
        }
        catch (ArgumentException ex)
        {
            throw new DocumentRejectedException(DocumentRejection.TooLarge, ex.Message, ex);
        }

        var prepared = await EmbedDocumentAsync(user, filename, purpose, content, document, fileLabel, chunks, cancellationToken).ConfigureAwait(false);
        return await StoreAsync(actor, prepared, importId: null, cancellationToken).ConfigureAwait(false);
    }

    /// <summary>
    /// Embeds the chunks of one document (extracted, chunked and labelled by the caller) with the embedding model the
    /// policy allows for the highest of their labels; nothing is stored.
    /// </summary>
    public async Task<PreparedFile> EmbedDocumentAsync(ClaimsPrincipal user, string filename, string purpose, byte[] content, ExtractedDocument document, SecurityLabel fileLabel, IReadOnlyList<TextChunk> chunks, CancellationToken cancellationToken)
    {
        var highest = chunks.Aggregate(fileLabel, (label, chunk) => label.Join(chunk.Label));
        var (model, vectors) = await EmbedAsync(user, [.. chunks.Select(c => c.Text)], highest, cancellationToken).ConfigureAwait(false);
        return new PreparedFile(filename, purpose, content, document, fileLabel, highest, chunks, model, vectors);
    }

    /// <summary>
    /// Stores an embedded document: its bytes in the blob store, a <c>file.uploaded</c> entry (naming the airlock
    /// import it came from, for a document of a <c>dataset</c> bundle), then the file and its chunks.
    /// </summary>
    public async Task<RetrievalFileRow> StoreAsync(string actor, PreparedFile prepared, string? importId, CancellationToken cancellationToken)
    {
        ArgumentNullException.ThrowIfNull(prepared);
        var (content, document, chunks, model, vectors) = (prepared.Content, prepared.Document, prepared.Chunks, prepared.Model, prepared.Vectors);
        using var stream = new MemoryStream(content, writable: false);
        var blob = _blobs.Put(stream, cancellationToken: cancellationToken);
        var id = "file-" + Convert.ToHexStringLower(RandomNumberGenerator.GetBytes(12));
        var now = clock.GetUtcNow();
        var details = new FileUploadedDetails
        {
            FileId = id,
            Filename = prepared.Filename,
            Purpose = prepared.Purpose,
            Sha256 = blob.Digest.ToHex(),
            Bytes = content.LongLength,
            DocumentType = document.Type.ToString(),
            Pages = document.Pages,
            Label = policy.Scheme.FormatBanner(prepared.Label),
            HighestLabel = policy.Scheme.FormatBanner(prepared.Highest),
            Chunks = chunks.Count,
            EmbeddingModel = model.Id,
            ModelDigest = model.Digest,
            ImportId = importId,
        };
        var index = await ledger.AppendAsync(AuditEvent.Create(now, actor, id, details), cancellationToken).ConfigureAwait(false);
        var row = new RetrievalFileRow(id, prepared.Filename, prepared.Purpose, content.LongLength, blob.Digest.ToHex(), document.Type.ToString(), document.Pages, policy.Scheme.FormatBanner(prepared.Label), actor, now, chunks.Count, index);
        store.PutFile(row, [.. chunks.Select((c, i) => new RetrievalChunkRow(id, c.Index, c.Start, policy.Scheme.FormatBanner(c.Label), c.Text, model.Id, vectors[i]))]);
        Log.FileIndexed(logger, id, blob.Digest.ToHex(), chunks.Count, model.Id);
        return row;
    }

    /// <summary>The bytes of a file from the blob store.</summary>
    public Stream OpenContent(RetrievalFileRow file) =>
        Sha256Digest.TryParseHex(file.Sha256, out var digest) ? _blobs.OpenRead(digest) : throw new InvalidOperationException($"file {file.Id} has no valid digest");

    /// <summary>Deletes a file (and its chunks) and records it; the blob stays (content-addressed, it may be shared).</summary>
    public async Task<bool> DeleteFileAsync(string actor, RetrievalFileRow file, CancellationToken cancellationToken)
    {
        await ledger.AppendAsync(
            AuditEvent.Create(clock.GetUtcNow(), actor, file.Id, new FileDeletedDetails { FileId = file.Id, Sha256 = file.Sha256 }),
            cancellationToken).ConfigureAwait(false);
        return store.DeleteFile(file.Id);
    }

    /// <summary>Creates a vector store with <paramref name="files"/> in it and records it.</summary>
    public async Task<VectorStoreRow> CreateStoreAsync(string actor, string name, IReadOnlyList<RetrievalFileRow> files, CancellationToken cancellationToken)
    {
        var row = new VectorStoreRow("vs_" + Convert.ToHexStringLower(RandomNumberGenerator.GetBytes(12)), name, actor, clock.GetUtcNow());
        await ledger.AppendAsync(
            AuditEvent.Create(row.Created, actor, row.Id, new VectorStoreCreatedDetails
            {
                VectorStoreId = row.Id,
                Name = name,
                Files = Audited(files),
            }),
            cancellationToken).ConfigureAwait(false);
        store.PutVectorStore(row);
        foreach (var file in files)
        {
            store.AddFileToStore(row.Id, file.Id, row.Created);
        }

        return row;
    }

    /// <summary>Adds files to a store and records it.</summary>
    public async Task AddFilesAsync(string actor, VectorStoreRow vectorStore, IReadOnlyList<RetrievalFileRow> files, CancellationToken cancellationToken)
    {
        var now = clock.GetUtcNow();
        await ledger.AppendAsync(
            AuditEvent.Create(now, actor, vectorStore.Id, new VectorStoreFilesAddedDetails
            {
                VectorStoreId = vectorStore.Id,
                Files = Audited(files),
            }),
            cancellationToken).ConfigureAwait(false);
        foreach (var file in files)
        {
            store.AddFileToStore(vectorStore.Id, file.Id, now);
        }
    }

    /// <summary>Deletes a vector store (not its files) and records it.</summary>
    public async Task<bool> DeleteStoreAsync(string actor, VectorStoreRow vectorStore, CancellationToken cancellationToken)
    {
        await ledger.AppendAsync(
            AuditEvent.Create(clock.GetUtcNow(), actor, vectorStore.Id, new VectorStoreDeletedDetails { VectorStoreId = vectorStore.Id }),
            cancellationToken).ConfigureAwait(false);
        resident.Forget(vectorStore.Id);
        return store.DeleteVectorStore(vectorStore.Id);
    }

    /// <summary>
    /// The <paramref name="top"/> chunks of <paramref name="vectorStore"/> nearest to <paramref name="query"/> among
    /// those the caller's clearance dominates (the others are dropped before scoring), recorded in the ledger.
    /// </summary>
    public async Task<SearchOutcome> SearchAsync(ClaimsPrincipal user, string actor, VectorStoreRow vectorStore, string query, int top, string? marking, CancellationToken cancellationToken)
    {
        var clearance = ClearanceOf(user);
        var queryLabel = policy.Scheme.Lowest;
        if (!string.IsNullOrEmpty(marking))
        {
            try
            {
                queryLabel = policy.Scheme.ParseMarking(marking);
            }
            catch (MarkingParseException ex)
            {
                throw new RetrievalException(RetrievalError.InvalidLabel, $"the {RequestLabelExtractor.HeaderName} header is not a valid marking: {ex.Message}");
            }
        }

        // The store's resident index holds every chunk with its label and drops those above the clearance before scoring.
        var (model, vectors) = await EmbedAsync(user, [query], queryLabel, cancellationToken).ConfigureAwait(false);
        var hits = resident.Search(vectorStore.Id, model.Id, vectors[0], top, clearance, Parse);

        var files = hits.Select(h => h.Chunk.FileId).Distinct().ToDictionary(id => id, id => store.GetFile(id)!);
        var entry = await ledger.AppendAsync(
            AuditEvent.Create(clock.GetUtcNow(), actor, vectorStore.Id, new RetrievalSearchedDetails
            {
                VectorStoreId = vectorStore.Id,
                QuerySha256 = Convert.ToHexStringLower(SHA256.HashData(Encoding.UTF8.GetBytes(query))),
                Clearance = policy.Scheme.FormatBanner(clearance),
                EmbeddingModel = model.Id,
                Results = [.. hits.Select(h => new RetrievalSearchedResult
                {
                    FileId = h.Chunk.FileId,
                    Sha256 = files[h.Chunk.FileId].Sha256,
                    ChunkId = h.Chunk.ChunkId,
                    Label = h.Chunk.Label,
                })],
            }),
            cancellationToken).ConfigureAwait(false);
        return new SearchOutcome(entry, [.. hits.Select(h => new SearchResult(h.Chunk, files[h.Chunk.FileId], h.Score))]);
    }

    private static IReadOnlyList<VectorStoreFileDetail> Audited(IReadOnlyList<RetrievalFileRow> files) =>
        [.. files.Select(f => new VectorStoreFileDetail { FileId = f.Id, Sha256 = f.Sha256 })];

    /// <summary>A stored label (banner form); one that no longer parses is the top of the lattice (fail closed).</summary>
    public SecurityLabel Parse(string marking) => policy.Scheme.TryParse(marking, portion: false, out var label, out _) == MarkingError.None ? label : policy.Scheme.Highest;

    /// <summary>Embeds <paramref name="texts"/> with the embedding model, if the policy lets text labelled <paramref name="label"/> reach it.</summary>
    private async Task<(ModelRoute Model, float[][] Vectors)> EmbedAsync(ClaimsPrincipal user, string[] texts, SecurityLabel label, CancellationToken cancellationToken)
    {
        var route = EmbeddingModel();
        var vectors = new List<float[]>(texts.Length);
        for (var start = 0; start < texts.Length; start += options.EmbeddingBatch)
        {
            var batch = texts.Skip(start).Take(options.EmbeddingBatch).ToArray();
            var body = new JsonObject { ["model"] = route.Id, ["input"] = new JsonArray([.. batch.Select(t => (JsonNode)t)]) };
            var outcome = policy.Evaluate(user, policy.Scheme.FormatBanner(label), body, route);
            if (!outcome.Allowed)
            {
                throw new RetrievalException(RetrievalError.EmbeddingDenied, $"the embedding model '{route.Id}' may not process text labelled {policy.Scheme.FormatBanner(label)} for you: {outcome.Message}");
            }

            if (route.BackendModel is { } backendModel)
            {
                body["model"] = backendModel;
            }

            EmbeddingResponse response;
            try
            {
                var answer = await route.SelectBackend(outcome.Selection()).EmbeddingsAsync(body, cancellationToken).ConfigureAwait(false);
                response = EmbeddingResponse.Read(answer.Body, batch.Length);
            }
            catch (BackendException ex)
            {
                throw new RetrievalException(RetrievalError.EmbeddingFailed, $"the embedding model '{route.Id}' failed: {ex.Message}");
            }

            vectors.AddRange(response.Vectors);
        }

        return (route, [.. vectors]);
    }

    private ModelRoute EmbeddingModel()
    {
        if (options.EmbeddingModel is { } configured)
        {
            return catalog.TryResolve(configured, out var named) && named.Kind is "embedding" or "any"
                ? named
                : throw new RetrievalException(RetrievalError.NoEmbeddingModel, $"Retrieval:EmbeddingModel names '{configured}', which is not an embedding model this enclave serves");
        }

        return catalog.List().FirstOrDefault(m => m.Kind == "embedding")
            ?? throw new RetrievalException(RetrievalError.NoEmbeddingModel, "this enclave serves no embedding model; import one through the airlock (enclave up brings all-MiniLM-L6-v2)");
    }

    private static partial class Log
    {
        [LoggerMessage(EventId = 3401, Level = LogLevel.Information, Message = "File {FileId} (sha256 {Sha256}) indexed: {Chunks} chunks embedded by {Model}")]
        public static partial void FileIndexed(ILogger logger, string fileId, string sha256, int chunks, string model);
    }
}

/// <summary>One document extracted, chunked, labelled and embedded, not yet stored.</summary>
internal sealed record PreparedFile(
    string Filename,
    string Purpose,
    byte[] Content,
    ExtractedDocument Document,
    SecurityLabel Label,
    SecurityLabel Highest,
    IReadOnlyList<TextChunk> Chunks,
    ModelRoute Model,
    float[][] Vectors);

/// <summary>One search: its ledger entry and the chunks returned, best first.</summary>
internal sealed record SearchOutcome(long LedgerIndex, IReadOnlyList<SearchResult> Results);

/// <summary>One chunk returned by a search, with its file and its score.</summary>
internal sealed record SearchResult(RetrievalChunkRow Chunk, RetrievalFileRow File, float Score);
