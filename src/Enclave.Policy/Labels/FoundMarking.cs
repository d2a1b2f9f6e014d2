namespace Enclave.Policy.Labels;

/// <summary>A banner or portion marking found in a message.</summary>
/// <param name="MessageIndex">Index of the message it was found in.</param>
/// <param name="Start">Offset of its first character in that message.</param>
/// <param name="Length">Its length in characters.</param>
/// <param name="Label">The label it denotes; for a marking that did not parse, its level with every compartment and releasable to nobody (fail closed).</param>
/// <param name="IsPortion">True for a portion marking such as <c>(S)</c>.</param>
/// <param name="Problem">Why the full marking did not parse, or null when it did.</param>
public sealed record FoundMarking(int MessageIndex, int Start, int Length, SecurityLabel Label, bool IsPortion, string? Problem);
