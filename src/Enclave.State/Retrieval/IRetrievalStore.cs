namespace Enclave.State.Retrieval;

/// <summary>
/// Uploaded documents for retrieval (<c>retrieval_*</c> in <c>enclave.db</c>, migration 9): each file with its label and
/// content digest (the bytes are in the blob store), its chunks with their labels, text and embeddings, and the vector
/// stores (sets of files) that <c>/v1/vector_stores</c> searches.
/// </summary>
public interface IRetrievalStore
{
    /// <summary>Adds a file and all its chunks in one transaction.</summary>
    /// <exception cref="ArgumentException">A chunk names another file, or two chunks share an index.</exception>
    void PutFile(RetrievalFileRow file, IReadOnlyList<RetrievalChunkRow> chunks);

    /// <summary>The file <paramref name="id"/>, or null.</summary>
    RetrievalFileRow? GetFile(string id);

    /// <summary>Every file, oldest first.</summary>
    IReadOnlyList<RetrievalFileRow> ListFiles();

    /// <summary>Deletes the file, its chunks and its membership of every vector store; false when there was no such file.</summary>
    bool DeleteFile(string id);

    /// <summary>The chunks of one file, in order.</summary>
    IReadOnlyList<RetrievalChunkRow> ChunksOfFile(string fileId);

    /// <summary>The chunks of every file in a vector store, by file (oldest added first) and index.</summary>
    IReadOnlyList<RetrievalChunkRow> ChunksOfStore(string storeId);

    /// <summary>
    /// What the store holds now, cheaply: how many files and when the last was added (round-trip text). A resident index
    /// of the store's chunks is current while this is unchanged (files are immutable; adding one moves the time,
    /// removing one the count).
    /// </summary>
    string StoreSignature(string storeId);

    /// <summary>Adds a vector store.</summary>
    void PutVectorStore(VectorStoreRow store);

    /// <summary>The vector store <paramref name="id"/>, or null.</summary>
    VectorStoreRow? GetVectorStore(string id);

    /// <summary>Every vector store, oldest first.</summary>
    IReadOnlyList<VectorStoreRow> ListVectorStores();

    /// <summary>Deletes a vector store (not its files); false when there was no such store.</summary>
    bool DeleteVectorStore(string id);

    /// <summary>Adds a file to a store; false when it was already there.</summary>
    /// <exception cref="ArgumentException">The store or the file does not exist.</exception>
    bool AddFileToStore(string storeId, string fileId, DateTimeOffset added);

    /// <summary>The files of a store with when each was added, oldest first.</summary>
    IReadOnlyList<(string FileId, DateTimeOffset Added)> FilesOfStore(string storeId);
}

/// <summary>An uploaded file: its name, purpose, size and digest, how it was read, its label, who uploaded it and when.</summary>
/// <param name="Id">The file's ID (<c>file-...</c>).</param>
/// <param name="Filename">The name it was uploaded under.</param>
/// <param name="Purpose">The OpenAI purpose given at upload (<c>assistants</c>).</param>
/// <param name="Bytes">Its size.</param>
/// <param name="Sha256">The hex SHA-256 of its bytes, its name in the blob store.</param>
/// <param name="DocumentType">How its text was extracted (<c>PlainText</c>, <c>Markdown</c>, <c>Html</c>, <c>Pdf</c>).</param>
/// <param name="Pages">Pages read (1 unless a PDF).</param>
/// <param name="Label">The label the uploader gave (or the default), in marking syntax; chunks may be higher.</param>
/// <param name="Owner">The principal that uploaded it.</param>
/// <param name="Created">When it was uploaded.</param>
/// <param name="Chunks">How many chunks it was cut into.</param>
/// <param name="LedgerIndex">The <c>file.uploaded</c> ledger entry that recorded it.</param>
public sealed record RetrievalFileRow(
    string Id,
    string Filename,
    string Purpose,
    long Bytes,
    string Sha256,
    string DocumentType,
    int Pages,
    string Label,
    string Owner,
    DateTimeOffset Created,
    int Chunks,
    long LedgerIndex);

/// <summary>One chunk of a file: its position, label (marking syntax), text and embedding by <paramref name="Model"/>.</summary>
public sealed record RetrievalChunkRow(string FileId, int Index, int Start, string Label, string Text, string Model, float[] Embedding)
{
    /// <summary>The chunk's ID as the API and the ledger name it: <c>FILE-ID:INDEX</c>.</summary>
    public string ChunkId => FormattableString.Invariant($"{FileId}:{Index}");
}

/// <summary>A vector store: a named set of files.</summary>
public sealed record VectorStoreRow(string Id, string Name, string Owner, DateTimeOffset Created);
