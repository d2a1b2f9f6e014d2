namespace Enclave.Intel.Stix.Patterns;

/// <summary>A parsed STIX pattern: the observation expression tree and every property comparison in it.</summary>
public sealed record StixPattern
{
    public required string Text { get; init; }
    public required ObservationExpression Root { get; init; }
    public required IReadOnlyList<PropertyComparison> Comparisons { get; init; }

    /// <summary>Whether the pattern uses <c>FOLLOWEDBY</c>, <c>WITHIN</c>, <c>REPEATS</c>, <c>START/STOP</c> or more than one observation.</summary>
    public bool NeedsStream => Root is not ObservationComparison;

    public static StixPattern Parse(string text, StixPatternLimits? limits = null) => StixPatternParser.Parse(text, limits ?? StixPatternLimits.Default);
}

/// <summary>Bounds on one pattern: its length, nesting and number of comparisons.</summary>
public sealed record StixPatternLimits
{
    public int MaxLength { get; init; } = 1024 * 1024;
    public int MaxDepth { get; init; } = 64;
    public int MaxComparisons { get; init; } = 100_000;

    public static StixPatternLimits Default { get; } = new();
}
