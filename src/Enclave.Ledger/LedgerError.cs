namespace Enclave.Ledger;

/// <summary>
/// Why the ledger refused a request (the reason of <see cref="LedgerNotFoundException"/> and
/// <see cref="LedgerArgumentException"/>); what an audit found wrong is a <see cref="LedgerFailure"/>.
/// </summary>
public enum LedgerError
{
    /// <summary>The data directory holds no ledger, or not its signing key or the checkpoint asked for.</summary>
    NotFound,

    /// <summary>A request named an index, size or entry the ledger does not have or cannot take; nothing changed.</summary>
    InvalidArgument,
}
