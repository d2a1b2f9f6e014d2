using Enclave.Core;

namespace Enclave.Policy.Identity;

/// <summary>What kind of problem an identity change ran into; the admin API maps it to an HTTP status.</summary>
public enum IdentityError
{
    /// <summary>The input is invalid (a name, a role, a clearance, an expiry); 400.</summary>
    Invalid,

    /// <summary>The principal or key does not exist; 404.</summary>
    NotFound,

    /// <summary>The change conflicts with the current state (name taken, already disabled or revoked); 409.</summary>
    Conflict,
}

/// <summary>An identity change was refused; nothing was changed. The message says what was wrong.</summary>
public sealed class IdentityException(IdentityError error, string message) : Exception(message), IEnclaveError<IdentityError>
{
    /// <summary>The kind of problem.</summary>
    public IdentityError Error { get; } = error;

    /// <summary>The kind of problem (<see cref="Error"/>), as the exception families' reason.</summary>
    public IdentityError Reason => Error;
}
