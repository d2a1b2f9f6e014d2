using Enclave.Core;

namespace Enclave.State;

/// <summary>Why the state layer refused or failed.</summary>
public enum StateFailure
{
    /// <summary>The database was written by a newer release (its schema version is above this binary's).</summary>
    NewerThanBinary,

    /// <summary>A migration failed; its transaction was rolled back and the database is as it was before it.</summary>
    MigrationFailed,

    /// <summary>The database holds tables this binary does not recognise as Enclave's and has no schema version.</summary>
    Unrecognised,

    /// <summary>The database could not be opened (a PostgreSQL server unreachable, a login refused, a file not writable).</summary>
    Unavailable,

    /// <summary>A copy of an enclave's state was refused: its target already holds data (nothing was copied).</summary>
    TargetNotEmpty,
}

/// <summary>The state layer's one exception: a <see cref="StateFailure"/> an operator and a test can both match.</summary>
public sealed class StateException : Exception, IEnclaveError<StateFailure>
{
    public StateException(StateFailure reason, string message, Exception? innerException = null)
        : base(message, innerException) => Reason = reason;

    public StateException()
    {
    }

    public StateException(string message)
        : base(message)
    {
    }

    public StateException(string message, Exception innerException)
        : base(message, innerException)
    {
    }

    /// <summary>What went wrong.</summary>
    public StateFailure Reason { get; }
}
