namespace Enclave.Intel.Alerts;

/// <summary>
/// Where an alert is in its lifecycle: <see cref="Open"/> → <see cref="Acknowledged"/> → <see cref="Resolved"/> or
/// <see cref="FalsePositive"/> (an open alert may also be resolved directly). Resolved and false-positive are final.
/// </summary>
public enum AlertState
{
    /// <summary>Raised; nobody has taken it yet.</summary>
    Open,

    /// <summary>Someone is looking at it.</summary>
    Acknowledged,

    /// <summary>Dealt with, with a reason.</summary>
    Resolved,

    /// <summary>Not a real problem, with a reason.</summary>
    FalsePositive,
}
