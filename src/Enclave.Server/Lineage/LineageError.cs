namespace Enclave.Server.Lineage;

/// <summary>Why a lineage could not be given.</summary>
public enum LineageError
{
    /// <summary>No request with that ID among the ledger's last entries searched, or no entry at that index.</summary>
    NotFound = 1,

    /// <summary>The entry at the index given is not a request's <c>request.completed</c> or <c>request.admitted</c> entry.</summary>
    NotARequest,
}
