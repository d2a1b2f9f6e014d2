using Enclave.Core;

namespace Enclave.Server.Lineage;

/// <summary>A lineage could not be given (see <see cref="Reason"/>); the admin API answers it with a problem, never a 500.</summary>
public sealed class LineageException : Exception, IEnclaveError<LineageError>
{
    public LineageException()
    {
    }

    public LineageException(string message)
        : base(message)
    {
    }

    public LineageException(string message, Exception innerException)
        : base(message, innerException)
    {
    }

    /// <summary>Creates the exception with a reason an operator and a test can both match.</summary>
    public LineageException(LineageError reason, string message)
        : base(message)
    {
        Reason = reason;
    }

    /// <summary>Why no lineage was given.</summary>
    public LineageError Reason { get; }
}
