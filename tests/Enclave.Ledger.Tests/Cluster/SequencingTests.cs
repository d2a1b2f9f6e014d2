using System.Collections.Concurrent;
using System.Diagnostics;
using System.Globalization;
using System.Text;
using Enclave.Core.Audit;
using Enclave.Ledger.Merkle;
using Enclave.State;
using Enclave.State.Postgres;
using Enclave.State.Tests.Postgres;
using Npgsql;

namespace Enclave.Ledger.Tests.Cluster;

/// <summary>
/// Sequencing split from integration on one real PostgreSQL database (docs/cluster.md): writers of several replicas store
/// batches at consecutive indexes under the first coordination row and are acknowledged once committed; the signer's
/// integrator builds the tree under the second. Indexes stay consecutive and every acknowledged entry stays in the log
/// when a replica's batch or the integrator's transaction dies half-way (its session terminated while it waits on a
/// row lock, as when its process is killed), and the tree's root equals one recomputed from the entries.
/// </summary>
public sealed class SequencingTests : IDisposable
{
    private const string Origin = "cluster.example/sequencing";
    private static readonly TimeSpan LeaseInterval = TimeSpan.FromMilliseconds(200);
    private static readonly TimeSpan Bound = TimeSpan.FromSeconds(10);
    private readonly string _root = Directory.CreateTempSubdirectory("enclave-ledger-sequencing-").FullName;
    private readonly string _connection = PostgresServer.Shared.CreateDatabase("sequencing");
    private readonly List<StateConnectionFactory> _states = [];
    private readonly ConcurrentDictionary<long, byte[]> _acknowledged = new();
    private IReadOnlyList<string> _verifierKeys = [];

    public void Dispose()
    {
        foreach (var state in _states)
        {
            ((IDisposable)state).Dispose();
        }

        PostgresServer.Shared.DropDatabase(_connection);
        Directory.Delete(_root, recursive: true);
    }

    [Fact]
    public async Task ThreeWriters_ManyAppendersEach_GetConsecutiveIndexes_EveryAcknowledgedEntryIsStored_AndTheRootEqualsARecomputation()
    {
        var replicas = Replicas(3);
        var writers = replicas.Select(Open).ToList();
        try
        {
            Assert.Equal(1, writers.Count(w => w.IsCheckpointSigner));
            await Task.WhenAll(Enumerable.Range(0, 24).Select(t => Task.Run(() => AppendMany(writers[t % 3], t, 50))));
            var checkpoint = await writers.First(w => !w.IsCheckpointSigner).CheckpointAsync();
            Assert.Equal(24 * 50, checkpoint.Size);
            AssertOneLog(replicas[0], checkpoint, expectedSize: 24 * 50);
        }
        finally
        {
            foreach (var writer in writers)
            {
                await writer.DisposeAsync();
            }
        }
    }

    [Fact]
    public async Task Appends_AreAcknowledgedWhileNoWriterCanIntegrate_AndAreIntegratedOnceTheTreeRowIsFree()
    {
        var replicas = Replicas(2);
        await using var a = Open(replicas[0]);
        await using var b = Open(replicas[1]);
        await AppendMany(a, 0, 5);
        await a.CheckpointAsync();

        using var reader = LedgerReader.Open(replicas[0].Directory, replicas[0].State);
        Task<byte[]> readBack;
        long index;
        await using (var holder = await LockAsync("SELECT value FROM enclave.ledger_meta WHERE key = 'tree_size' FOR UPDATE"))
        {
            // Sequencing takes only next_index: appends on both replicas are acknowledged while the tree is held.
            await AppendMany(a, 1, 10);
            await AppendMany(b, 2, 10);
            Assert.Equal(5, reader.TreeSize());
            Assert.Equal(25, reader.SequencedSize());
            Assert.Equal(5, a.Size);

            // A replica reading an entry it acknowledged waits for its integration instead of saying it is not there.
            index = _acknowledged.Keys.Max();
            readBack = Task.Run(() => b.ReadEntry(index));
            await Task.Delay(100);
            Assert.False(readBack.IsCompleted);
        }

        Assert.Equal(_acknowledged[index], await readBack.WaitAsync(Bound));
        var checkpoint = await b.CheckpointAsync();
        Assert.Equal(25, checkpoint.Size);
        AssertOneLog(replicas[0], checkpoint, expectedSize: 25);
    }

    [Fact]
    public async Task AReadersConnectionEndedByTheDatabase_IsReplaced_AndTheNextReadsAnswerAsBefore()
    {
        var replicas = Replicas(1);
        SignedCheckpoint checkpoint;
        await using (var writer = Open(replicas[0]))
        {
            await AppendMany(writer, 0, 12);
            checkpoint = await writer.CheckpointAsync();
        }

        // The server's reader lives as long as the server; a PostgreSQL restart or failover ends its session (and every
        // pooled one) under it. Each read after that must answer as before, not fail from then on.
        using var reader = LedgerReader.Open(replicas[0].Directory, replicas[0].State);
        var root = reader.RootHash(checkpoint.Size);
        var index = _acknowledged.Keys.Min();
        for (var round = 0; round < 2; round++)
        {
            Assert.True(TerminateEveryOtherSession() > 0);
            Assert.Equal(checkpoint.Size, reader.TreeSize());
            Assert.Equal(checkpoint.Note, reader.LatestCheckpoint()!.Note);
            Assert.Equal(root, reader.RootHash(checkpoint.Size));
            Assert.Equal(_acknowledged[index], reader.ReadEntry(index));
        }
    }

    [Fact]
    public async Task AReplicasBatchKilledMidway_IsRolledBackWhole_LeavingNoGapOrDuplicate_AndNothingAcknowledgedIsLost()
    {
        var replicas = Replicas(2);
        await using var a = Open(replicas[0]);
        await using var b = Open(replicas[1]);
        await AppendMany(a, 0, 10);
        await AppendMany(b, 1, 10);

        // B's next batch waits on the first coordination row, inside its transaction; then its session dies.
        var refused = new ConcurrentBag<byte[]>();
        Task midway;
        await using (var holder = await LockAsync("SELECT value FROM enclave.ledger_meta WHERE key = 'next_index' FOR UPDATE"))
        {
            midway = Task.WhenAll(Enumerable.Range(0, 20).Select(i => AppendOrRecordRefusal(b, 2000 + i, refused)));
            var pid = await WaitForBlockedAsync("WITH seq AS");
            Terminate(pid);
        }

        await midway.WaitAsync(Bound);
        Assert.NotEmpty(refused); // the batch that was killed: never acknowledged

        // B goes on with a fresh session, A beside it.
        await Task.WhenAll(AppendMany(a, 3, 20), AppendMany(b, 4, 20));
        var checkpoint = await a.CheckpointAsync();
        Assert.Equal(_acknowledged.Count, checkpoint.Size);
        var entries = AssertOneLog(replicas[0], checkpoint, expectedSize: _acknowledged.Count);
        foreach (var entry in refused)
        {
            Assert.DoesNotContain(entries, e => e.AsSpan().SequenceEqual(entry));
        }
    }

    [Fact]
    public async Task TheIntegratorKilledMidway_IsRolledBack_AppendsGoOnBeingAcknowledged_AndItsNextRoundIntegratesThem()
    {
        var replicas = Replicas(1);
        await using var a = Open(replicas[0]);
        await AppendMany(a, 0, 10);
        await a.CheckpointAsync();

        using var reader = LedgerReader.Open(replicas[0].Directory, replicas[0].State);
        await using (var holder = await LockAsync("SELECT 1 FROM enclave.ledger_tiles WHERE level = 0 AND idx = 0 FOR UPDATE"))
        {
            // The integrator holds tree_size and waits to write the tile: appends are acknowledged all the same.
            await AppendMany(a, 1, 30);
            var pid = await WaitForBlockedAsync("INSERT INTO ledger_tiles");
            Assert.Equal(10, reader.TreeSize());
            Assert.Equal(40, reader.SequencedSize());
            Terminate(pid);
        }

        await AppendMany(a, 2, 10);
        var checkpoint = await a.CheckpointAsync();
        Assert.Equal(50, checkpoint.Size);
        AssertOneLog(replicas[0], checkpoint, expectedSize: 50);
    }

    /// <summary>
    /// The log is one: indexes 0..size-1 each held once, each acknowledged entry at its index, the checkpoint signed by
    /// the keys, its root equal to the root recomputed from every entry, and the stored tiles verifying against it.
    /// </summary>
    private List<byte[]> AssertOneLog((string Directory, StateConnectionFactory State) replica, SignedCheckpoint signed, long expectedSize)
    {
        using var reader = LedgerReader.Open(replica.Directory, replica.State);
        Assert.Equal(expectedSize, reader.TreeSize());
        Assert.Equal(expectedSize, reader.SequencedSize());
        var entries = new List<byte[]>();
        while (entries.Count < expectedSize)
        {
            var read = reader.ReadEntries(entries.Count, LedgerReader.MaxEntriesPerRead);
            Assert.NotEmpty(read);
            entries.AddRange(read);
        }

        Assert.Equal(expectedSize, entries.Count);
        Assert.All(_acknowledged.Keys, index => Assert.InRange(index, 0, expectedSize - 1));
        foreach (var (index, bytes) in _acknowledged)
        {
            Assert.Equal(bytes, entries[(int)index]);
        }

        var checkpoint = LedgerAuditor.VerifyCheckpoint(Encoding.UTF8.GetBytes(signed.Note), _verifierKeys, Origin);
        Assert.Equal(expectedSize, checkpoint.Size);
        Assert.Equal(MerkleProofs.Root(entries.Count, MemoryHashSource.FromLeafData(entries)), checkpoint.RootHash);
        Assert.Equal(checkpoint.RootHash, reader.RootHash(checkpoint.Size));
        Assert.Equal(expectedSize, LedgerAuditor.VerifyTiles(reader.OpenTileReader(), checkpoint, checkEntries: true).EntriesChecked);
        return entries;
    }

    private async Task AppendMany(SqliteLedger writer, int task, int count)
    {
        var appends = Enumerable.Range(0, count).Select(async i =>
        {
            var entry = TestLedger.Event((task * 1000) + i);
            var index = await writer.AppendAsync(entry);
            Assert.True(_acknowledged.TryAdd(index, entry.ToCanonicalJson()), $"index {index} was given twice");
        });
        await Task.WhenAll(appends);
    }

    private async Task AppendOrRecordRefusal(SqliteLedger writer, int n, ConcurrentBag<byte[]> refused)
    {
        var entry = TestLedger.Event(n);
        try
        {
            var index = await writer.AppendAsync(entry);
            Assert.True(_acknowledged.TryAdd(index, entry.ToCanonicalJson()), $"index {index} was given twice");
        }
        catch (LedgerWriteException)
        {
            refused.Add(entry.ToCanonicalJson());
        }
    }

    /// <summary>Holds a row lock in a transaction of the test's own until disposed (then commits, releasing it).</summary>
    private async Task<RowLock> LockAsync(string sql)
    {
        var connection = new NpgsqlConnection(_connection);
        await connection.OpenAsync();
        var transaction = await connection.BeginTransactionAsync();
        await using (var command = new NpgsqlCommand(sql, connection, transaction))
        {
            Assert.NotNull(await command.ExecuteScalarAsync());
        }

        return new RowLock(connection, transaction);
    }

    /// <summary>The backend whose statement starting with <paramref name="statement"/> waits on a lock.</summary>
    private async Task<int> WaitForBlockedAsync(string statement)
    {
        var waited = Stopwatch.StartNew();
        while (true)
        {
            await using var connection = new NpgsqlConnection(_connection);
            await connection.OpenAsync();
            await using var command = new NpgsqlCommand("SELECT pid FROM pg_stat_activity WHERE datname = current_database() AND wait_event_type = 'Lock' AND ltrim(query) LIKE @q", connection);
            command.Parameters.AddWithValue("q", statement + "%");
            if (await command.ExecuteScalarAsync() is int pid)
            {
                return pid;
            }

            Assert.True(waited.Elapsed < Bound, $"no statement '{statement}...' waited on the held row within {Bound}");
            await Task.Delay(20);
        }
    }

    /// <summary>Ends every other session of the database, as a restart of PostgreSQL does; returns how many.</summary>
    private long TerminateEveryOtherSession()
    {
        // Outside the pool: a pooled admin connection would itself be among the sessions ended the next time.
        using var admin = new NpgsqlConnection(new NpgsqlConnectionStringBuilder(_connection) { Pooling = false }.ConnectionString);
        admin.Open();
        using var command = new NpgsqlCommand("SELECT count(pg_terminate_backend(pid)) FROM pg_stat_activity WHERE datname = current_database() AND pid <> pg_backend_pid()", admin);
        return (long)command.ExecuteScalar()!;
    }

    /// <summary>Ends a backend from outside, as PostgreSQL does when its client's process dies.</summary>
    private void Terminate(int pid)
    {
        using var admin = new NpgsqlConnection(_connection);
        admin.Open();
        using var command = new NpgsqlCommand("SELECT pg_terminate_backend(@p)", admin);
        command.Parameters.AddWithValue("p", pid);
        Assert.Equal(true, command.ExecuteScalar());
    }

    private SqliteLedger Open((string Directory, StateConnectionFactory State) replica) =>
        SqliteLedger.Open(new LedgerOptions { DataDirectory = replica.Directory, State = replica.State, SignerLeaseInterval = LeaseInterval }, TimeProvider.System);

    private List<(string Directory, StateConnectionFactory State)> Replicas(int count)
    {
        var replicas = new List<(string Directory, StateConnectionFactory State)>();
        for (var i = 0; i < count; i++)
        {
            var directory = Path.Combine(_root, i.ToString(CultureInfo.InvariantCulture));
            Directory.CreateDirectory(directory);
            var state = EnclaveState.Open(directory, new StateSettings { Provider = StateProvider.Postgres, ConnectionString = _connection }, TimeProvider.System);
            _states.Add(state);
            Assert.IsType<PostgresConnectionFactory>(state);
            if (i == 0)
            {
                _verifierKeys = SqliteLedger.Initialize(directory, Origin, postQuantum: false, TimeProvider.System, state);
            }
            else
            {
                CopyDirectory(Path.Combine(replicas[0].Directory, "keys"), Path.Combine(directory, "keys"));
            }

            replicas.Add((directory, state));
        }

        return replicas;
    }

    private static void CopyDirectory(string from, string to)
    {
        Directory.CreateDirectory(to);
        foreach (var file in Directory.EnumerateFiles(from, "*", SearchOption.AllDirectories))
        {
            var target = Path.Combine(to, Path.GetRelativePath(from, file));
            Directory.CreateDirectory(Path.GetDirectoryName(target)!);
            File.Copy(file, target);
        }
    }

    private sealed class RowLock(NpgsqlConnection connection, NpgsqlTransaction transaction) : IAsyncDisposable
    {
        public async ValueTask DisposeAsync()
        {
            await transaction.CommitAsync();
            await transaction.DisposeAsync();
            await connection.DisposeAsync();
        }
    }
}
