using Enclave.Core;

namespace Enclave.Retrieval.Extraction;

/// <summary>An uploaded document was refused: its text could not be extracted (see <see cref="Reason"/>).</summary>
public sealed class DocumentRejectedException : Exception, IEnclaveError<DocumentRejection>
{
    public DocumentRejectedException()
    {
    }

    public DocumentRejectedException(string message)
        : base(message)
    {
    }

    public DocumentRejectedException(string message, Exception innerException)
        : base(message, innerException)
    {
    }

    /// <summary>Creates the exception with a reason an operator and a test can both match.</summary>
    public DocumentRejectedException(DocumentRejection reason, string message, Exception? innerException = null)
        : base(message, innerException)
    {
        Reason = reason;
    }

    /// <summary>Why the document was refused.</summary>
    public DocumentRejection Reason { get; }
}
