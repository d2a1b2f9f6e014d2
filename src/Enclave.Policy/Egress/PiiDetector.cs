namespace Enclave.Policy.Egress;

/// <summary>A configured PII pattern: a rule ID (<c>pii.email</c>) and a .NET regular expression.</summary>
/// <param name="RuleId">The rule reported for a match, starting with <c>pii.</c>.</param>
/// <param name="Pattern">The expression.</param>
/// <param name="Triggers">
/// Optional literals (ordinal) at least one of which every match contains, e.g. <c>@</c> for email addresses: text
/// holding none of them is not run through the expression. Leave null when unsure; a wrong trigger hides matches.
/// </param>
public sealed record PiiDetector(string RuleId, string Pattern, IReadOnlyList<string>? Triggers = null);
