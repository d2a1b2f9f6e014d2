namespace Enclave.Policy.Egress;

/// <summary>A configured PII pattern: a rule ID (<c>pii.email</c>) and a .NET regular expression.</summary>
public sealed record PiiDetector(string RuleId, string Pattern);
