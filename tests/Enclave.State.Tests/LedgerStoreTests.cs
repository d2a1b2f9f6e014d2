using Enclave.State.Ledger;
using Microsoft.Extensions.Time.Testing;

namespace Enclave.State.Tests;

public abstract class LedgerStoreTests : IDisposable
{
    private readonly StateTarget _state;
    private readonly SqliteLedgerStore _store;

    protected LedgerStoreTests(StateTarget state)
    {
        _state = state;
        _store = new SqliteLedgerStore(state.Open(new FakeTimeProvider()));
    }

    public void Dispose()
    {
        _state.Dispose();
        GC.SuppressFinalize(this);
    }

    [Fact]
    public void Create_SetsTheOrigin_AndRefusesASecondLedger()
    {
        Assert.False(_store.Exists());
        Assert.Null(_store.OpenReader());

        _store.Create("example.org/log");

        Assert.Equal("example.org/log", _store.Origin());
        Assert.Throws<InvalidOperationException>(() => _store.Create("example.org/other"));
        Assert.Equal("example.org/log", _store.Origin());
        using var reader = _store.OpenReader()!;
        Assert.Equal(0, reader.TreeSize());
        Assert.Null(reader.ReadCheckpoint());
    }

    [Fact]
    public void CommittedBatch_IsVisibleToReaders_AllAtOnce()
    {
        _store.Create("example.org/log");
        using var writer = _store.OpenWriter();
        for (var round = 0; round < 3; round++)
        {
            using var batch = writer.BeginBatch();
            batch.AppendEntry(2 * round, [(byte)(2 * round)]);
            batch.AppendEntry((2 * round) + 1, [(byte)((2 * round) + 1)]);
            batch.PutTile(0, 0, new byte[32 * 2 * (round + 1)]);
            batch.SetTreeSize(2 * (round + 1));
            batch.PutCheckpoint(2 * (round + 1), "note " + round);
            batch.Commit();
        }

        using var reader = _store.OpenReader()!;
        Assert.Equal(6, reader.TreeSize());
        Assert.Equal([[0], [1], [2], [3], [4], [5]], reader.ReadEntries(0, 10));
        Assert.Equal(new StoredCheckpoint(6, "note 2"), reader.ReadCheckpoint());
        Assert.Equal(32 * 4, reader.ReadTile(0, 0, 4)!.Length);
        Assert.Null(reader.ReadTile(0, 0, 7));
        Assert.Null(reader.ReadTile(1, 0, 1));
    }

    [Fact]
    public void UncommittedBatch_IsRolledBack_AndTheWriterGoesOn()
    {
        _store.Create("example.org/log");
        using var writer = _store.OpenWriter();
        using (var batch = writer.BeginBatch())
        {
            batch.AppendEntry(0, [42]);
            batch.SetTreeSize(1);
        }

        Assert.Equal(0, writer.TreeSize());
        Assert.Empty(writer.ReadEntries(0, 1));

        using (var batch = writer.BeginBatch())
        {
            batch.AppendEntry(0, [7]);
            batch.SetTreeSize(1);
            batch.Commit();
        }

        Assert.Equal([[7]], writer.ReadEntries(0, 1));
    }

    [Fact]
    public void ReadEntries_StopsAtAGap()
    {
        _store.Create("example.org/log");
        using var writer = _store.OpenWriter();
        using (var batch = writer.BeginBatch())
        {
            batch.AppendEntry(0, [0]);
            batch.AppendEntry(1, [1]);
            batch.AppendEntry(3, [3]);
            batch.Commit();
        }

        Assert.Equal(2, writer.ReadEntries(0, 4).Count);
    }

    [Fact]
    public void Snapshot_KeepsSeeingWhatWasCommittedWhenItBegan()
    {
        _store.Create("example.org/log");
        using var writer = _store.OpenWriter();
        using var reader = _store.OpenReader()!;
        using (var snapshot = reader.BeginSnapshot())
        {
            Assert.Equal(0, snapshot.TreeSize());

            using (var batch = writer.BeginBatch())
            {
                batch.AppendEntry(0, [1]);
                batch.SetTreeSize(1);
                batch.Commit();
            }

            Assert.Equal(0, snapshot.TreeSize());
            Assert.Empty(snapshot.ReadEntries(0, 1));
        }

        Assert.Equal(1, reader.TreeSize());
    }

    [Fact]
    public void SecondBatch_WhileOneIsOpen_IsABug()
    {
        _store.Create("example.org/log");
        using var writer = _store.OpenWriter();
        using var batch = writer.BeginBatch();
        Assert.Throws<InvalidOperationException>(() => writer.BeginBatch());
    }

    [Fact]
    public void Sequencer_OnPostgres_StoresBatchesAtConsecutiveIndexesBeyondTheTree_AndOnSqliteThereIsNone()
    {
        _store.Create("example.org/log");
        using var sequencer = _store.OpenSequencer("test-writer");
        using var reader = _store.OpenReader()!;
        if (sequencer is null)
        {
            // SQLite: the writer's batch stores and integrates at once, so nothing is ever sequenced beyond the tree.
            Assert.IsType<LedgerStoreOnSqlite>(this);
            Assert.Equal(reader.TreeSize(), reader.SequencedSize());
            return;
        }

        Assert.Equal(0, sequencer.Sequence([[1], [2], [3]]));
        Assert.Equal(3, sequencer.Sequence([[4]]));
        Assert.Equal(0, reader.TreeSize());
        Assert.Equal(4, reader.SequencedSize());
        Assert.Equal([[1], [2], [3], [4]], reader.ReadEntries(0, 10));

        // Integration's coordination row: taken by one writer at a time; another is told at once that it is taken.
        using var first = _store.OpenWriter();
        using var second = _store.OpenWriter();
        using (var batch = first.BeginBatch())
        {
            Assert.Equal<long?>(0, batch.TryLockTreeSize());
            Assert.Equal(4, batch.SequencedSize());
            using var other = second.BeginBatch();
            Assert.Null(other.TryLockTreeSize());
        }

        using var after = second.BeginBatch();
        Assert.Equal<long?>(0, after.TryLockTreeSize());
    }

    [Fact]
    public void TryLockTreeSize_ReturnsTheTreeSize_WhenNoOtherWriterHoldsIt()
    {
        _store.Create("example.org/log");
        using var writer = _store.OpenWriter();
        using (var batch = writer.BeginBatch())
        {
            batch.AppendEntry(0, [7]);
            batch.SetTreeSize(1);
            batch.Commit();
        }

        using var next = writer.BeginBatch();
        Assert.Equal<long?>(1, next.TryLockTreeSize());
        Assert.Equal(1, next.SequencedSize());
    }
}

/// <summary>The <see cref="LedgerStoreTests"/> contract on a SQLite file.</summary>
public sealed class LedgerStoreOnSqlite() : LedgerStoreTests(new SqliteTarget());

/// <summary>The <see cref="LedgerStoreTests"/> contract on PostgreSQL.</summary>
public sealed class LedgerStoreOnPostgres(PostgresDatabase database) : LedgerStoreTests(database.Target()), IClassFixture<PostgresDatabase>;
