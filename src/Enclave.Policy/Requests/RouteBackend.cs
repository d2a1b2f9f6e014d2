namespace Enclave.Policy.Requests;

/// <summary>A backend that may serve a model, with what it is accredited for.</summary>
/// <param name="Name">The backend's name (an upstream's configured name, or the built-in engine's).</param>
/// <param name="Accreditation">The highest label it may process, in marking syntax; null for the built-in engine (<c>Policy:LocalAccreditation</c>).</param>
/// <param name="Jurisdiction">Where it runs (<c>local</c> inside the enclave, or a country or organisation code).</param>
/// <param name="LeavesEnclave">Whether requests to it leave the enclave; the egress guard then inspects what is sent.</param>
public sealed record RouteBackend(string Name, string? Accreditation, string Jurisdiction, bool LeavesEnclave)
{
    /// <summary>The jurisdiction of backends inside the enclave.</summary>
    public const string LocalJurisdiction = "local";
}
