namespace Enclave.State.Ledger;

/// <summary>
/// The ledger's storage: entries by index, Merkle tiles by (level, index) holding the tile's hashes so far (a
/// partial tile grows in place), the latest signed checkpoint, and the log's origin and durable size. The ledger
/// (Merkle maths, signing, sequencing) lives in <c>Enclave.Ledger</c>; this is only where its bytes are kept.
/// </summary>
public interface ILedgerStore
{
    /// <summary>Whether a ledger was created here (its origin is set).</summary>
    bool Exists();

    /// <summary>The origin of the ledger, or null when none was created.</summary>
    string? Origin();

    /// <summary>Creates the ledger's meta (origin, size 0). Fails if one exists already.</summary>
    void Create(string origin);

    /// <summary>Opens a writer: one connection held for the writer's lifetime, with its statements prepared once.</summary>
    ILedgerWriter OpenWriter();

    /// <summary>
    /// Opens the lease that decides whether this writer signs checkpoints (<see cref="ICheckpointSignerLease"/>): always
    /// held on SQLite; on PostgreSQL contended by every replica's writer and checked every <paramref name="interval"/>.
    /// </summary>
    ICheckpointSignerLease OpenSignerLease(TimeSpan interval);

    /// <summary>
    /// Opens the sequencer of a database that replicas share (PostgreSQL, <see cref="ILedgerSequencer"/>): entries are
    /// stored at their indexes by any replica and integrated into the tree afterwards by one. Null on SQLite, where the
    /// writer's batch stores entries and integrates them in one transaction.
    /// </summary>
    /// <param name="writer">
    /// A name of the writer that is stable across its restarts and unique among the replicas (the replica ID of its data
    /// directory): it names the writer's row that its sequencer commits to make its batches durable.
    /// </param>
    ILedgerSequencer? OpenSequencer(string writer);

    /// <summary>Opens a read-only connection, or returns null when the data directory has no ledger.</summary>
    ILedgerConnection? OpenReader();
}

/// <summary>
/// Sequencing for replicas that share one database, as Tessera sequences its frontends: a batch of entries gets the
/// next consecutive indexes from the first coordination row (<c>next_index</c> in <c>ledger_meta</c>, locked only by the
/// statement that stores the batch) and is committed with them, durable, before <see cref="Sequence"/> returns. The
/// entries are then in the log's storage beyond the tree (<see cref="ILedgerView.SequencedSize"/>); the writer holding
/// the second coordination row (<c>tree_size</c>, <see cref="ILedgerBatch.TryLockTreeSize"/>) integrates them into
/// the tiles and the tree size. One thread at a time.
/// </summary>
public interface ILedgerSequencer : IDisposable
{
    /// <summary>
    /// Stores <paramref name="entries"/> at the next consecutive indexes and commits them in one transaction (all or none)
    /// and returns the first index. A failure leaves the log as it was, unless the commit happened and only its answer
    /// was lost (a broken connection): then the entries are in the log although the call failed.
    /// </summary>
    long Sequence(IReadOnlyList<byte[]> entries);
}

/// <summary>Reads of ledger storage; on a snapshot every read sees the same committed state.</summary>
public interface ILedgerView
{
    /// <summary>The durable number of entries integrated into the tree (its tiles and checkpoints cover them).</summary>
    long TreeSize();

    /// <summary>
    /// The number of entries sequenced: stored and committed at their indexes, integrated into the tree or not yet
    /// (<see cref="ILedgerSequencer"/>). At least <see cref="TreeSize"/>; equal to it on SQLite.
    /// </summary>
    long SequencedSize();

    /// <summary>The first <paramref name="width"/> hashes (32 bytes each) of a tile, or null when it has fewer.</summary>
    byte[]? ReadTile(int level, long index, int width);

    /// <summary>Up to <paramref name="count"/> consecutive entries from <paramref name="start"/>, stopping at a gap.</summary>
    List<byte[]> ReadEntries(long start, int count);

    /// <summary>The latest stored checkpoint (its size and whole signed note), or null before the first.</summary>
    StoredCheckpoint? ReadCheckpoint();
}

/// <summary>A connection to ledger storage. Reads outside a snapshot each see the latest commit.</summary>
public interface ILedgerConnection : ILedgerView, IDisposable
{
    /// <summary>
    /// Whether the connection is still open: false once the database ended it (a PostgreSQL restart or failover, the
    /// session terminated, the network cut), after which the connection can never be used again.
    /// </summary>
    bool IsOpen { get; }

    /// <summary>Starts a consistent read snapshot; dispose it to end it.</summary>
    ILedgerSnapshot BeginSnapshot();
}

/// <summary>A consistent read snapshot.</summary>
public interface ILedgerSnapshot : ILedgerView, IDisposable
{
}

/// <summary>The writer's connection. One batch at a time; each batch is one transaction (one fsync).</summary>
public interface ILedgerWriter : ILedgerConnection
{
    /// <summary>Starts a batch (a write transaction).</summary>
    ILedgerBatch BeginBatch();
}

/// <summary>
/// One group commit. The statements are the writer's, prepared once; a batch only binds values. Disposing an
/// uncommitted batch rolls it back. Its reads (<see cref="ILedgerView"/>) see what is committed, inside the batch.
/// </summary>
public interface ILedgerBatch : ILedgerView, IDisposable
{
    /// <summary>
    /// Locks the ledger's coordination row (<c>tree_size</c> in <c>ledger_meta</c>) until the batch ends and returns the
    /// committed tree size. Writers that share one database (replicas on PostgreSQL) are sequenced through this row, as
    /// Tessera sequences its frontends: the one holding it appends at the size it read, the others wait. A writer whose
    /// in-memory tree is behind the size it read rebuilds it from the batch's reads before appending.
    /// </summary>
    long LockTreeSize();

    /// <summary>
    /// Like <see cref="LockTreeSize"/>, but does not wait: null when another writer holds the row (it is integrating,
    /// so this one need not). On SQLite the batch's write transaction already excludes every other writer.
    /// </summary>
    long? TryLockTreeSize();

    /// <summary>Stores entry <paramref name="index"/>.</summary>
    void AppendEntry(long index, byte[] data);

    /// <summary>Stores (or grows) a tile: its hashes so far.</summary>
    void PutTile(int level, long index, byte[] hashes);

    /// <summary>Sets the durable size.</summary>
    void SetTreeSize(long size);

    /// <summary>Replaces the latest checkpoint.</summary>
    void PutCheckpoint(long size, string note);

    /// <summary>Commits everything in the batch at once.</summary>
    void Commit();
}

/// <summary>A stored checkpoint: the tree size it commits to and the whole signed note.</summary>
public sealed record StoredCheckpoint(long Size, string Note);
