using Enclave.Core;

namespace Enclave.Ledger;

/// <summary>What an audit of the ledger found wrong.</summary>
public enum LedgerFailure
{
    /// <summary>The checkpoint's signature did not verify with the given key(s), or the note is malformed.</summary>
    BadSignature,

    /// <summary>The checkpoint text is not a valid tlog-checkpoint.</summary>
    BadCheckpoint,

    /// <summary>The checkpoint names another log than expected.</summary>
    WrongOrigin,

    /// <summary>The newer checkpoint is not an append-only extension of the older one.</summary>
    Inconsistent,

    /// <summary>A tile needed for the tree is absent.</summary>
    TileMissing,

    /// <summary>A tile has the wrong size or disagrees with the tiles below it.</summary>
    TileCorrupt,

    /// <summary>The hashes in the tiles do not produce the checkpoint's root.</summary>
    RootMismatch,

    /// <summary>An entry bundle is absent, malformed, or its entries do not hash to the tile's leaves.</summary>
    EntryMismatch,

    /// <summary>An inclusion proof does not verify.</summary>
    BadProof,
}

/// <summary>The ledger or an exported copy of it failed verification; <see cref="Failure"/> says how.</summary>
public sealed class LedgerVerificationException : Exception, IEnclaveError<LedgerFailure>
{
    public LedgerVerificationException(LedgerFailure failure, string message)
        : base(message)
    {
        Failure = failure;
    }

    public LedgerVerificationException()
    {
    }

    public LedgerVerificationException(string message)
        : base(message)
    {
    }

    public LedgerVerificationException(string message, Exception innerException)
        : base(message, innerException)
    {
    }

    public LedgerFailure Failure { get; }

    /// <inheritdoc />
    LedgerFailure IEnclaveError<LedgerFailure>.Reason => Failure;
}
