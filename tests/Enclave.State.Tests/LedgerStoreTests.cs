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
}

/// <summary>The <see cref="LedgerStoreTests"/> contract on a SQLite file.</summary>
public sealed class LedgerStoreOnSqlite() : LedgerStoreTests(new SqliteTarget());

/// <summary>The <see cref="LedgerStoreTests"/> contract on PostgreSQL.</summary>
public sealed class LedgerStoreOnPostgres(PostgresDatabase database) : LedgerStoreTests(database.Target()), IClassFixture<PostgresDatabase>;
