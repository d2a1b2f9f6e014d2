namespace Enclave.Intel.Vulnerabilities.Osv;

/// <summary>A record that was reported and skipped; the rest of its source was applied.</summary>
public sealed record OsvProblem(string Source, VulnerabilityDataRejection Reason, string Message);
