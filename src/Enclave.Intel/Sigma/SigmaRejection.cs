namespace Enclave.Intel.Sigma;

/// <summary>Why a Sigma rule file or rule was refused or cannot be evaluated; an operator and a test both match it.</summary>
public enum SigmaRejection
{
    /// <summary>The file is larger than <see cref="SigmaReaderOptions.MaxFileBytes"/>.</summary>
    Oversized,

    /// <summary>The file is not valid UTF-8.</summary>
    InvalidUtf8,

    /// <summary>The YAML could not be parsed (truncated, mis-indented, unterminated quote).</summary>
    YamlSyntax,

    /// <summary>Anchors, aliases or explicit tags: refused (no alias expansion, no billion laughs).</summary>
    AnchorOrAlias,

    /// <summary>A mapping names the same key twice.</summary>
    DuplicateKey,

    /// <summary>Nesting deeper than <see cref="SigmaReaderOptions.MaxDepth"/>, or more nodes, documents or characters than allowed.</summary>
    TooLarge,

    /// <summary>A mandatory field is missing (title, logsource, detection, condition, correlation type, ...).</summary>
    MissingField,

    /// <summary>A field has the wrong shape or value.</summary>
    InvalidField,

    /// <summary>The condition does not parse or names an unknown search identifier.</summary>
    InvalidCondition,

    /// <summary>An unknown or misused value modifier.</summary>
    InvalidModifier,

    /// <summary>A regular expression that does not parse or exceeds the length bound.</summary>
    InvalidRegex,

    /// <summary>A correlation rule refers to a rule that is not in the set.</summary>
    UnknownRule,

    /// <summary>A valid Sigma construct Enclave does not evaluate (the detail names it).</summary>
    Unsupported,
}
