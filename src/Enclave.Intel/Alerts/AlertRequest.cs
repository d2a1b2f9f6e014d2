namespace Enclave.Intel.Alerts;

/// <summary>What a source (intel matching, a detection rule, insider analytics, vulnerability findings) asks to raise.</summary>
public sealed record AlertRequest
{
    /// <summary>Which part of the enclave raises it.</summary>
    public required AlertKind Kind { get; init; }

    /// <summary>How urgent it is.</summary>
    public required AlertSeverity Severity { get; init; }

    /// <summary>One line, e.g. "import of model llama matched indicator 'known bad weights'".</summary>
    public required string Title { get; init; }

    /// <summary>What it concerns, in the ledger's subject form: <c>import:ID</c>, <c>model:NAME</c>, <c>user:NAME</c>.</summary>
    public required string Subject { get; init; }

    /// <summary>Why it was raised.</summary>
    public required AlertEvidence Evidence { get; init; }

    /// <summary>
    /// Optional: raise at most one alert for this key, ever (e.g. <c>vuln:ARTIFACT:PURL:ADVISORY</c>, or an
    /// indicator ID and a ledger index). Raising again with a key already used returns the existing alert and writes nothing.
    /// </summary>
    public string? DeduplicationKey { get; init; }

    /// <summary>Who raises it, as a ledger actor: <c>system</c> (the default) or the principal whose action did.</summary>
    public string Actor { get; init; } = "system";
}
