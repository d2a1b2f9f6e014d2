using Enclave.Policy.Labels;

namespace Enclave.Policy.Decisions;

/// <summary>Everything a policy decision needs; no I/O happens while deciding.</summary>
public sealed record PolicyRequest
{
    /// <summary>The caller's clearance.</summary>
    public required SecurityLabel UserClearance { get; init; }

    /// <summary>The request's label (header, markings or default).</summary>
    public required SecurityLabel RequestLabel { get; init; }

    /// <summary>The label the requested model was given at import.</summary>
    public required SecurityLabel ModelLabel { get; init; }

    /// <summary>The backends that serve the model, in the router's order of preference.</summary>
    public required IReadOnlyList<BackendCandidate> Candidates { get; init; }
}
