namespace Enclave.Policy.Labels;

/// <summary>The label a request carries and how it was determined.</summary>
public sealed record RequestLabel
{
    /// <summary>The request's label.</summary>
    public required SecurityLabel Label { get; init; }

    /// <summary>Where <see cref="Label"/> came from.</summary>
    public required LabelSource Source { get; init; }

    /// <summary>Markings found in the messages (empty when the header decided).</summary>
    public IReadOnlyList<FoundMarking> Markings { get; init; } = [];

    /// <summary>Why scanning escalated, or markings that only partly parsed; empty when none.</summary>
    public IReadOnlyList<string> Problems { get; init; } = [];

    /// <summary>
    /// When <see cref="Source"/> is <see cref="LabelSource.Escalated"/>, why the scan stopped (a bound reached, or a
    /// match that timed out), without the words about the label; null otherwise.
    /// </summary>
    public string? Escalation { get; init; }
}
