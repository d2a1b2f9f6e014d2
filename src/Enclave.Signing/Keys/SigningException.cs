using Enclave.Core;

namespace Enclave.Signing.Keys;

/// <summary>Why a key or key file could not be used.</summary>
public enum SigningFailure
{
    /// <summary>A key file that must exist is missing.</summary>
    KeyMissing,

    /// <summary>An argument is invalid (a passphrase too short for a new key file, an unknown key type).</summary>
    InvalidArgument,

    /// <summary>TUF JSON or a TUF key object is not well-formed (the airlock reads this as its <c>Malformed</c>).</summary>
    Malformed,

    /// <summary>TUF JSON has no canonical form (the airlock reads this as its <c>NonCanonical</c>).</summary>
    NonCanonical,

    /// <summary>A key file could not be decrypted: the passphrase is wrong or the encrypted data is damaged.</summary>
    KeyDecryptionFailed,

    /// <summary>A key file is not an encrypted PKCS#8 key of a supported type, or it was altered.</summary>
    KeyFileInvalid,

    /// <summary>A key is not authorised for any role it was asked to sign.</summary>
    KeyNotAuthorised,

    /// <summary>A key file to write already exists; nothing is overwritten.</summary>
    OutputExists,
}

/// <summary>
/// A key or key file of <c>Enclave.Signing</c> could not be used; <see cref="Reason"/> says why and the message names
/// the file. The key files of a TUF repository (<see cref="KeyFile"/>, <see cref="KeyRing"/>) throw it as it is, with
/// the reasons and messages the trust repository had for them; the ledger turns a missing key into its own
/// exception, and the airlock's TUF reader turns <see cref="SigningFailure.Malformed"/> and
/// <see cref="SigningFailure.NonCanonical"/> into its rejections.
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
