using System.Collections.Concurrent;
using System.Text;
using Enclave.State;
using Enclave.State.Postgres;
using Enclave.State.Tests.Postgres;

namespace Enclave.Ledger.Tests.Cluster;

/// <summary>
/// Two ledger writers (two replicas: separate data directories holding the same signing keys) on one PostgreSQL
/// database, appending at once: the coordination row sequences them into one log with consecutive indexes, every
/// acknowledged entry is at the index it was given, and the checkpoints either writer signed verify against each other.
/// </summary>
public sealed class SharedDatabaseWritersTests : IDisposable
{
    private const string Origin = "cluster.example/ledger";
    private readonly string _root = Directory.CreateTempSubdirectory("enclave-ledger-cluster-").FullName;
    private readonly string _connection = PostgresServer.Shared.CreateDatabase("ledger");
    private readonly List<StateConnectionFactory> _states = [];

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
    public async Task TwoWriters_OnOneDatabase_AppendOneLog_WithConsecutiveIndexes_AndCheckpointsThatVerifyAcrossWriters()
    {
        var a = Replica("a");
        var verifierKeys = SqliteLedger.Initialize(a.Directory, Origin, postQuantum: false, TimeProvider.System, a.State);
        var b = Replica("b");
        CopyDirectory(Path.Combine(a.Directory, "keys"), Path.Combine(b.Directory, "keys"));

        await using var writerA = SqliteLedger.Open(new LedgerOptions { DataDirectory = a.Directory, State = a.State }, TimeProvider.System);
        await using var writerB = SqliteLedger.Open(new LedgerOptions { DataDirectory = b.Directory, State = b.State }, TimeProvider.System);

        var acknowledged = new ConcurrentDictionary<long, byte[]>();
        async Task AppendMany(SqliteLedger writer, int task, int count)
        {
            for (var i = 0; i < count; i++)
            {
                var entry = TestLedger.Event((task * 1000) + i);
                var index = await writer.AppendAsync(entry);
                Assert.True(acknowledged.TryAdd(index, entry.ToCanonicalJson()), $"index {index} was given twice");
            }
        }

        await Task.WhenAll(Enumerable.Range(0, 4).Select(t => Task.Run(() => AppendMany(writerA, t, 60))));
        var early = await writerA.CheckpointAsync();
        await Task.WhenAll(Enumerable.Range(4, 8).Select(t => Task.Run(() => AppendMany(t % 2 == 0 ? writerA : writerB, t, 60))));
        var late = await writerB.CheckpointAsync();

        Assert.Equal(Enumerable.Range(0, 12 * 60).Select(i => (long)i), acknowledged.Keys.Order());
        Assert.Equal(12 * 60, late.Size);

        using var reader = LedgerReader.Open(b.Directory, b.State);
        foreach (var (index, bytes) in acknowledged)
        {
            Assert.Equal(bytes, reader.ReadEntry(index));
        }

        // The checkpoint writer A signed and the one writer B signed verify with the same keys, and B's extends A's.
        var older = LedgerAuditor.VerifyCheckpoint(Encoding.UTF8.GetBytes(early.Note), verifierKeys, Origin);
        var newer = LedgerAuditor.VerifyCheckpoint(Encoding.UTF8.GetBytes(late.Note), verifierKeys, Origin);
        LedgerAuditor.VerifyConsistency(older, newer, reader.ProveConsistency(older.Size, newer.Size));
        var audit = LedgerAuditor.VerifyTiles(reader.OpenTileReader(), newer, checkEntries: true);
        Assert.Equal(newer.Size, audit.EntriesChecked);
    }

    private (string Directory, StateConnectionFactory State) Replica(string name)
    {
        var directory = Path.Combine(_root, name);
        Directory.CreateDirectory(directory);
        var state = EnclaveState.Open(directory, new StateSettings { Provider = StateProvider.Postgres, ConnectionString = _connection }, TimeProvider.System);
        _states.Add(state);
        Assert.IsType<PostgresConnectionFactory>(state);
        return (directory, state);
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
}
