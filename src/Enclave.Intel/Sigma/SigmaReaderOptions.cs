namespace Enclave.Intel.Sigma;

/// <summary>Bounds on Sigma rule files, which are untrusted input (they arrive through the airlock or a command line).</summary>
public sealed record SigmaReaderOptions
{
    /// <summary>Largest rule file read (bytes).</summary>
    public int MaxFileBytes { get; init; } = 256 * 1024;

    /// <summary>Deepest YAML nesting.</summary>
    public int MaxDepth { get; init; } = 16;

    /// <summary>Most YAML nodes in one file.</summary>
    public int MaxNodes { get; init; } = 20_000;

    /// <summary>Most YAML documents (rules) in one file.</summary>
    public int MaxDocuments { get; init; } = 256;

    /// <summary>Longest scalar (characters).</summary>
    public int MaxScalarLength { get; init; } = 16 * 1024;

    /// <summary>Longest <c>re</c> pattern (characters).</summary>
    public int MaxRegexLength { get; init; } = 4096;

    /// <summary>Most values one field condition may expand to (lists, <c>windash</c>, <c>base64offset</c>).</summary>
    public int MaxExpandedValues { get; init; } = 4096;

    /// <summary>Time limit of one regular-expression match (defence in depth: the engine is non-backtracking).</summary>
    public TimeSpan RegexMatchTimeout { get; init; } = TimeSpan.FromMilliseconds(250);

    /// <summary>Values of <c>%name%</c> placeholders for the <c>expand</c> modifier (a rule using an unknown one is listed).</summary>
    public IReadOnlyDictionary<string, IReadOnlyList<string>> Placeholders { get; init; } = new Dictionary<string, IReadOnlyList<string>>();

    /// <summary>The defaults.</summary>
    public static SigmaReaderOptions Default { get; } = new();
}
