using System.Collections.Concurrent;
using System.Diagnostics;
using Enclave.Core;
using Enclave.Core.Audit;
using Enclave.Ledger.Checkpoints;
using Enclave.Ledger.Merkle;
using Enclave.Ledger.Tiles;
using Enclave.Signing.Notes;
using Enclave.State.Ledger;

namespace Enclave.Ledger;

/// <summary>
/// Sequencing split from integration, for replicas that share one PostgreSQL database (docs/cluster.md). The sequencer
/// thread stores each batch at the next indexes in one short transaction (<see cref="ILedgerSequencer"/>, the first
/// coordination row) and acknowledges it once committed; the integrator thread of whichever writer holds the signer
/// lease takes the second coordination row (<c>tree_size</c>, without waiting), hashes what every replica sequenced
/// beyond the tree into the tiles, moves the tree size on and signs a checkpoint in one transaction. So no appender
/// ever waits for the tree, and only the integrator keeps a right edge (rebuilt only when another writer integrated).
/// </summary>
public sealed partial class SqliteLedger
{
    /// <summary>How often the integrator looks for sequenced entries while the log is busy (within a second of a change).</summary>
    private static readonly TimeSpan ActivePoll = TimeSpan.FromMilliseconds(10);

    /// <summary>How often it looks while the log is quiet.</summary>
    private static readonly TimeSpan IdlePoll = TimeSpan.FromMilliseconds(100);

    private static readonly TimeSpan ActiveFor = TimeSpan.FromSeconds(1);

    private readonly Thread? _integrator;
    private readonly ManualResetEventSlim _integrate = new();
    private readonly object _integratedGate = new();

    // This writer's acknowledged entries not yet integrated, in index order, for its observers (which see an entry once
    // it is in the tree, so that the entries before it can be read back). Bounded: beyond it, observers read them back.
    private readonly ConcurrentQueue<(long Index, byte[] Data)> _unintegrated = new();
    private int _unintegratedCount;
    private long _sequencedByMe; // the end of the latest range this writer sequenced
    private long _checkpointWanted = -1; // the size CheckpointAsync asked a checkpoint for
    private volatile bool _stopIntegrating;
    private volatile bool _integratorIdle = true; // polling slowly: the sequencer wakes it after a batch
    private bool _edgeStale; // the in-memory right edge may be ahead of what was committed (a failed integration)
    private bool _takingOver;

    /// <summary>
    /// The number of entries sequenced (stored at their indexes, acknowledged) by every writer, integrated into the tree or
    /// not; <see cref="Size"/> is the integrated part, which readers serve. Equal to it on SQLite.
    /// </summary>
    public long SequencedSize() => _reader.SequencedSize();

    private TimeSpan Patience => TimeSpan.FromTicks(Math.Max(TimeSpan.FromSeconds(5).Ticks, _options.SignerLeaseInterval.Ticks * 5));

    /// <summary>Stores a batch at the next indexes (committed when this returns) and gives each its index.</summary>
    private void Sequence(List<Pending> batch)
    {
        var entries = new byte[batch.Count][];
        for (var i = 0; i < batch.Count; i++)
        {
            entries[i] = batch[i].Data ?? throw new InvalidOperationException("a checkpoint request reached the sequencer of a shared ledger");
        }

        var first = _sequencer!.Sequence(entries);
        for (var i = 0; i < batch.Count; i++)
        {
            batch[i].Index = first + i;
        }

        Volatile.Write(ref _sequencedByMe, first + batch.Count);
        if (Volatile.Read(ref _observers).Length > 0)
        {
            for (var i = 0; i < batch.Count; i++)
            {
                if (Interlocked.Increment(ref _unintegratedCount) > _options.MaxPendingAppends)
                {
                    Interlocked.Decrement(ref _unintegratedCount); // the observer reads it back from the store
                    continue;
                }

                _unintegrated.Enqueue((first + i, entries[i]));
            }
        }

        if (_failedSinceCommit)
        {
            _failedSinceCommit = false;
            LedgerLog.Recovered(_logger, first + batch.Count);
        }

        if (_integratorIdle)
        {
            _integrate.Set(); // while busy it looks every 10 ms anyway: integrating fewer, larger batches costs less
        }
    }

    /// <summary>
    /// Waits (bounded) until <paramref name="index"/>, an entry this writer acknowledged, is integrated, so that reading
    /// it right after its append finds it. Other indexes return at once: the reader answers for them.
    /// </summary>
    private void WaitIntegrated(long index)
    {
        if (index < 0 || index < Size || index >= Volatile.Read(ref _sequencedByMe))
        {
            return;
        }

        _integrate.Set();
        var patience = Patience;
        var waited = Stopwatch.StartNew();
        lock (_integratedGate)
        {
            while (Size <= index)
            {
                var left = patience - waited.Elapsed;
                if (left <= TimeSpan.Zero)
                {
                    return; // the reader says it is not in the log yet
                }

                Monitor.Wait(_integratedGate, left);
            }
        }
    }

    /// <summary>
    /// A checkpoint covering everything sequenced when asked: the signer's integrator signs one (now, whatever the
    /// interval, when this writer signs; when due otherwise), and this waits for it as long as <see cref="Patience"/>.
    /// </summary>
    private async ValueTask<SignedCheckpoint> CheckpointSequencedAsync(CancellationToken cancellationToken)
    {
        var size = Math.Max(Volatile.Read(ref _sequencedByMe), _reader.SequencedSize());
        long wanted;
        do
        {
            wanted = Interlocked.Read(ref _checkpointWanted);
        }
        while (wanted < size && Interlocked.CompareExchange(ref _checkpointWanted, size, wanted) != wanted);

        _integrate.Set();
        var patience = Patience;
        var waited = Stopwatch.StartNew(); // wall time: a test's fake clock must not make this wait forever
        var latest = _reader.LatestCheckpoint();
        while (latest is null || latest.Size < size)
        {
            if (waited.Elapsed > patience)
            {
                throw new LedgerWriteException($"no replica signed a checkpoint covering {size} entries within {patience.TotalSeconds:0.#} s; the replica holding the signer lease may be down, and another takes it over within {_options.SignerLeaseInterval.TotalSeconds:0.#} s of its session ending");
            }

            await Task.Delay(TimeSpan.FromMilliseconds(10), cancellationToken).ConfigureAwait(false);
            latest = _reader.LatestCheckpoint();
        }

        return latest;
    }

    /// <summary>
    /// The integrator: polls the two coordination rows (every 10 ms while the log is busy, 100 ms while quiet, at once when
    /// this writer sequenced a batch while it was quiet, or a caller waits for an entry or a checkpoint), learns the
    /// integrated size, and integrates when it holds the signer lease, or when the tree has not moved for two lease
    /// intervals while sequenced entries wait (the signer is down and its lease not yet taken over; it then integrates
    /// until it has caught up). On close a signer integrates everything sequenced and signs it.
    /// </summary>
    private void IntegratorLoop()
    {
        var wall = Stopwatch.StartNew();
        var lastChange = TimeSpan.Zero;
        long seenTree = -1, seenSequenced = -1;
        TimeSpan? behindSince = null;
        while (true)
        {
            var stopping = _stopIntegrating;
            if (!stopping)
            {
                var idle = wall.Elapsed - lastChange >= ActiveFor;
                _integratorIdle = idle;
                if (_integrate.Wait(idle ? IdlePoll : ActivePoll))
                {
                    lastChange = wall.Elapsed;
                }

                _integrate.Reset();
                stopping = _stopIntegrating;
            }

            NoteSignerChange();
            try
            {
                var tree = _connection.TreeSize();
                var sequenced = _connection.SequencedSize();
                Integrated(tree);
                var now = wall.Elapsed;
                if (sequenced <= tree || tree != seenTree)
                {
                    behindSince = sequenced > tree ? now : null;
                }

                if (tree != seenTree || sequenced != seenSequenced)
                {
                    lastChange = now;
                    seenTree = tree;
                    seenSequenced = sequenced;
                }

                var signer = _lease.IsHeld;
                // Once it has taken over, a writer that does not sign integrates until it has caught up with the backlog.
                var stalled = !signer && (_takingOver ? sequenced > tree : behindSince is { } since && now - since > 2 * _options.SignerLeaseInterval);
                if (stalled != _takingOver)
                {
                    _takingOver = stalled;
                    if (stalled)
                    {
                        LedgerLog.IntegratingForStalledSigner(_logger, tree, sequenced - tree);
                    }
                }

                var checkpointDue = signer && tree != _checkpointSize && CheckpointWanted(stopping);
                if ((signer || stalled) && (sequenced > tree || checkpointDue))
                {
                    IntegrateAll(final: stopping && signer);
                }
            }
#pragma warning disable CA1031 // whatever failed (storage, signing, a bug), the integrator survives and rebuilds its right edge from storage; acknowledged entries are stored already
            catch (Exception ex)
#pragma warning restore CA1031
            {
                LedgerLog.IntegrationFailed(_logger, ex, Interlocked.Read(ref _durableSize));
                _edgeStale = true;
                ReopenConnection();
            }

            if (stopping)
            {
                return;
            }
        }
    }

    /// <summary>Integrates in bounded transactions until a batch is not full (caught up with what was sequenced).</summary>
    private void IntegrateAll(bool final)
    {
        int integrated;
        do
        {
            integrated = Integrate(final);
        }
        while (integrated >= _options.MaxIntegrationBatchSize);
    }

    /// <summary>
    /// One integration: takes <c>tree_size</c> without waiting (-1 when another writer holds it), rebuilds the right edge
    /// when another writer integrated since, hashes up to <see cref="LedgerOptions.MaxIntegrationBatchSize"/> sequenced
    /// entries into the tiles, sets the tree size, signs a checkpoint when this writer holds the lease and one is due, and
    /// commits. Returns the number of entries integrated.
    /// </summary>
    private int Integrate(bool final)
    {
        using var tx = _connection.BeginBatch();
        if (tx.TryLockTreeSize() is not { } tree)
        {
            return -1; // another writer integrates now
        }

        if (_edgeStale || tree != _range.Size)
        {
            LoadState(tx);
            _edgeStale = false;
        }

        var count = (int)Math.Min(tx.SequencedSize() - tree, _options.MaxIntegrationBatchSize);
        string? note = null;
        _edgeStale = true; // until the commit: a failure below leaves the in-memory edge ahead of storage
        if (count > 0)
        {
            var entries = tx.ReadEntries(tree, count);
            if (entries.Count != count)
            {
                throw new LedgerVerificationException(LedgerFailure.EntryMismatch, $"entries {tree} to {tree + count - 1} are sequenced but entry {tree + entries.Count} is missing from storage; nothing was integrated");
            }

            var dirty = new HashSet<(int Level, EdgeTile Tile)>();
            foreach (var entry in entries)
            {
                var index = _range.Size;
                var leaf = MerkleHash.Leaf(entry);
                SetTileHash(0, index, leaf, dirty);
                _range.Append(leaf, (level, i, hash) =>
                {
                    if (level > 0 && level % TilePath.TileHeight == 0)
                    {
                        SetTileHash(level / TilePath.TileHeight, i, hash, dirty);
                    }
                });
            }

            foreach (var (level, tile) in dirty)
            {
                tx.PutTile(level, tile.Index, tile.Hashes.AsSpan(0, tile.Width * Sha256Digest.Size).ToArray());
            }

            tx.SetTreeSize(_range.Size);
        }

        if (_lease.IsHeld && _range.Size != _checkpointSize && CheckpointWanted(final))
        {
            if (count == 0 && tx.ReadCheckpoint() is { } stored && stored.Size == _range.Size)
            {
                _checkpointSize = stored.Size; // another signer covered the tree already
            }
            else
            {
                note = SignCheckpoint();
                tx.PutCheckpoint(_range.Size, note);
            }
        }

        if (count <= 0 && note is null)
        {
            _edgeStale = false; // nothing changed; the batch rolls back
            return 0;
        }

        tx.Commit();
        _edgeStale = false;
        if (note is not null)
        {
            _checkpointSize = _range.Size;
            _checkpointTime = _clock.GetUtcNow();
        }

        Integrated(_range.Size);
        return Math.Max(count, 0);
    }

    private bool CheckpointWanted(bool final) =>
        final || _options.CheckpointInterval <= TimeSpan.Zero
        || Interlocked.Read(ref _checkpointWanted) > _checkpointSize
        || _clock.GetUtcNow() - _checkpointTime >= _options.CheckpointInterval;

    private string SignCheckpoint()
    {
        var checkpoint = new Checkpoint { Origin = Origin, Size = _range.Size, RootHash = _range.Root() };
        try
        {
            return SignedNote.Sign(checkpoint.Format(), [.. _keys.Signers]);
        }
        catch (Exception ex)
        {
            LedgerLog.CheckpointSigningFailed(_logger, ex, _range.Size);
            throw;
        }
    }

    /// <summary>
    /// The tree is integrated up to <paramref name="size"/>: publishes it as <see cref="Size"/>, hands this writer's
    /// entries below it to the observers (in index order) and wakes readers waiting for their entry.
    /// </summary>
    private void Integrated(long size)
    {
        if (size > Interlocked.Read(ref _durableSize))
        {
            Interlocked.Exchange(ref _durableSize, size);
        }

        var observers = Volatile.Read(ref _observers);
        while (_unintegrated.TryPeek(out var head) && head.Index < size && _unintegrated.TryDequeue(out head))
        {
            Interlocked.Decrement(ref _unintegratedCount);
            Notify(observers, head.Index, head.Data);
        }

        lock (_integratedGate)
        {
            Monitor.PulseAll(_integratedGate);
        }
    }

    /// <summary>
    /// A fresh connection after a failure: the old one's session may be gone (its backend terminated, the network cut),
    /// and a broken connection stays broken. When the database cannot be reached the next round fails and tries again.
    /// </summary>
    private void ReopenConnection()
    {
        var old = _connection;
        try
        {
            old.Dispose();
        }
        catch (Exception ex) when (ex is System.Data.Common.DbException or InvalidOperationException or IOException)
        {
            // a broken connection may fail to close; it is dropped either way
        }

        try
        {
            _connection = _store.OpenWriter();
        }
        catch (Exception ex) when (ex is System.Data.Common.DbException or InvalidOperationException or IOException or TimeoutException)
        {
            LedgerLog.IntegrationFailed(_logger, ex, Interlocked.Read(ref _durableSize)); // the disposed one fails the next round, which reopens again
        }
    }

    /// <summary>Logs a change of signer (taken over, or lost with the lease's connection).</summary>
    private void NoteSignerChange()
    {
        var signer = _lease.IsHeld;
        if (signer == _wasSigner)
        {
            return;
        }

        _wasSigner = signer;
        if (signer)
        {
            LedgerLog.BecameSigner(_logger, Interlocked.Read(ref _durableSize));
        }
        else
        {
            LedgerLog.StoppedSigning(_logger, _lease.LastFailure);
        }
    }

    /// <summary>Stops the integrator after its last round (a signer integrates and signs everything sequenced).</summary>
    private void StopIntegrator()
    {
        _stopIntegrating = true;
        _integrate.Set();
        _integrator!.Join();
    }
}
