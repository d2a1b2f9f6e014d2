namespace Enclave.Inference.Text;

/// <summary>Bounds on parsing and rendering a chat template, whose text comes with the model and whose input comes from requests.</summary>
public sealed record ChatTemplateLimits
{
    /// <summary>The defaults.</summary>
    public static ChatTemplateLimits Default { get; } = new();

    /// <summary>Longest template source, in UTF-16 code units.</summary>
    public int MaxTemplateChars { get; init; } = 1024 * 1024;

    /// <summary>Longest rendered prompt, and longest string or list any expression may build, in UTF-16 code units or items.</summary>
    public int MaxOutputChars { get; init; } = 16 * 1024 * 1024;

    /// <summary>Most loop iterations (all <c>for</c> loops of one render together, plus <c>range</c> items).</summary>
    public int MaxLoopIterations { get; init; } = 1_000_000;

    /// <summary>Deepest nesting of template syntax and of macro calls.</summary>
    public int MaxDepth { get; init; } = 200;
}
