using Enclave.Core;

namespace Enclave.Server.Retrieval;

/// <summary>A retrieval request was refused (see <see cref="Reason"/>); the API answers it without a 500.</summary>
public sealed class RetrievalException : Exception, IEnclaveError<RetrievalError>
{
    public RetrievalException()
    {
    }

    public RetrievalException(string message)
        : base(message)
    {
    }

    public RetrievalException(string message, Exception innerException)
        : base(message, innerException)
    {
    }

    /// <summary>Creates the exception with a reason an operator and a test can both match.</summary>
    public RetrievalException(RetrievalError reason, string message)
        : base(message)
    {
        Reason = reason;
    }

    /// <summary>Why it was refused.</summary>
    public RetrievalError Reason { get; }
}
