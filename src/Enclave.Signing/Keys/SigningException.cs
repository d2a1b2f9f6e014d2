using Enclave.Core;

namespace Enclave.Signing.Keys;

/// <summary>Why a key or key file could not be used.</summary>
public enum SigningFailure
{
    /// <summary>A key file that must exist is missing.</summary>
    KeyMissing,
}

/// <summary>
/// A key or key file of <c>Enclave.Signing</c> could not be used; <see cref="Reason"/> says why and the message names
/// the file. Callers that own the operation (the ledger, the trust repository) translate it into their own exception
/// where their message and exit code must stay theirs.
/// </summary>
public sealed class SigningException : Exception, IEnclaveError<SigningFailure>
{
    public SigningException(SigningFailure reason, string message, Exception? innerException = null)
        : base(message, innerException) => Reason = reason;

    public SigningException()
    {
    }

    public SigningException(string message)
        : base(message)
    {
    }

    public SigningException(string message, Exception innerException)
        : base(message, innerException)
    {
    }

    /// <summary>Why the key could not be used.</summary>
    public SigningFailure Reason { get; }
}
