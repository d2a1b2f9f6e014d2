using System.Text.Json;
using Enclave.Core.Audit;
using Microsoft.Extensions.Logging;

namespace Enclave.Ledger.Tests;

/// <summary>A ledger in a fresh temporary data directory, removed afterwards.</summary>
internal sealed class TestLedger : IDisposable
{
    public const string Origin = "test.example/ledger";

    public TestLedger(bool postQuantum = false, TimeProvider? clock = null)
    {
        Directory = System.IO.Directory.CreateTempSubdirectory("enclave-ledger-").FullName;
        Clock = clock ?? TimeProvider.System;
        VerifierKeys = SqliteLedger.Initialize(Directory, Origin, postQuantum, Clock);
    }

    public string Directory { get; }

    public TimeProvider Clock { get; }

    public IReadOnlyList<string> VerifierKeys { get; }

    public SqliteLedger Open(TimeSpan? checkpointInterval = null, ILogger<SqliteLedger>? logger = null) =>
        SqliteLedger.Open(new LedgerOptions { DataDirectory = Directory, CheckpointInterval = checkpointInterval ?? TimeSpan.Zero }, Clock, logger);

    public static AuditEvent Event(long n) => new()
    {
        Type = "test.appended",
        Time = new DateTimeOffset(2026, 11, 22, 0, 0, 0, TimeSpan.Zero).AddMilliseconds(n),
        Actor = "test",
        Subject = $"entry-{n}",
        Details = JsonDocument.Parse($$"""{"n":{{n}}}""").RootElement.Clone(),
    };

    public void Dispose()
    {
        try
        {
            System.IO.Directory.Delete(Directory, recursive: true);
        }
        catch (IOException)
        {
            // A process the test started may still hold a file for a moment; the OS cleans temp eventually.
        }
    }
}
