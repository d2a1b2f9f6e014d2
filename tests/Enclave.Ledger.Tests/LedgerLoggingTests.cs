using Enclave.Core.Audit;
using Microsoft.Data.Sqlite;
using Microsoft.Extensions.Logging;
using Microsoft.Extensions.Logging.Testing;

namespace Enclave.Ledger.Tests;

/// <summary>The sequencer logs a commit that fails (its callers only see a failed append) and the recovery after it.</summary>
public sealed class LedgerLoggingTests
{
    [Fact]
    public async Task StorageFailure_LogsTheFailedCommit_ThenTheRecovery()
    {
        using var t = new TestLedger();
        var logger = new FakeLogger<SqliteLedger>();
        await using var log = t.Open(logger: logger);
        for (var n = 0; n < 3; n++)
        {
            await log.AppendAsync(TestLedger.Event(n));
        }

        Assert.Empty(logger.Collector.GetSnapshot());
        Sql(t, "CREATE TRIGGER sabotage BEFORE INSERT ON ledger_entries BEGIN SELECT RAISE(ABORT, 'disk on fire'); END;");

        await Assert.ThrowsAsync<LedgerWriteException>(() => log.AppendAsync(TestLedger.Event(3)).AsTask());

        var failed = Assert.Single(logger.Collector.GetSnapshot(), r => r.Id.Id == 2001);
        Assert.Equal(LogLevel.Error, failed.Level);
        Assert.Equal("the ledger could not commit a batch of 1 entries at tree size 3; none of them were appended and their callers got an error", failed.Message);
        Assert.Contains("disk on fire", failed.Exception!.Message, StringComparison.Ordinal);

        Sql(t, "DROP TRIGGER sabotage;");
        Assert.Equal(3, await log.AppendAsync(TestLedger.Event(3)));

        var recovered = Assert.Single(logger.Collector.GetSnapshot(), r => r.Id.Id == 2005);
        Assert.Equal(LogLevel.Information, recovered.Level);
        Assert.Equal("the ledger commits again after a failure; tree size 4", recovered.Message);
    }

    private static void Sql(TestLedger t, string statement)
    {
        using var connection = new SqliteConnection($"Data Source={Path.Combine(t.Directory, "enclave.db")};Pooling=False");
        connection.Open();
        using var command = connection.CreateCommand();
        command.CommandText = statement;
        command.ExecuteNonQuery();
    }
}
