using Enclave.Core;

namespace Enclave.Airlock.Import;

/// <summary>What an approval, rejection or trust request asked for cannot be done; nothing was changed.</summary>
public enum ImportWorkflowError
{
    /// <summary>No import with that ID.</summary>
    NotFound,

    /// <summary>The import is not pending approval (already activated or rejected).</summary>
    NotPending,

    /// <summary>The person who imported a bundle cannot approve it (two-person rule).</summary>
    SelfApproval,

    /// <summary>A different root is pinned; replacing it must be forced explicitly.</summary>
    TrustConflict,

    /// <summary>The root given to pin is not valid TUF root metadata signed by its own keys.</summary>
    InvalidRoot,

    /// <summary>The import's quarantined files are gone (removed outside the enclave); it can only be rejected.</summary>
    QuarantineLost,
}

/// <summary>An airlock operation was refused; <see cref="Error"/> says why. Nothing was changed.</summary>
public sealed class ImportWorkflowException : Exception, IEnclaveError<ImportWorkflowError>
{
    /// <summary>Creates the exception.</summary>
    public ImportWorkflowException(ImportWorkflowError error, string message, Exception? innerException = null)
        : base(message, innerException) => Error = error;

    /// <summary>Why.</summary>
    public ImportWorkflowError Error { get; }

    /// <inheritdoc />
    ImportWorkflowError IEnclaveError<ImportWorkflowError>.Reason => Error;
}
