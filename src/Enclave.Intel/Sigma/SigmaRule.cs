namespace Enclave.Intel.Sigma;

/// <summary>A parsed Sigma detection rule: its metadata and its compiled detection.</summary>
public sealed record SigmaRule
{
    public required string Title { get; init; }

    public string? Id { get; init; }

    /// <summary>The optional <c>name</c> correlation rules may refer to it by.</summary>
    public string? Name { get; init; }

    public string? Status { get; init; }

    public string? Level { get; init; }

    public string? Description { get; init; }

    public required SigmaLogSource LogSource { get; init; }

    public IReadOnlyList<string> Tags { get; init; } = [];

    public IReadOnlyList<string> FalsePositives { get; init; } = [];

    /// <summary>The rule's condition, as written.</summary>
    public required string Condition { get; init; }

    /// <summary>The file (and document) it came from.</summary>
    public required string Source { get; init; }

    internal SigmaPredicate Detection { get; init; } = null!;

    /// <summary>True when the event comes from a log source the rule covers and its detection condition holds.</summary>
    public bool Matches(SigmaEvent e)
    {
        ArgumentNullException.ThrowIfNull(e);
        return LogSource.Covers(e.LogSource) && Detection.Matches(e);
    }
}
