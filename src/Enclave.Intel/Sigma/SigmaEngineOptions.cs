namespace Enclave.Intel.Sigma;

/// <summary>Memory bounds of online correlation.</summary>
public sealed record SigmaEngineOptions
{
    /// <summary>Most open groups (group-by values) per correlation rule; beyond it the least recently seen is dropped.</summary>
    public int MaxGroupsPerCorrelation { get; init; } = 100_000;

    /// <summary>Most events remembered per group window; beyond it the oldest is dropped (counted).</summary>
    public int MaxEventsPerGroup { get; init; } = 10_000;

    /// <summary>Most evidence positions named in one match.</summary>
    public int MaxEvidence { get; init; } = 256;

    public static SigmaEngineOptions Default { get; } = new();
}
