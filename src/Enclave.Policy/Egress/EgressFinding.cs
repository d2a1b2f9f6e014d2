namespace Enclave.Policy.Egress;

/// <summary>One thing the egress guard found: which rule, in which message, at which characters.</summary>
/// <param name="RuleId">The rule that fired, e.g. <c>secret.private-key</c>.</param>
/// <param name="MessageIndex">Index of the message; -1 for an <c>egress.limit</c> or <c>egress.timeout</c> finding, which concerns the whole request.</param>
/// <param name="Start">Offset of the first character of the finding in that message.</param>
/// <param name="Length">Its length in characters. The finding's text is never kept.</param>
public sealed record EgressFinding(string RuleId, int MessageIndex, int Start, int Length)
{
    /// <summary>Offset one past the last character.</summary>
    public int End => Start + Length;
}
