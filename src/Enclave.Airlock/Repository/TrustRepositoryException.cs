using Enclave.Core;

namespace Enclave.Airlock.Repository;

/// <summary>
/// What went wrong on the connected (writing) side of the airlock; a person and a script can both match it. A key file
/// that cannot be read or decrypted is <c>Enclave.Signing</c>'s <see cref="Signing.Keys.SigningException"/>
/// (<see cref="Signing.Keys.SigningFailure.KeyFileInvalid"/>, <see cref="Signing.Keys.SigningFailure.KeyDecryptionFailed"/>),
/// with the same message and exit code; so is a key that is not authorised to sign what it was asked to
/// (<see cref="Signing.Keys.SigningFailure.KeyNotAuthorised"/>, whether the key ring or the bundle signer finds it).
/// </summary>
public enum TrustRepositoryError
{
    /// <summary>An option or argument is invalid (a name, a label, a threshold, a path).</summary>
    InvalidArgument,

    /// <summary>No passphrase was given (no <c>ENCLAVE_PASSPHRASE</c> and no terminal to ask on).</summary>
    PassphraseRequired,

    /// <summary>Not enough keys to reach a role's threshold where the threshold is mandatory (root rotation).</summary>
    BelowThreshold,

    /// <summary>An SBOM or provenance file is not of an accepted format.</summary>
    InvalidAttestation,

    /// <summary>The artifact version is already in the repository with different content.</summary>
    AlreadyPublished,

    /// <summary>The repository folder is missing, incomplete or its metadata does not parse.</summary>
    RepositoryInvalid,

    /// <summary>A source file changed between hashing and writing it into the bundle.</summary>
    SourceChanged,

    /// <summary>The output already exists; nothing is overwritten.</summary>
    OutputExists,

    /// <summary>The bundle given to sign is not a well-formed bundle of this format.</summary>
    BundleInvalid,
}

/// <summary>
/// An operation of the trust repository or bundle writer was refused. <see cref="Error"/> says which check; the
/// message says what, where and what to do. The repository and any output are left as they were.
/// </summary>
public sealed class TrustRepositoryException : Exception, IEnclaveError<TrustRepositoryError>
{
    /// <summary>Creates the exception.</summary>
    public TrustRepositoryException(TrustRepositoryError error, string message)
        : base(message) => Error = error;

    /// <summary>Creates the exception with its cause.</summary>
    public TrustRepositoryException(TrustRepositoryError error, string message, Exception innerException)
        : base(message, innerException) => Error = error;

    /// <summary>The check that failed.</summary>
    public TrustRepositoryError Error { get; }

    /// <inheritdoc />
    TrustRepositoryError IEnclaveError<TrustRepositoryError>.Reason => Error;
}
