namespace Enclave.Server.Auth;

/// <summary>
/// A credential was presented and refused. <see cref="Reason"/> is a stable code recorded in the ledger's
/// <c>auth.failed</c> entry (<c>wrong_secret</c>, <c>expired</c>, <c>principal_disabled</c>, ...); the message is what
/// the client is told.
/// </summary>
public sealed class AuthenticationRejectedException(string reason, string message) : Exception(message)
{
    /// <summary>The stable reason code.</summary>
    public string Reason { get; } = reason;

    /// <summary>The ID of the API key presented, when it had the shape of one (IDs are not secret).</summary>
    public string? KeyId { get; init; }
}
