using Enclave.Core;

namespace Enclave.Policy.Labels;

/// <summary>A classification marking (banner, portion or <c>Enclave-Classification</c> header) was rejected.</summary>
public sealed class MarkingParseException : Exception, IEnclaveError<MarkingError>
{
    public MarkingParseException()
    {
    }

    public MarkingParseException(string message)
        : base(message)
    {
    }

    public MarkingParseException(string message, Exception innerException)
        : base(message, innerException)
    {
    }

    /// <summary>Creates the exception with a reason an operator and a test can both match.</summary>
    public MarkingParseException(MarkingError reason, string message)
        : base(message)
    {
        Reason = reason;
    }

    /// <summary>Why the marking was rejected.</summary>
    public MarkingError Reason { get; }
}
