namespace Enclave.Policy.Decisions;

/// <summary>Rule IDs of policy decisions.</summary>
public static class PolicyRules
{
    /// <summary>The user's clearance must dominate the request label.</summary>
    public const string Clearance = "policy.clearance";

    /// <summary>The model's label must dominate the request label.</summary>
    public const string ModelLabel = "policy.model-label";

    /// <summary>A backend's accreditation must dominate the request label.</summary>
    public const string BackendAccreditation = "policy.backend-accreditation";

    /// <summary>A backend's jurisdiction must be allowed for the request label.</summary>
    public const string Jurisdiction = "policy.jurisdiction";

    /// <summary>No candidate backend passed.</summary>
    public const string NoBackend = "policy.no-backend";
}
