namespace Enclave.Intel.Sigma;

/// <summary>A Sigma log source: <c>product</c>, <c>category</c>, <c>service</c> (each optional).</summary>
public sealed record SigmaLogSource
{
    public string? Product { get; init; }

    public string? Category { get; init; }

    public string? Service { get; init; }

    /// <summary>
    /// True when every key this (a rule's) log source names equals the event's, ignoring case. A rule that names a
    /// key the event's source does not have does not match it.
    /// </summary>
    public bool Covers(SigmaLogSource eventSource)
    {
        ArgumentNullException.ThrowIfNull(eventSource);
        return Same(Product, eventSource.Product) && Same(Category, eventSource.Category) && Same(Service, eventSource.Service);
    }

    public override string ToString() => string.Join(", ", new[] { ("product", Product), ("category", Category), ("service", Service) }.Where(p => p.Item2 is not null).Select(p => $"{p.Item1}: {p.Item2}"));

    private static bool Same(string? rule, string? actual) => rule is null || string.Equals(rule, actual, StringComparison.OrdinalIgnoreCase);
}
