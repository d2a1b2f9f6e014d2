namespace Enclave.Airlock.Import;

/// <summary>
/// Where an import stands. A bundle that fails any check never gets a state: it is only an
/// <c>import.rejected</c> entry in the ledger. Only <see cref="Activated"/> artifacts are visible to the rest of
/// the enclave.
/// </summary>
public enum ImportState
{
    /// <summary>Verified (TUF, hashes, scanners) and waiting for approvals; held in quarantine, invisible.</summary>
    Verified,

    /// <summary>Rejected by an approver (or its quarantine was lost); the quarantine is removed.</summary>
    Rejected,

    /// <summary>Approved by enough people and promoted into the blob store and the registry.</summary>
    Activated,
}
