using Enclave.Policy.Labels;

namespace Enclave.Policy.Decisions;

/// <summary>A backend the router could use for a request.</summary>
/// <param name="Id">The backend's configured ID.</param>
/// <param name="Accreditation">The highest label the backend is accredited to process.</param>
/// <param name="Jurisdiction">Where the backend runs (a country or organisation code).</param>
/// <param name="LeavesEnclave">True when requests to it leave the enclave; the egress guard then applies.</param>
public sealed record BackendCandidate(string Id, SecurityLabel Accreditation, string Jurisdiction, bool LeavesEnclave);
