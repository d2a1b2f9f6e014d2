namespace Enclave.Server.Retrieval;

/// <summary>Why a retrieval request (upload, search) was refused, besides a document that cannot be read.</summary>
public enum RetrievalError
{
    /// <summary>The <c>Enclave-Classification</c> header given with the upload or search is not a valid marking.</summary>
    InvalidLabel = 1,

    /// <summary>The policy does not let the embedding model process text at that label for this caller.</summary>
    EmbeddingDenied,

    /// <summary>The embedding model failed or answered something that is not one embedding per text.</summary>
    EmbeddingFailed,

    /// <summary>The enclave serves no embedding model (or <c>Retrieval:EmbeddingModel</c> names none it serves).</summary>
    NoEmbeddingModel,

    /// <summary>A vector store named by a dataset bundle's manifest does not exist (any more) when the bundle is activated.</summary>
    VectorStoreNotFound,
}
