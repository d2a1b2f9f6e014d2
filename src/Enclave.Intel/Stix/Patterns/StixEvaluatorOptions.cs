namespace Enclave.Intel.Stix.Patterns;

/// <summary>Bounds on evaluating patterns: regular expressions and the combinations of observations tried.</summary>
public sealed record StixEvaluatorOptions
{
    /// <summary>
    /// Match timeout for a <c>MATCHES</c> regex that needs backtracking (backreferences, lookarounds); every other regex
    /// runs on <see cref="System.Text.RegularExpressions.RegexOptions.NonBacktracking"/>, linear in the input.
    /// </summary>
    public TimeSpan RegexTimeout { get; init; } = TimeSpan.FromMilliseconds(100);

    /// <summary>Most candidate bindings (sets of observations) kept per sub-expression over a stream.</summary>
    public int MaxBindings { get; init; } = 100_000;

    /// <summary>Longest property value a regex or LIKE is run on, in characters (longer values do not match).</summary>
    public int MaxRegexInput { get; init; } = 64 * 1024;

    public static StixEvaluatorOptions Default { get; } = new();
}
