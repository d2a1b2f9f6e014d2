namespace Enclave.Intel.Alerts;

/// <summary>Which part of the enclave raised an alert.</summary>
public enum AlertKind
{
    /// <summary>A threat-intelligence indicator (STIX, MISP) matched something that entered or happened.</summary>
    Intel,

    /// <summary>A detection rule (Sigma) matched the audit stream.</summary>
    Detection,

    /// <summary>Insider-threat analytics found behaviour far from a principal's or peer group's baseline.</summary>
    Insider,

    /// <summary>A vulnerability finding (critical, known exploited) or stale vulnerability data.</summary>
    Vulnerability,
}
