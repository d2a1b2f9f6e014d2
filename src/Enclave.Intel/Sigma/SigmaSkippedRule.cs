namespace Enclave.Intel.Sigma;

/// <summary>A rule (or file) that was not loaded, and why: listed, never silently dropped.</summary>
public sealed record SigmaSkippedRule
{
    public required string Source { get; init; }

    public string? Id { get; init; }

    public string? Title { get; init; }

    public required SigmaRejection Reason { get; init; }

    public required string Detail { get; init; }
}
