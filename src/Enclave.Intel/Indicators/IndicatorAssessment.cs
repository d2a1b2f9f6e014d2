using Enclave.Intel.Stix;
using Enclave.Intel.Stix.Patterns;

namespace Enclave.Intel.Indicators;

/// <summary>An indicator with what Enclave can do with it and why (<see cref="Reasons"/> is empty only when <see cref="IndicatorStatus.Evaluable"/>).</summary>
public sealed record IndicatorAssessment
{
    public required StixIndicator Indicator { get; init; }
    public required IndicatorStatus Status { get; init; }
    public required IReadOnlyList<string> Reasons { get; init; }

    /// <summary>Null when <see cref="IndicatorStatus.NotEvaluable"/>.</summary>
    public CompiledPattern? Pattern { get; init; }

    /// <summary>Where it came from (a bundle file, a MISP event).</summary>
    public string Source { get; init; } = string.Empty;
}
