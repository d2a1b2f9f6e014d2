namespace Enclave.Policy.Labels;

/// <summary>One classification level: its banner name (<c>TOP SECRET</c>) and portion abbreviation (<c>TS</c>).</summary>
public sealed record LabelLevel(string Name, string Abbreviation);
