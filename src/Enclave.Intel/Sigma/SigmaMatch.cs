namespace Enclave.Intel.Sigma;

/// <summary>What matched: a detection rule on one event, or a correlation rule on a window of events.</summary>
public enum SigmaMatchKind
{
    Detection,
    Correlation,
}

/// <summary>A hit of a Sigma rule, with the events (positions) that are its evidence.</summary>
public sealed record SigmaMatch
{
    public required SigmaMatchKind Kind { get; init; }

    public string? RuleId { get; init; }

    public required string Title { get; init; }

    public string? Level { get; init; }

    /// <summary>The time of the event that completed the match (a correlation decided at its window's end: the end).</summary>
    public required DateTimeOffset Time { get; init; }

    /// <summary>The positions (ledger indices, line numbers) of the evidence events, oldest first, at most <see cref="SigmaEngineOptions.MaxEvidence"/>.</summary>
    public required IReadOnlyList<long> Evidence { get; init; }

    /// <summary>For a correlation: the group-by field values the window belongs to.</summary>
    public IReadOnlyDictionary<string, string?> Group { get; init; } = new Dictionary<string, string?>();

    /// <summary>For a correlation: the count, distinct count, sum or average that met the condition.</summary>
    public decimal? Value { get; init; }
}
