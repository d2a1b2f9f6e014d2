namespace Enclave.Intel.Sigma;

/// <summary>A Sigma meta filter (the Sigma filters specification): a condition that suppresses the matches of the rules it names.</summary>
public sealed record SigmaFilter
{
    public required string Title { get; init; }

    public string? Id { get; init; }

    /// <summary>The rules it tunes, by id or name.</summary>
    public required IReadOnlyList<string> Rules { get; init; }

    /// <summary>The filter applies to events of this log source only.</summary>
    public required SigmaLogSource LogSource { get; init; }

    public required string Source { get; init; }

    internal SigmaPredicate Condition { get; init; } = null!;
}
