namespace Enclave.Policy.Decisions;

/// <summary>The outcome of a policy decision, allow or deny, with every reason.</summary>
public sealed record PolicyDecision
{
    /// <summary>True when the request may be served by one of <see cref="Backends"/>.</summary>
    public required bool Allowed { get; init; }

    /// <summary>
    /// Every rule that denied the request or excluded a backend; empty when everything passed. A backend
    /// excluded on an allowed request is listed here too, so <c>policy explain</c> can show it.
    /// </summary>
    public required IReadOnlyList<PolicyReason> Reasons { get; init; }

    /// <summary>
    /// The backends that pass, in the order given; the router picks among these and fails over only within
    /// them. Empty when denied. Backends that leave the enclave still need the egress guard.
    /// </summary>
    public required IReadOnlyList<BackendCandidate> Backends { get; init; }
}
