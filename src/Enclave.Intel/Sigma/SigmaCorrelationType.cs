namespace Enclave.Intel.Sigma;

/// <summary>The correlation types Enclave evaluates.</summary>
public enum SigmaCorrelationType
{
    EventCount,
    ValueCount,
    Temporal,
    TemporalOrdered,
    ValueSum,
    ValueAvg,
}
