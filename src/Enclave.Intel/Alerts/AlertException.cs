using Enclave.Core;

namespace Enclave.Intel.Alerts;

/// <summary>Why an alert operation was refused.</summary>
public enum AlertError
{
    /// <summary>No alert has that ID.</summary>
    NotFound,

    /// <summary>The alert's state does not allow the change (e.g. acknowledging a resolved alert).</summary>
    InvalidTransition,

    /// <summary>The request itself is malformed (empty title, reason missing, evidence over its bounds, unknown ledger index).</summary>
    InvalidInput,
}

/// <summary>An alert operation refused; nothing was written. <see cref="Reason"/> is what an operator and a test match.</summary>
public sealed class AlertException : Exception, IEnclaveError<AlertError>
{
    public AlertException(AlertError reason, string message)
        : base(message) => Reason = reason;

    public AlertException()
    {
    }

    public AlertException(string message)
        : base(message)
    {
    }

    public AlertException(string message, Exception innerException)
        : base(message, innerException)
    {
    }

    /// <summary>Why it was refused.</summary>
    public AlertError Reason { get; }
}
