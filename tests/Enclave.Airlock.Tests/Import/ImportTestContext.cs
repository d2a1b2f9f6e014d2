using System.Globalization;
using System.Text;
using Enclave.Airlock.Bundles;
using Enclave.Airlock.Import;
using Enclave.Core;
using Enclave.Core.Audit;
using Enclave.Ledger;
using Enclave.Ledger.Checkpoints;
using Microsoft.Data.Sqlite;
using Microsoft.Extensions.Logging.Testing;

namespace Enclave.Airlock.Tests.Import;

/// <summary>A ledger that fails appends of chosen event types (injected storage failure); everything else is the real ledger.</summary>
internal sealed class FaultyLedger(ILedger inner) : ILedger
{
    public HashSet<string> FailTypes { get; } = new(StringComparer.Ordinal);

    public string Origin => inner.Origin;

    public long Size => inner.Size;

    public ValueTask<long> AppendAsync(AuditEvent auditEvent, CancellationToken cancellationToken = default) =>
        FailTypes.Contains(auditEvent.Type)
            ? throw new IOException($"injected ledger failure appending {auditEvent.Type}")
            : inner.AppendAsync(auditEvent, cancellationToken);

    public ValueTask<SignedCheckpoint> CheckpointAsync(CancellationToken cancellationToken = default) => inner.CheckpointAsync(cancellationToken);

    public IReadOnlyList<Sha256Digest> ProveInclusion(long index, long treeSize) => inner.ProveInclusion(index, treeSize);

    public IReadOnlyList<Sha256Digest> ProveConsistency(long oldSize, long newSize) => inner.ProveConsistency(oldSize, newSize);

    public byte[] ReadEntry(long index) => inner.ReadEntry(index);
}

/// <summary>Everything the enclave's state consists of, captured to prove that a failure changed nothing.</summary>
internal sealed record EnclaveStateSnapshot(string Tables, string Blobs, string Artifacts, string Quarantine, long LedgerSize);

/// <summary>
/// A real data directory: a real SQLite ledger (initialized and opened), the importer over it, and a connected-side
/// repository with one demo model published. Root is pinned by <see cref="InitializeAsync"/>.
/// </summary>
public sealed class ImportTestContext : IAsyncDisposable
{
    private readonly string _root = Directory.CreateTempSubdirectory("enclave-import-").FullName;
    private SqliteLedger? _ledger;

    internal ImportTestRepository Repo { get; } = new();

    internal string Data => Path.Combine(_root, "data");

    internal FaultyLedger Ledger { get; private set; } = null!;

    internal AirlockImporter Importer { get; private set; } = null!;

    internal Action<string>? FaultPoint { get; set; }

    internal AirlockImportOptions Options { get; private set; } = null!;

    /// <summary>What the importer logged.</summary>
    internal FakeLogger<AirlockImporter> Log { get; } = new();

    internal static async Task<ImportTestContext> CreateAsync(bool pin = true, Func<AirlockImportOptions, AirlockImportOptions>? configure = null)
    {
        var context = new ImportTestContext();
        context.Repo.AddArtifact("model", "demo-chat", "1.0.0", ImportTestRepository.DemoModelFiles());
        context.Repo.Publish();
        SqliteLedger.Initialize(context.Data, "airlock.test/log", postQuantum: false, context.Repo.Clock);
        context.OpenLedger();
        context.NewImporter(configure);
        if (pin)
        {
            await context.Importer.PinTrustAsync(context.Repo.RootV1, "user:admin");
        }

        return context;
    }

    internal void OpenLedger()
    {
        _ledger = SqliteLedger.Open(new LedgerOptions { DataDirectory = Data }, Repo.Clock);
        Ledger = new FaultyLedger(_ledger);
    }

    internal async Task CloseLedgerAsync()
    {
        if (_ledger is not null)
        {
            await _ledger.DisposeAsync();
            _ledger = null;
        }
    }

    internal void NewImporter(Func<AirlockImportOptions, AirlockImportOptions>? configure = null)
    {
        var options = new AirlockImportOptions
        {
            DataDirectory = Data,
            Bundle = new BundleReaderOptions { FlushToDisk = false },
            FaultPoint = step => FaultPoint?.Invoke(step),
        };
        Options = configure?.Invoke(options) ?? options;
        Importer = new AirlockImporter(Options, Ledger, Repo.Clock, Log);
    }

    internal Task<ImportRecord> ImportAsync(TestBundle bundle, string actor = "user:alice") =>
        Importer.ImportAsync(new MemoryStream(bundle.ToTar()), actor);

    internal Task<ImportRecord> ImportAsync(byte[] tar, string actor = "user:alice") =>
        Importer.ImportAsync(new MemoryStream(tar), actor);

    internal TestBundle DemoBundle() => Repo.Bundle("model", "demo-chat", "1.0.0");

    internal EnclaveStateSnapshot Capture()
    {
        var tables = new StringBuilder();
        using (var connection = new SqliteConnection(new SqliteConnectionStringBuilder { DataSource = Path.Combine(Data, "enclave.db"), Pooling = false }.ToString()))
        {
            connection.Open();
            var names = new List<string>();
            using (var command = connection.CreateCommand())
            {
                command.CommandText = "SELECT name FROM sqlite_master WHERE type = 'table' AND name LIKE 'airlock_%' ORDER BY name";
                using var reader = command.ExecuteReader();
                while (reader.Read())
                {
                    names.Add(reader.GetString(0));
                }
            }

            foreach (var name in names)
            {
                tables.Append("## ").Append(name).Append('\n');
                using var command = connection.CreateCommand();
                command.CommandText = $"SELECT * FROM {name} ORDER BY 1, 2";
                using var reader = command.ExecuteReader();
                while (reader.Read())
                {
                    for (var i = 0; i < reader.FieldCount; i++)
                    {
                        var value = reader.GetValue(i);
                        tables.Append(value is byte[] bytes ? Sha256Digest.Compute(bytes).ToHex() : Convert.ToString(value, CultureInfo.InvariantCulture)).Append('|');
                    }

                    tables.Append('\n');
                }
            }
        }

        return new EnclaveStateSnapshot(tables.ToString(), Listing(Path.Combine(Data, "blobs")), Listing(Path.Combine(Data, "artifacts")), Listing(Path.Combine(Data, "quarantine")), Ledger.Size);
    }

    internal static string Listing(string directory)
    {
        if (!Directory.Exists(directory))
        {
            return "";
        }

        // Files only: an empty shard folder left behind holds nothing.
        return string.Join("\n", Directory.EnumerateFiles(directory, "*", SearchOption.AllDirectories)
            .Select(p => Path.GetRelativePath(directory, p) + " " + new FileInfo(p).Length)
            .Order(StringComparer.Ordinal));
    }

    internal IReadOnlyList<string> QuarantineEntries()
    {
        var quarantine = Path.Combine(Data, "quarantine");
        return Directory.Exists(quarantine) ? Directory.GetFileSystemEntries(quarantine) : [];
    }

    internal AuditEvent LedgerEvent(long index) => AuditEvent.Parse(Ledger.ReadEntry(index));

    internal IReadOnlyList<AuditEvent> LedgerEventsSince(long size) =>
        Enumerable.Range((int)size, (int)(Ledger.Size - size)).Select(i => LedgerEvent(i)).ToList();

    /// <summary>
    /// Asserts nothing changed since <paramref name="before"/> but the ledger entries of the given types: the airlock
    /// tables (trusted versions included), the blob store, the artifacts folder and the quarantine.
    /// </summary>
    internal IReadOnlyList<AuditEvent> AssertUnchanged(EnclaveStateSnapshot before, params string[] ledgerTypes)
    {
        var after = Capture();
        Assert.Equal(before.Tables, after.Tables);
        Assert.Equal(before.Blobs, after.Blobs);
        Assert.Equal(before.Artifacts, after.Artifacts);
        Assert.Equal(before.Quarantine, after.Quarantine);
        var events = LedgerEventsSince(before.LedgerSize);
        Assert.Equal(ledgerTypes, events.Select(e => e.Type).ToArray());
        return events;
    }

    public async ValueTask DisposeAsync()
    {
        await CloseLedgerAsync();
        Directory.Delete(_root, recursive: true);
    }
}
