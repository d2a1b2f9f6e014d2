using System.Diagnostics;
using System.Text;
using Enclave.State;
using Enclave.State.Postgres;
using Enclave.State.Tests.Postgres;
using Npgsql;

namespace Enclave.Ledger.Tests.Cluster;

/// <summary>
/// Two ledger writers (two replicas with the same keys) on one PostgreSQL database: exactly one holds the checkpoint
/// signer lease (a session-level advisory lock on a connection of its own) and signs; the other appends without signing
/// and its entries are covered by the signer's checkpoints; when the signer's session ends, the other takes the lease
/// over and signs, and the checkpoints of both verify against each other.
/// </summary>
public sealed class CheckpointSignerElectionTests : IDisposable
{
    private const string Origin = "cluster.example/election";
    private static readonly TimeSpan LeaseInterval = TimeSpan.FromMilliseconds(200);
    private static readonly TimeSpan TakeoverBound = TimeSpan.FromSeconds(5);
    private readonly string _root = Directory.CreateTempSubdirectory("enclave-ledger-election-").FullName;
    private readonly string _connection = PostgresServer.Shared.CreateDatabase("election");
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
    public async Task OneWriterSigns_TheOtherTakesOverWithin5s_WhenTheSignersSessionIsKilled_AndCheckpointsOfBothAreConsistent()
    {
        var (a, b, verifierKeys) = TwoReplicas();
        await using var writerA = Open(a);
        await using var writerB = Open(b);
        Assert.True(writerA.IsCheckpointSigner);
        Assert.False(writerB.IsCheckpointSigner);

        await AppendMany(writerA, 0, 40);
        await AppendMany(writerB, 1, 40);

        // B does not sign: the checkpoint it waits for is A's, and it covers B's entries too.
        var beforeKill = await writerB.CheckpointAsync();
        Assert.Equal(80, beforeKill.Size);
        Assert.False(writerB.IsCheckpointSigner);

        // The signer's lease session dies (as when its process is killed or its connection breaks).
        Assert.Equal(1, TerminateLeaseHolder());
        var sinceKill = Stopwatch.StartNew();
        while (!writerB.IsCheckpointSigner)
        {
            Assert.True(sinceKill.Elapsed < TakeoverBound, $"writer B did not take over the signer lease within {TakeoverBound}");
            await Task.Delay(20);
        }

        await AppendMany(writerB, 2, 30);
        var afterKill = await writerB.CheckpointAsync();
        Assert.True(sinceKill.Elapsed < TakeoverBound, $"writer B's first checkpoint after the kill came {sinceKill.Elapsed} after it");
        Assert.Equal(110, afterKill.Size);

        // A noticed it lost the lease and does not take it back from the live signer.
        while (writerA.IsCheckpointSigner)
        {
            Assert.True(sinceKill.Elapsed < TakeoverBound, "writer A did not notice that its lease session was gone");
            await Task.Delay(20);
        }

        await AppendMany(writerA, 3, 10);
        var latest = await writerA.CheckpointAsync();
        Assert.True(writerB.IsCheckpointSigner);
        Assert.Equal(120, latest.Size);

        using var reader = LedgerReader.Open(b.Directory, b.State);
        var older = LedgerAuditor.VerifyCheckpoint(Encoding.UTF8.GetBytes(beforeKill.Note), verifierKeys, Origin);
        var newer = LedgerAuditor.VerifyCheckpoint(Encoding.UTF8.GetBytes(afterKill.Note), verifierKeys, Origin);
        var newest = LedgerAuditor.VerifyCheckpoint(Encoding.UTF8.GetBytes(latest.Note), verifierKeys, Origin);
        LedgerAuditor.VerifyConsistency(older, newer, reader.ProveConsistency(older.Size, newer.Size));
        LedgerAuditor.VerifyConsistency(newer, newest, reader.ProveConsistency(newer.Size, newest.Size));
        var audit = LedgerAuditor.VerifyTiles(reader.OpenTileReader(), newest, checkEntries: true);
        Assert.Equal(120, audit.EntriesChecked);
    }

    [Fact]
    public async Task TheSignerClosing_HandsTheLeaseOn()
    {
        var (a, b, _) = TwoReplicas();
        var writerA = Open(a);
        await using var writerB = Open(b);
        Assert.True(writerA.IsCheckpointSigner);
        await AppendMany(writerB, 0, 5);
        await writerA.DisposeAsync();

        var sinceClose = Stopwatch.StartNew();
        while (!writerB.IsCheckpointSigner)
        {
            Assert.True(sinceClose.Elapsed < TakeoverBound, "writer B did not take the lease over from a closed signer");
            await Task.Delay(20);
        }

        await AppendMany(writerB, 1, 5);
        Assert.Equal(10, (await writerB.CheckpointAsync()).Size);
    }

    [Fact]
    public async Task OnSqlite_TheOneWriterAlwaysSigns()
    {
        var directory = Path.Combine(_root, "sqlite");
        SqliteLedger.Initialize(directory, Origin, postQuantum: false, TimeProvider.System);
        await using var writer = SqliteLedger.Open(new LedgerOptions { DataDirectory = directory }, TimeProvider.System);
        Assert.True(writer.IsCheckpointSigner);
        await AppendMany(writer, 0, 3);
        Assert.Equal(3, writer.LatestCheckpoint()!.Size);
    }

    private static async Task AppendMany(SqliteLedger writer, int task, int count)
    {
        var appends = Enumerable.Range(0, count).Select(i => writer.AppendAsync(TestLedger.Event((task * 1000) + i)).AsTask());
        await Task.WhenAll(appends);
    }

    private static SqliteLedger Open((string Directory, StateConnectionFactory State) replica) =>
        SqliteLedger.Open(new LedgerOptions { DataDirectory = replica.Directory, State = replica.State, SignerLeaseInterval = LeaseInterval }, TimeProvider.System);

    /// <summary>Ends the session holding the signer's advisory lock from outside, as PostgreSQL does when its client dies.</summary>
    private int TerminateLeaseHolder()
    {
        using var admin = new NpgsqlConnection(_connection);
        admin.Open();
        using var command = new NpgsqlCommand(
            "SELECT count(pg_terminate_backend(pid)) FROM pg_locks WHERE locktype = 'advisory' AND granted AND database = (SELECT oid FROM pg_database WHERE datname = current_database())",
            admin);
        return Convert.ToInt32(command.ExecuteScalar(), System.Globalization.CultureInfo.InvariantCulture);
    }

    private ((string Directory, StateConnectionFactory State) A, (string Directory, StateConnectionFactory State) B, IReadOnlyList<string> VerifierKeys) TwoReplicas()
    {
        var a = Replica("a");
        var verifierKeys = SqliteLedger.Initialize(a.Directory, Origin, postQuantum: false, TimeProvider.System, a.State);
        var b = Replica("b");
        CopyDirectory(Path.Combine(a.Directory, "keys"), Path.Combine(b.Directory, "keys"));
        return (a, b, verifierKeys);
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
