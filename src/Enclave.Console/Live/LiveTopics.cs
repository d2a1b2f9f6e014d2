namespace Enclave.OperatorConsole.Live;

/// <summary>What changed, as the console's live parts care: each ledger entry type maps to one of these (or none).</summary>
[Flags]
public enum LiveTopics
{
    /// <summary>Nothing a live part shows.</summary>
    None = 0,

    /// <summary>An import arrived, was verified, approved, activated or rejected (<c>import.*</c>).</summary>
    Airlock = 1,

    /// <summary>An alert was raised, acknowledged or resolved (<c>alert.*</c>).</summary>
    Alerts = 2,

    /// <summary>A key was revoked or a principal disabled or changed: every open live part checks its principal again.</summary>
    Identity = 4,
}
