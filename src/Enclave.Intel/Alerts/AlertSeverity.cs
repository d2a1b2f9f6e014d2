namespace Enclave.Intel.Alerts;

/// <summary>How urgent an alert is, lowest first (the order filters use: "high" means high or critical).</summary>
public enum AlertSeverity
{
    /// <summary>For the record; nothing to do.</summary>
    Info,

    /// <summary>Look when convenient.</summary>
    Low,

    /// <summary>Look today.</summary>
    Medium,

    /// <summary>Look now.</summary>
    High,

    /// <summary>Act now.</summary>
    Critical,
}
