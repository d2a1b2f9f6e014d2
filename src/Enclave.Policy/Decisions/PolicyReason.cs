namespace Enclave.Policy.Decisions;

/// <summary>One reason in a decision: the rule, a sentence a person can act on, and the backend it concerns.</summary>
/// <param name="RuleId">The rule, e.g. <c>policy.clearance</c>.</param>
/// <param name="Message">What was wrong and what to do.</param>
/// <param name="BackendId">The backend it concerns, or null when it concerns the request.</param>
public sealed record PolicyReason(string RuleId, string Message, string? BackendId = null);
