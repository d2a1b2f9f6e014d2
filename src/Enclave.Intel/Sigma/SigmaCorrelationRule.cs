namespace Enclave.Intel.Sigma;

/// <summary>A parsed Sigma correlation rule (the Sigma correlation specification).</summary>
public sealed record SigmaCorrelationRule
{
    public required string Title { get; init; }

    public string? Id { get; init; }

    public string? Name { get; init; }

    public string? Level { get; init; }

    public required SigmaCorrelationType Type { get; init; }

    /// <summary>The rules it correlates, by id or name.</summary>
    public required IReadOnlyList<string> Rules { get; init; }

    public IReadOnlyList<string> GroupBy { get; init; } = [];

    /// <summary>alias → (rule name → field).</summary>
    public IReadOnlyDictionary<string, IReadOnlyDictionary<string, string>> Aliases { get; init; } = new Dictionary<string, IReadOnlyDictionary<string, string>>();

    public required TimeSpan Timespan { get; init; }

    /// <summary>The condition criteria (<c>gt</c>, <c>gte</c>, <c>lt</c>, <c>lte</c>, <c>eq</c>, <c>neq</c>), all of which must hold.</summary>
    public required IReadOnlyList<(string Operator, decimal Value)> Condition { get; init; }

    /// <summary>The field of <c>value_count</c>, <c>value_sum</c>, <c>value_avg</c>.</summary>
    public string? Field { get; init; }

    /// <summary>When true the rules it refers to also match on their own; by default only the correlation does.</summary>
    public bool Generate { get; init; }

    public required string Source { get; init; }

    /// <summary>True when the condition can only be decided once the window has closed (<c>lt</c>, <c>lte</c>, <c>eq</c>, <c>neq</c>).</summary>
    public bool DecidedAtWindowEnd => Condition.Any(c => c.Operator is "lt" or "lte" or "eq" or "neq") && Type is not SigmaCorrelationType.ValueAvg;

    internal bool Holds(decimal value) => Condition.All(c => c.Operator switch
    {
        "gt" => value > c.Value,
        "gte" => value >= c.Value,
        "lt" => value < c.Value,
        "lte" => value <= c.Value,
        "eq" => value == c.Value,
        _ => value != c.Value,
    });
}
