using System.Text.Json.Serialization;

namespace Enclave.Core.Audit;

// Ledger exports, retrieval, the server and its state.

/// <summary>Details of <c>ledger.exported</c>.</summary>
public sealed record LedgerExportedDetails : IAuditDetails
{
    public required long From { get; init; }
    public required long To { get; init; }
    public required long Entries { get; init; }
    public string? Output { get; init; }
    public long? FilesWritten { get; init; }
    public string? Via { get; init; }
}

/// <summary>Details of <c>file.uploaded</c>.</summary>
public sealed record FileUploadedDetails : IAuditDetails
{
    public required string FileId { get; init; }
    public required string Filename { get; init; }
    public required string Purpose { get; init; }
    public required string Sha256 { get; init; }
    public required long Bytes { get; init; }
    public required string DocumentType { get; init; }
    public required int Pages { get; init; }
    public required string Label { get; init; }
    public required string HighestLabel { get; init; }
    public required int Chunks { get; init; }
    public required string EmbeddingModel { get; init; }
    [WrittenWhenNull] public required string? ModelDigest { get; init; }
    public string? ImportId { get; init; }
}

/// <summary>Details of <c>file.deleted</c>.</summary>
public sealed record FileDeletedDetails : IAuditDetails
{
    public required string FileId { get; init; }
    public required string Sha256 { get; init; }
}

/// <summary>A file of a vector store: <c>{fileId, sha256}</c>.</summary>
public sealed record VectorStoreFileDetail
{
    public required string FileId { get; init; }
    public required string Sha256 { get; init; }
}

/// <summary>Details of <c>vector_store.created</c>.</summary>
public sealed record VectorStoreCreatedDetails : IAuditDetails
{
    public required string VectorStoreId { get; init; }
    public required string Name { get; init; }
    public required IReadOnlyList<VectorStoreFileDetail> Files { get; init; }
}

/// <summary>Details of <c>vector_store.files-added</c>.</summary>
public sealed record VectorStoreFilesAddedDetails : IAuditDetails
{
    public required string VectorStoreId { get; init; }
    public required IReadOnlyList<VectorStoreFileDetail> Files { get; init; }
}

/// <summary>Details of <c>vector_store.deleted</c>.</summary>
public sealed record VectorStoreDeletedDetails : IAuditDetails
{
    public required string VectorStoreId { get; init; }
}

/// <summary>Details of <c>retrieval.searched</c>.</summary>
public sealed record RetrievalSearchedDetails : IAuditDetails
{
    public required string VectorStoreId { get; init; }
    public required string QuerySha256 { get; init; }
    public required string Clearance { get; init; }
    public required string EmbeddingModel { get; init; }
    public required IReadOnlyList<RetrievalSearchedResult> Results { get; init; }
}

/// <summary>One of <see cref="RetrievalSearchedDetails.Results"/>.</summary>
public sealed record RetrievalSearchedResult
{
    public required string FileId { get; init; }
    public required string Sha256 { get; init; }
    public required string ChunkId { get; init; }
    public required string Label { get; init; }
}

/// <summary>Details of <c>server.started</c>.</summary>
public sealed record ServerStartedDetails : IAuditDetails
{
    public required IReadOnlyList<string> Urls { get; init; }
    public required IReadOnlyList<ServerStartedModel> Models { get; init; }
    public required IReadOnlyList<ServerStartedBackend> UpstreamBackends { get; init; }

    /// <summary><c>N days</c>, or <c>off</c>.</summary>
    public required string Retention { get; init; }
}

/// <summary>One of <see cref="ServerStartedDetails.Models"/>.</summary>
public sealed record ServerStartedModel
{
    public required string Id { get; init; }
    public required string Kind { get; init; }
    [WrittenWhenNull] public required string? Digest { get; init; }
    [WrittenWhenNull] public required string? Source { get; init; }
}

/// <summary>One of <see cref="ServerStartedDetails.UpstreamBackends"/>.</summary>
public sealed record ServerStartedBackend
{
    public required string Name { get; init; }
    [WrittenWhenNull] public required string? BaseUrl { get; init; }
    public required IReadOnlyList<string> Models { get; init; }
}

/// <summary>Details of <c>state.migrated</c>.</summary>
public sealed record StateMigratedDetails : IAuditDetails
{
    public required string Database { get; init; }
    [JsonPropertyName("from_version")] public required long FromVersion { get; init; }
    [JsonPropertyName("to_version")] public required long ToVersion { get; init; }
}
