using System.Data.Common;
using System.Threading.Channels;
using Enclave.Core;
using Enclave.Core.Audit;
using Enclave.Core.Storage;
using Enclave.Ledger.Checkpoints;
using Enclave.Ledger.Merkle;
using Enclave.Ledger.Storage;
using Enclave.Ledger.Tiles;
using Enclave.Signing.Keys;
using Enclave.Signing.Notes;
using Enclave.State;
using Enclave.State.Ledger;
using Enclave.State.Migrations;
using Microsoft.Extensions.Logging;
using Microsoft.Extensions.Logging.Abstractions;

namespace Enclave.Ledger;

/// <summary>
/// The ledger writer over SQLite. A single sequencer thread takes appends from any number of callers, commits them
/// in batches (group commit: one transaction and one fsync per batch), updates the Merkle tiles in the same
/// transaction, signs a checkpoint, and only then completes the callers' tasks. Holds the data directory's
/// single-writer lock for its lifetime. On a PostgreSQL database shared by replicas the sequencer only stores each
/// batch at its indexes (<see cref="ILedgerSequencer"/>), and an integrator thread builds the tree from what every
/// replica sequenced (SqliteLedger.Integration.cs).
/// </summary>
public sealed partial class SqliteLedger : ILedger, IAsyncDisposable, IDisposable
{
    private readonly LedgerOptions _options;
    private readonly TimeProvider _clock;
    private readonly DataDirectoryLock _lock;
    private readonly LedgerKeys _keys;
    private readonly SqliteLedgerStore _store;
    private ILedgerWriter _connection; // reopened by the integrator after a failure on a shared database
    private readonly ICheckpointSignerLease _lease;
    private readonly ILedgerSequencer? _sequencer;
    private readonly LedgerReader _reader;
    private readonly ILogger _logger;
    private readonly Channel<Pending> _queue;
    private readonly Thread _writer;
    private readonly QuietTaskWaiter _writerWait = new(); // the sequencer's wait for appends, without Task.Wait's spinning
    private readonly EdgeTile?[] _edge = new EdgeTile?[8];
    private CompactRange _range = null!;
    private long _checkpointSize = -1;
    private DateTimeOffset _checkpointTime;
    private long _durableSize;
    private Exception? _fault;
    private bool _failedSinceCommit; // a commit failed and none succeeded since (logged once it does)
    private long _lastCommitStarted; // Stopwatch timestamp of the last batch commit's start (MinCommitInterval)
    private int _disposed;
    private ILedgerObserver[] _observers = [];
    private long _observerFaults;
    private bool _wasSigner;

    private SqliteLedger(LedgerOptions options, TimeProvider clock, DataDirectoryLock dirLock, LedgerKeys keys, SqliteLedgerStore store, ILedgerWriter connection, ICheckpointSignerLease lease, ILedgerSequencer? sequencer, LedgerReader reader, ILogger logger)
    {
        _options = options;
        _logger = logger;
        _clock = clock;
        _lock = dirLock;
        _keys = keys;
        _store = store;
        _connection = connection;
        _lease = lease;
        _sequencer = sequencer;
        _reader = reader;
        Origin = reader.Origin;
        _queue = Channel.CreateBounded<Pending>(new BoundedChannelOptions(options.MaxPendingAppends)
        {
            SingleReader = true,
            FullMode = BoundedChannelFullMode.Wait,
        });
        LoadState();
        _wasSigner = lease.IsHeld;
        if (lease.Shared)
        {
            LedgerLog.SignerAtOpen(_logger, _wasSigner);
        }

        _writer = new Thread(WriterLoop) { IsBackground = true, Name = "enclave-ledger-sequencer" };
        _writer.Start();
        if (sequencer is not null)
        {
            _integrator = new Thread(IntegratorLoop) { IsBackground = true, Name = "enclave-ledger-integrator" };
            _integrator.Start();
        }
    }

    /// <inheritdoc/>
    public string Origin { get; }

    /// <inheritdoc/>
    public long Size => Interlocked.Read(ref _durableSize);

    /// <summary>The verifier keys an auditor needs for this log's checkpoints.</summary>
    public IReadOnlyList<string> VerifierKeys => _keys.VerifierKeys;

    /// <summary>
    /// Creates a new ledger in <paramref name="dataDirectory"/>: the tables and the signing keys named after
    /// <paramref name="origin"/>. Fails if one exists already. Returns the verifier keys.
    /// </summary>
    public static IReadOnlyList<string> Initialize(string dataDirectory, string origin, bool postQuantum, TimeProvider clock) =>
        Initialize(dataDirectory, origin, postQuantum, clock, state: null);

    /// <summary>
    /// Creates a new ledger whose tables are in <paramref name="state"/> (null: <c>enclave.db</c> in
    /// <paramref name="dataDirectory"/>) and whose signing keys are in <paramref name="dataDirectory"/>.
    /// </summary>
    public static IReadOnlyList<string> Initialize(string dataDirectory, string origin, bool postQuantum, TimeProvider clock, StateConnectionFactory? state)
    {
        Checkpoint.ValidateOrigin(origin);
        using var dirLock = DataDirectoryLock.Acquire(dataDirectory, "enclave ledger init", clock);
        var store = new SqliteLedgerStore(state ?? EnclaveState.Open(dataDirectory, clock));
        if (store.Origin() is { } existing)
        {
            throw new LedgerArgumentException($"'{dataDirectory}' already holds a ledger (origin {existing}); nothing was changed");
        }

        using var keys = LedgerKeys.Create(dataDirectory, origin, postQuantum, clock);
        store.Create(origin);

        return keys.VerifierKeys;
    }

    /// <summary>Opens the ledger for writing, taking the data directory's single-writer lock.</summary>
    /// <param name="options">The data directory, bounds and checkpoint interval.</param>
    /// <param name="clock">The time of entries and checkpoints.</param>
    /// <param name="logger">Commits and checkpoints that fail (event IDs 2001–2005); default none.</param>
    public static SqliteLedger Open(LedgerOptions options, TimeProvider clock, ILogger<SqliteLedger>? logger = null)
    {
        ArgumentNullException.ThrowIfNull(options);
        ArgumentNullException.ThrowIfNull(clock);
        var problems = options.Validate();
        if (problems.Count > 0)
        {
            throw new ArgumentException("invalid ledger options: " + string.Join("; ", problems), nameof(options));
        }

        var dirLock = DataDirectoryLock.Acquire(options.DataDirectory, options.Purpose, clock);
        LedgerKeys? keys = null;
        ILedgerWriter? connection = null;
        ICheckpointSignerLease? lease = null;
        ILedgerSequencer? sequencer = null;
        LedgerReader? reader = null;
        SqliteLedger? ledger = null;
        try
        {
            var factory = options.State ?? EnclaveState.Open(options.DataDirectory, clock);
            reader = LedgerReader.Open(options.DataDirectory, factory);
            keys = LoadKeys(options.DataDirectory, clock);
            var store = new SqliteLedgerStore(factory);
            connection = store.OpenWriter();
            lease = store.OpenSignerLease(options.SignerLeaseInterval);
            sequencer = factory is Enclave.State.Postgres.PostgresConnectionFactory ? store.OpenSequencer(ReplicaId.Of(options.DataDirectory)) : null;
            ledger = new SqliteLedger(options, clock, dirLock, keys, store, connection, lease, sequencer, reader, (ILogger?)logger ?? NullLogger.Instance);
            ledger.RecordStateUpgrades(new StateUpgrades(factory));
            return ledger;
        }
        catch
        {
            if (ledger is not null)
            {
                ledger.Dispose();
            }
            else
            {
                reader?.Dispose();
                sequencer?.Dispose();
                lease?.Dispose();
                connection?.Dispose();
                keys?.Dispose();
                dirLock.Dispose();
            }

            throw;
        }
    }

    /// <summary>The signing keys; a missing one is this ledger's <see cref="LedgerNotFoundException"/> (exit code and message as before the keys moved to Enclave.Signing).</summary>
    private static LedgerKeys LoadKeys(string dataDirectory, TimeProvider clock)
    {
        try
        {
            return LedgerKeys.Load(dataDirectory, clock);
        }
        catch (SigningException e) when (e.Reason == SigningFailure.KeyMissing)
        {
            throw new LedgerNotFoundException(e.Message, e);
        }
    }

    /// <summary>
    /// Writes a <c>state.migrated</c> entry for every upgrade of the data directory's databases that the ledger has
    /// not recorded yet (a migration may have run in a process without the ledger writer), then marks it recorded.
    /// </summary>
    private void RecordStateUpgrades(StateUpgrades upgrades)
    {
        foreach (var upgrade in upgrades.Pending())
        {
            var details = new StateMigratedDetails
            {
                Database = upgrade.Database,
                FromVersion = upgrade.From,
                ToVersion = upgrade.To,
            };
            var entry = AuditEvent.Create(_clock.GetUtcNow(), "system", upgrade.Database, details);
            AppendAsync(entry).AsTask().GetAwaiter().GetResult();
            upgrades.MarkRecorded(upgrade);
        }
    }

    /// <inheritdoc/>
    public ValueTask<long> AppendAsync(AuditEvent auditEvent, CancellationToken cancellationToken = default)
    {
        ArgumentNullException.ThrowIfNull(auditEvent);
        return AppendRawAsync(auditEvent.ToCanonicalJson(), cancellationToken);
    }

    /// <summary>Appends raw entry bytes (1 to 65,535 bytes). Used by <see cref="AppendAsync"/> and tests.</summary>
    internal async ValueTask<long> AppendRawAsync(byte[] entry, CancellationToken cancellationToken = default)
    {
        if (entry.Length is 0 or > ushort.MaxValue)
        {
            throw new LedgerArgumentException($"an entry is 1 to {ushort.MaxValue} bytes; got {entry.Length}");
        }

        ObjectDisposedException.ThrowIf(Volatile.Read(ref _disposed) != 0, this);
        // Hash on the caller's thread: the single sequencer thread is the throughput ceiling. (Where replicas share the
        // database, the integrator hashes what every replica sequenced: not needed here.)
        var pending = new Pending(entry) { LeafHash = _sequencer is null ? MerkleHash.Leaf(entry) : default };
        await _queue.Writer.WriteAsync(pending, cancellationToken).ConfigureAwait(false);
        return await pending.Completion.Task.WaitAsync(cancellationToken).ConfigureAwait(false);
    }

    /// <inheritdoc/>
    /// <remarks>
    /// A writer that does not hold the signer lease (another replica signs, <see cref="IsCheckpointSigner"/>) waits
    /// until the signer has published a checkpoint covering the log as it was when asked, and fails with a
    /// <see cref="LedgerWriteException"/> when none comes within five lease intervals (at least 5 s).
    /// </remarks>
    public async ValueTask<SignedCheckpoint> CheckpointAsync(CancellationToken cancellationToken = default)
    {
        ObjectDisposedException.ThrowIf(Volatile.Read(ref _disposed) != 0, this);
        if (_sequencer is not null)
        {
            return await CheckpointSequencedAsync(cancellationToken).ConfigureAwait(false);
        }

        var pending = new Pending(null);
        await _queue.Writer.WriteAsync(pending, cancellationToken).ConfigureAwait(false);
        var size = await pending.Completion.Task.WaitAsync(cancellationToken).ConfigureAwait(false);
        var latest = _reader.LatestCheckpoint();
        if (latest is not null && latest.Size >= size)
        {
            return latest;
        }

        if (!_lease.Shared)
        {
            throw new InvalidOperationException("checkpoint was not stored");
        }

        var patience = Patience;
        var waited = System.Diagnostics.Stopwatch.StartNew(); // wall time: a test's fake clock must not make this wait forever
        while (latest is null || latest.Size < size)
        {
            if (waited.Elapsed > patience)
            {
                throw new LedgerWriteException($"no replica signed a checkpoint covering {size} entries within {patience.TotalSeconds:0.#} s; the replica holding the signer lease may be down, and another takes it over within {_options.SignerLeaseInterval.TotalSeconds:0.#} s of its session ending");
            }

            await Task.Delay(TimeSpan.FromMilliseconds(50), cancellationToken).ConfigureAwait(false);
            latest = _reader.LatestCheckpoint();
        }

        return latest;
    }

    /// <summary>
    /// Whether this writer signs the log's checkpoints now. Always on SQLite; on PostgreSQL one replica's writer at a
    /// time holds the signer lease (<see cref="ICheckpointSignerLease"/>), and the others append without signing.
    /// </summary>
    public bool IsCheckpointSigner => _lease.IsHeld;

    /// <summary>
    /// Adds an observer that sees every entry appended from now on, once it is durable, on the sequencer thread once the batch is
    /// committed, just before its callers are released (see <see cref="ILedgerObserver"/>; use a <see cref="LedgerFeed"/>). An
    /// observer that throws is counted in <see cref="ObserverFaults"/> and does not disturb the ledger.
    /// </summary>
    public void Subscribe(ILedgerObserver observer)
    {
        ArgumentNullException.ThrowIfNull(observer);
        ILedgerObserver[] current, updated;
        do
        {
            current = Volatile.Read(ref _observers);
            updated = [.. current, observer];
        }
        while (Interlocked.CompareExchange(ref _observers, updated, current) != current);
    }

    /// <summary>Times an observer threw (its entry was not seen by it; a <see cref="LedgerFeed"/> reads it back from the store).</summary>
    public long ObserverFaults => Interlocked.Read(ref _observerFaults);

    /// <summary>The latest published checkpoint, or null before the first.</summary>
    public SignedCheckpoint? LatestCheckpoint() => _reader.LatestCheckpoint();

    /// <inheritdoc/>
    public IReadOnlyList<Sha256Digest> ProveInclusion(long index, long treeSize) => _reader.ProveInclusion(index, treeSize);

    /// <inheritdoc/>
    public IReadOnlyList<Sha256Digest> ProveConsistency(long oldSize, long newSize) => _reader.ProveConsistency(oldSize, newSize);

    /// <inheritdoc/>
    /// <remarks>
    /// On a shared database an entry this writer acknowledged may not be integrated yet: the call then waits for its
    /// integration (as long as <see cref="CheckpointAsync"/> waits for a checkpoint) rather than say it is not in the log.
    /// </remarks>
    public byte[] ReadEntry(long index)
    {
        if (_sequencer is not null)
        {
            WaitIntegrated(index);
        }

        return _reader.ReadEntry(index);
    }

    /// <summary>
    /// The entries from <paramref name="start"/> on, at most <paramref name="count"/> (and at most
    /// <see cref="LedgerReader.MaxEntriesPerRead"/>), in one read: for a view that pages through many entries.
    /// </summary>
    public IReadOnlyList<byte[]> ReadEntries(long start, int count) => _reader.ReadEntries(start, count);

    private void Drain(List<Pending> batch)
    {
        while (batch.Count < _options.MaxBatchSize && _queue.Reader.TryRead(out var next))
        {
            batch.Add(next);
        }
    }

    private void WriterLoop()
    {
        var batch = new List<Pending>(Math.Min(_options.MaxBatchSize, 4096));
        Task<bool>? waiting = null;
        while (true)
        {
            if (!_queue.Reader.TryRead(out var first))
            {
                waiting ??= _queue.Reader.WaitToReadAsync().AsTask();
                if (_sequencer is not null)
                {
                    // Sequencing only: checkpoints and the lease are the integrator's.
                    _writerWait.Wait(waiting, Timeout.InfiniteTimeSpan);
                    if (!waiting.Result)
                    {
                        return;
                    }

                    waiting = null;
                    continue;
                }

                var timeout = _lease.Shared ? _options.SignerLeaseInterval : CheckpointDueIn();
                if (!_writerWait.Wait(waiting, timeout))
                {
                    if (_lease.Shared)
                    {
                        SignForOthers();
                    }
                    else
                    {
                        PublishDueCheckpoint();
                    }

                    continue;
                }

                var more = waiting.Result;
                waiting = null;
                if (!more)
                {
                    return;
                }

                continue;
            }

            batch.Add(first);
            Drain(batch);
            if (_sequencer is null && _options.MinCommitInterval > TimeSpan.Zero && batch.Count < _options.MaxBatchSize)
            {
                // At most one commit per MinCommitInterval: at a moderate rate the entries that arrive meanwhile share
                // this commit (one transaction, one fsync, one rewrite of the edge tiles) instead of each paying its
                // own. An idle ledger commits at once, since its last commit is long past.
                var wait = _options.MinCommitInterval - System.Diagnostics.Stopwatch.GetElapsedTime(_lastCommitStarted);
                if (wait > TimeSpan.Zero)
                {
                    Thread.Sleep((int)Math.Ceiling(wait.TotalMilliseconds)); // Sleep(TimeSpan) truncates: 0.7 ms would not wait
                    Drain(batch);
                }
            }

            _lastCommitStarted = System.Diagnostics.Stopwatch.GetTimestamp();

            try
            {
                if (_sequencer is not null)
                {
                    Sequence(batch); // durable at its indexes now; observers see it once integrated
                }
                else
                {
                    if (_fault is not null)
                    {
                        LoadState(); // storage failed before: start from what is really on disk
                    }

                    Commit(batch, forceCheckpoint: false);
                    Notify(batch); // durable now; a channel write each, so an appender that returns finds its entry in the feed
                }

                foreach (var p in batch)
                {
                    p.Completion.TrySetResult(p.Index);
                }
            }
            catch (Exception ex)
            {
                // Whatever went wrong (storage, signing, a bug), the batch's callers must see a failure rather than
                // wait forever or be acknowledged; the sequencer survives and rebuilds its state from disk.
                var failure = new LedgerWriteException($"the ledger could not store {batch.Count} entries; none of them were appended: {ex.Message}", ex);
                LedgerLog.CommitFailed(_logger, ex, batch.Count, Interlocked.Read(ref _durableSize));
                _failedSinceCommit = true;
                foreach (var p in batch)
                {
                    p.Completion.TrySetException(failure);
                }

                if (_sequencer is null)
                {
                    _fault = ex;
                    TryLoadState();
                }
            }

            batch.Clear();
        }
    }

    private void Notify(List<Pending> batch)
    {
        var observers = Volatile.Read(ref _observers);
        if (observers.Length == 0)
        {
            return;
        }

        foreach (var p in batch)
        {
            if (p.Data is not null)
            {
                Notify(observers, p.Index, p.Data);
            }
        }
    }

    private void Notify(ILedgerObserver[] observers, long index, byte[] data)
    {
        foreach (var observer in observers)
        {
            try
            {
                observer.OnAppended(index, data);
            }
#pragma warning disable CA1031 // an observer's failure must never reach the sequencer or the appenders: counted, and the observer reads back from the store
            catch (Exception)
#pragma warning restore CA1031
            {
                Interlocked.Increment(ref _observerFaults);
            }
        }
    }

    private TimeSpan CheckpointDueIn()
    {
        if (_options.CheckpointInterval <= TimeSpan.Zero || _range.Size == _checkpointSize || _range.Size == 0)
        {
            return Timeout.InfiniteTimeSpan;
        }

        var due = _checkpointTime + _options.CheckpointInterval - _clock.GetUtcNow();
        return due <= TimeSpan.Zero ? TimeSpan.Zero : due;
    }

    /// <summary>
    /// On a shared database, while idle: notes a change of signer, and when this writer holds the lease, publishes a
    /// checkpoint covering what the other writers appended since the latest one (they do not sign), once it is due.
    /// </summary>
    private void SignForOthers()
    {
        NoteSignerChange();
        var signer = _lease.IsHeld;
        if (!signer || (_options.CheckpointInterval > TimeSpan.Zero && _clock.GetUtcNow() - _checkpointTime < _options.CheckpointInterval))
        {
            return;
        }

        try
        {
            var stored = _connection.ReadCheckpoint();
            if (stored is not null && stored.Size == _connection.TreeSize())
            {
                return; // nothing new since the latest checkpoint, whoever signed it
            }
        }
        catch (Exception ex) when (ex is DbException or InvalidOperationException)
        {
            LedgerLog.DueCheckpointFailed(_logger, ex, Interlocked.Read(ref _durableSize));
            return;
        }

        PublishDueCheckpoint();
    }

    private void PublishDueCheckpoint()
    {
        try
        {
            Commit([], forceCheckpoint: true);
        }
        catch (Exception ex) when (ex is DbException or IOException or InvalidOperationException)
        {
            LedgerLog.DueCheckpointFailed(_logger, ex, Interlocked.Read(ref _durableSize));
            _failedSinceCommit = true;
            _fault = ex;
            TryLoadState();
        }
    }

    private void Commit(List<Pending> batch, bool forceCheckpoint)
    {
        using var tx = _connection.BeginBatch();

        // Sequencing across writers (replicas sharing one PostgreSQL database): the coordination row is held from here to
        // the commit, so entries get consecutive indexes whichever replica appends them; a writer that finds the tree
        // grown by another first rebuilds its right edge from what that one committed.
        if (tx.LockTreeSize() != _range.Size)
        {
            LoadState(tx);
        }

        var dirty = new HashSet<(int Level, EdgeTile Tile)>();
        var wantCheckpoint = forceCheckpoint || _options.CheckpointInterval <= TimeSpan.Zero
            || _clock.GetUtcNow() - _checkpointTime >= _options.CheckpointInterval;
        if (batch.Count > 0)
        {
            foreach (var p in batch)
            {
                if (p.Data is null)
                {
                    wantCheckpoint = true;
                    continue; // its index is set below: the size the checkpoint it asked for must cover
                }

                var index = _range.Size;
                tx.AppendEntry(index, p.Data);
                var leaf = p.LeafHash;
                SetTileHash(0, index, leaf, dirty);
                _range.Append(leaf, (level, i, hash) =>
                {
                    if (level > 0 && level % TilePath.TileHeight == 0)
                    {
                        SetTileHash(level / TilePath.TileHeight, i, hash, dirty);
                    }
                });
                p.Index = index;
            }
        }

        foreach (var p in batch)
        {
            if (p.Data is null)
            {
                p.Index = _range.Size;
            }
        }

        if (dirty.Count > 0)
        {
            foreach (var (level, tile) in dirty)
            {
                tx.PutTile(level, tile.Index, tile.Hashes.AsSpan(0, tile.Width * Sha256Digest.Size).ToArray());
            }
        }

        tx.SetTreeSize(_range.Size);
        string? note = null;
        if (wantCheckpoint && _range.Size != _checkpointSize && _lease.IsHeld)
        {
            var checkpoint = new Checkpoint { Origin = Origin, Size = _range.Size, RootHash = _range.Root() };
            try
            {
                note = SignedNote.Sign(checkpoint.Format(), [.. _keys.Signers]);
            }
            catch (Exception ex)
            {
                LedgerLog.CheckpointSigningFailed(_logger, ex, _range.Size);
                throw;
            }

            tx.PutCheckpoint(_range.Size, note);
        }

        tx.Commit();
        if (note is not null)
        {
            _checkpointSize = _range.Size;
            _checkpointTime = _clock.GetUtcNow();
        }

        Interlocked.Exchange(ref _durableSize, _range.Size);
        _fault = null;
        if (_failedSinceCommit)
        {
            _failedSinceCommit = false;
            LedgerLog.Recovered(_logger, _range.Size);
        }
    }

    private void SetTileHash(int tileLevel, long hashIndex, Sha256Digest hash, HashSet<(int Level, EdgeTile Tile)> dirty)
    {
        var tileIndex = hashIndex / TilePath.TileWidth;
        var position = (int)(hashIndex % TilePath.TileWidth);
        var tile = _edge[tileLevel];
        if (tile is null || tile.Index != tileIndex)
        {
            if (position != 0 || (tile is not null && tile.Width != TilePath.TileWidth))
            {
                throw new InvalidOperationException($"tile ({tileLevel}, {tileIndex}) out of order at position {position}");
            }

            tile = new EdgeTile(tileIndex);
            _edge[tileLevel] = tile;
        }

        if (position != tile.Width)
        {
            throw new InvalidOperationException($"tile ({tileLevel}, {tileIndex}) expects position {tile.Width}, got {position}");
        }

        hash.CopyTo(tile.Hashes.AsSpan(position * Sha256Digest.Size));
        tile.Width++;
        dirty.Add((tileLevel, tile));
    }

    private void TryLoadState()
    {
        try
        {
            LoadState();
        }
        catch (Exception ex) when (ex is DbException or IOException or InvalidOperationException or LedgerVerificationException)
        {
            LedgerLog.ReloadFailed(_logger, ex);
            _fault = ex; // retried before the next batch
        }
    }

    /// <summary>Rebuilds the in-memory right edge (compact range and partial tiles) from what is committed.</summary>
    private void LoadState()
    {
        using var tx = _connection.BeginSnapshot();
        LoadState(tx);
    }

    /// <summary>Rebuilds the in-memory right edge from what <paramref name="tx"/> reads as committed.</summary>
    private void LoadState(ILedgerView tx)
    {
        var size = tx.TreeSize();
        var tiles = new StoreTileReader(tx);
        _range = CompactRange.FromSource(size, new TileHashSource(tiles, size));
        Array.Clear(_edge);
        for (var level = 0; level < _edge.Length; level++)
        {
            var width = TilePath.PartialWidth(level, size);
            if (width == 0)
            {
                continue;
            }

            var index = TilePath.FullTiles(level, size);
            var hashes = tiles.ReadTile(level, index, width)
                ?? throw new LedgerVerificationException(LedgerFailure.TileMissing, $"partial tile {TilePath.Tile(level, index, width)} is missing");
            var tile = new EdgeTile(index) { Width = width };
            hashes.CopyTo(tile.Hashes, 0);
            _edge[level] = tile;
        }

        var checkpoint = LedgerReader.ReadCheckpoint(tx);
        _checkpointSize = checkpoint?.Size ?? -1;
        _checkpointTime = checkpoint is null ? DateTimeOffset.MinValue : _clock.GetUtcNow();
        if (_sequencer is null)
        {
            Interlocked.Exchange(ref _durableSize, size);
        }
        else
        {
            Integrated(size);
        }

        _fault = null;
    }

    /// <summary>Stops accepting appends, finishes the queued ones, publishes a final checkpoint and releases the lock.</summary>
    public async ValueTask DisposeAsync()
    {
        if (Interlocked.Exchange(ref _disposed, 1) != 0)
        {
            return;
        }

        _queue.Writer.TryComplete();
        await Task.Run(() => _writer.Join()).ConfigureAwait(false);
        if (_integrator is not null)
        {
            await Task.Run(StopIntegrator).ConfigureAwait(false); // a signer integrates what is left and signs it first
        }
        else if ((_options.CheckpointInterval > TimeSpan.Zero || _lease.Shared) && _range.Size != _checkpointSize && _lease.IsHeld)
        {
            PublishDueCheckpoint();
        }

        _sequencer?.Dispose();
        _integrate.Dispose();
        _lease.Dispose(); // a signer hands the lease on: the next writer to try takes it
        _reader.Dispose();
        _connection.Dispose();
        _keys.Dispose();
        _lock.Dispose();
    }

    /// <inheritdoc/>
    public void Dispose() => DisposeAsync().AsTask().GetAwaiter().GetResult();

    private sealed class Pending(byte[]? data)
    {
        public byte[]? Data { get; } = data;

        public Sha256Digest LeafHash { get; init; }

        public long Index { get; set; }

        public TaskCompletionSource<long> Completion { get; } = new(TaskCreationOptions.RunContinuationsAsynchronously);
    }

    private sealed class EdgeTile(long index)
    {
        public long Index { get; } = index;

        public byte[] Hashes { get; } = new byte[TilePath.TileWidth * Sha256Digest.Size];

        public int Width { get; set; }
    }
}
