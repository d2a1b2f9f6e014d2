using Enclave.Core;

namespace Enclave.Intel.Sigma;

/// <summary>A Sigma rule file or rule refused; <see cref="Reason"/> is what an operator and a test match.</summary>
public sealed class SigmaRejectedException : Exception, IEnclaveError<SigmaRejection>
{
    public SigmaRejectedException(SigmaRejection reason, string detail)
        : base($"sigma rule rejected ({ToCode(reason)}): {detail}")
    {
        Reason = reason;
        Detail = detail;
    }

    public SigmaRejectedException()
        : this(SigmaRejection.InvalidField, "invalid rule")
    {
    }

    public SigmaRejectedException(string message)
        : this(SigmaRejection.InvalidField, message)
    {
    }

    public SigmaRejectedException(string message, Exception innerException)
        : base(message, innerException)
    {
        Reason = SigmaRejection.InvalidField;
        Detail = message;
    }

    public SigmaRejection Reason { get; }

    /// <summary>What was wrong and where, in words.</summary>
    public string Detail { get; }

    /// <summary>The reason as a kebab-case code (<c>duplicate-key</c>, <c>anchor-or-alias</c>).</summary>
    public static string ToCode(SigmaRejection reason) => reason switch
    {
        SigmaRejection.Oversized => "oversized",
        SigmaRejection.InvalidUtf8 => "invalid-utf8",
        SigmaRejection.YamlSyntax => "yaml-syntax",
        SigmaRejection.AnchorOrAlias => "anchor-or-alias",
        SigmaRejection.DuplicateKey => "duplicate-key",
        SigmaRejection.TooLarge => "too-large",
        SigmaRejection.MissingField => "missing-field",
        SigmaRejection.InvalidField => "invalid-field",
        SigmaRejection.InvalidCondition => "invalid-condition",
        SigmaRejection.InvalidModifier => "invalid-modifier",
        SigmaRejection.InvalidRegex => "invalid-regex",
        SigmaRejection.UnknownRule => "unknown-rule",
        SigmaRejection.Unsupported => "unsupported",
        _ => reason.ToString(),
    };
}
