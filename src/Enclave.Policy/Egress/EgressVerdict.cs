namespace Enclave.Policy.Egress;

/// <summary>The egress guard's answer for one request on one route.</summary>
public sealed record EgressVerdict
{
    /// <summary>True when the (possibly redacted) messages may leave.</summary>
    public required bool Allowed { get; init; }

    /// <summary>The route's action, or <see cref="EgressAction.Block"/> when the guard could not finish.</summary>
    public required EgressAction Action { get; init; }

    /// <summary>Every finding, in message then offset order; each says which rule fired and where.</summary>
    public required IReadOnlyList<EgressFinding> Findings { get; init; }

    /// <summary>The messages to send: the originals when clean, redacted copies on redact, empty when blocked.</summary>
    public required IReadOnlyList<string> Messages { get; init; }

    /// <summary>Human-readable reasons, one per finding rule or failure; never the finding's text.</summary>
    public required IReadOnlyList<string> Reasons { get; init; }
}
