namespace Enclave.State.Ledger;

/// <summary>
/// The right to sign the ledger's checkpoints, held by one writer at a time. On SQLite the one writer of the data
/// directory always holds it. On PostgreSQL the writers of every replica contend for it: a session-level advisory lock
/// taken on a connection of its own, which PostgreSQL releases when that session ends (the replica stopped, was killed,
/// or lost its connection), so that another writer takes it at its next try.
/// </summary>
public interface ICheckpointSignerLease : IDisposable
{
    /// <summary>Whether other writers share the log, so that the lease can change hands (PostgreSQL).</summary>
    bool Shared { get; }

    /// <summary>Whether this writer held the lease at its latest check.</summary>
    bool IsHeld { get; }

    /// <summary>Why the latest check failed (the lease's connection broke or could not be opened), or null.</summary>
    Exception? LastFailure { get; }
}

/// <summary>The lease of a writer that is alone on its database (SQLite): always held.</summary>
internal sealed class SoleWriterLease : ICheckpointSignerLease
{
    public static readonly SoleWriterLease Instance = new();

    public bool Shared => false;

    public bool IsHeld => true;

    public Exception? LastFailure => null;

    public void Dispose()
    {
    }
}
