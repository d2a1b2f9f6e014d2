using System.Text;
using System.Text.Json;
using System.Text.Json.Nodes;
using Enclave.Core.Audit;
using Enclave.Ledger;
using Enclave.Policy.Identity;
using Enclave.Policy.Quotas;
using Enclave.Signing.Keys;
using Enclave.State;
using Enclave.State.Postgres;
using Enclave.State.Tests.Postgres;

namespace Enclave.Cli.Tests;

/// <summary>
/// <c>enclave state migrate --to postgres</c> against a real PostgreSQL server: an SQLite enclave's ledger, keys and
/// quotas are carried over, the ledger verifies with the same checkpoint and goes on growing from PostgreSQL, and a
/// target that holds data is refused with nothing copied.
/// </summary>
public sealed class StateMigrateCliTests : IDisposable
{
    private const string Origin = "migrate.example/ledger";
    private readonly string _data = Directory.CreateTempSubdirectory("enclave-state-migrate-").FullName;
    private readonly string _connection = PostgresServer.Shared.CreateDatabase("migrate");

    public void Dispose()
    {
        Microsoft.Data.Sqlite.SqliteConnection.ClearAllPools();
        PostgresServer.Shared.DropDatabase(_connection);
        Directory.Delete(_data, recursive: true);
    }

    [Fact]
    public async Task Migrate_CarriesLedgerKeysAndQuotas_TheLedgerVerifiesWithTheSameCheckpoint_AndASecondRunIsRefused()
    {
        var verifierKeys = SqliteLedger.Initialize(_data, Origin, postQuantum: false, TimeProvider.System);
        await using (var ledger = SqliteLedger.Open(new LedgerOptions { DataDirectory = _data }, TimeProvider.System))
        {
            for (var i = 0; i < 300; i++)
            {
                await ledger.AppendAsync(Event(i));
            }
        }

        var apiKey = new ApiKeyStore(_data, TimeProvider.System).Create("carried", "admin").Key;
        new QuotaStore(_data).Add([new QuotaUsage("user:alice", "d:2026-03-14", 7, 700)]);
        SignedCheckpoint sqliteCheckpoint;
        using (var reader = LedgerReader.Open(_data))
        {
            sqliteCheckpoint = reader.LatestCheckpoint()!;
        }

        var result = await CliRunner.RunAsync("state", "migrate", "--to", "postgres", "--connection", _connection, "--data", _data, "--json");
        Assert.True(result.ExitCode == 0, result.Error);
        var report = JsonNode.Parse(result.Out)!;
        Assert.Equal(sqliteCheckpoint.Size, report["ledgerSize"]!.GetValue<long>());
        Assert.Equal(report["ledgerSize"]!.GetValue<long>(), report["tables"]!["enclave"]!["ledger_entries"]!.GetValue<long>());

        using var postgres = new PostgresConnectionFactory(_connection);
        using (var reader = LedgerReader.Open(_data, postgres))
        {
            var carried = reader.LatestCheckpoint()!;
            Assert.Equal(sqliteCheckpoint.Note, carried.Note);
            var checkpoint = LedgerAuditor.VerifyCheckpoint(Encoding.UTF8.GetBytes(carried.Note), verifierKeys, Origin);
            Assert.Equal(checkpoint.Size, LedgerAuditor.VerifyTiles(reader.OpenTileReader(), checkpoint, checkEntries: true).EntriesChecked);
        }

        // The key and the quota counters are in PostgreSQL.
        Assert.NotNull(new ApiKeyStore(_data, TimeProvider.System, state: postgres).Validate(apiKey));
        Assert.Contains(new QuotaStore(new Enclave.State.Quotas.SqliteQuotaStore(postgres)).Load(["d:2026-03-14"]), u => u == new QuotaUsage("user:alice", "d:2026-03-14", 7, 700));

        // The log goes on from PostgreSQL, and its next checkpoint is consistent with the carried one.
        await using (var ledger = SqliteLedger.Open(new LedgerOptions { DataDirectory = _data, State = postgres }, TimeProvider.System))
        {
            await ledger.AppendAsync(Event(1000));
            var next = await ledger.CheckpointAsync();
            using var reader = LedgerReader.Open(_data, postgres);
            var older = LedgerAuditor.VerifyCheckpoint(Encoding.UTF8.GetBytes(sqliteCheckpoint.Note), LedgerKeys.LoadVerifierKeys(_data), Origin);
            var newer = LedgerAuditor.VerifyCheckpoint(Encoding.UTF8.GetBytes(next.Note), verifierKeys, Origin);
            LedgerAuditor.VerifyConsistency(older, newer, reader.ProveConsistency(older.Size, newer.Size));
        }

        // A target that holds data is refused, naming the table, and nothing more is written.
        var again = await CliRunner.RunAsync("state", "migrate", "--to", "postgres", "--connection", _connection, "--data", _data);
        Assert.Equal(7, again.ExitCode);
        Assert.Contains("is not empty", again.Error, StringComparison.Ordinal);
        Assert.Contains("nothing was copied", again.Error, StringComparison.Ordinal);
        using (var reader = LedgerReader.Open(_data, postgres))
        {
            Assert.Equal(sqliteCheckpoint.Size + 1, reader.TreeSize());
        }
    }

    private static AuditEvent Event(int n) => new()
    {
        Type = "test.appended",
        Time = new DateTimeOffset(2026, 11, 22, 0, 0, 0, TimeSpan.Zero).AddMilliseconds(n),
        Actor = "test",
        Subject = $"entry-{n}",
        Details = JsonDocument.Parse($$"""{"n":{{n}}}""").RootElement.Clone(),
    };
}
