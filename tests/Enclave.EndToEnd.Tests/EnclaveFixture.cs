using Enclave.Core.Audit;
using Enclave.Inference.Backends;
using Enclave.Ledger;
using Enclave.Server.Auth;
using Enclave.Server.Hosting;
using Microsoft.AspNetCore.Builder;

namespace Enclave.EndToEnd.Tests;

/// <summary>
/// A real enclave server on a loopback port with a fresh data directory, in front of a real vLLM-like upstream
/// server on another loopback port. One per test class.
/// </summary>
public sealed class EnclaveFixture : IAsyncLifetime
{
    private WebApplication? _app;
    private SqliteLedger? _ledger;

    public string DataDirectory { get; } = Directory.CreateTempSubdirectory("enclave-e2e-").FullName;

    public string BaseUrl { get; private set; } = string.Empty;

    public string AdminKey { get; private set; } = string.Empty;

    internal VllmStub Upstream { get; private set; } = null!;

    public IReadOnlyList<string> VerifierKeys { get; private set; } = [];

    public async Task InitializeAsync()
    {
        Upstream = await VllmStub.StartAsync();
        VerifierKeys = SqliteLedger.Initialize(DataDirectory, "e2e.example/ledger", postQuantum: false, TimeProvider.System);
        _ledger = SqliteLedger.Open(new LedgerOptions { DataDirectory = DataDirectory, Purpose = "e2e server" }, TimeProvider.System);
        AdminKey = new ApiKeyStore(DataDirectory, TimeProvider.System).Create("e2e admin", "admin").Key;
        var backend = UpstreamBackends.Create("stub-vllm", Upstream.BaseUrl);
        var catalog = new ModelCatalog(
        [
            new ModelRoute { Id = "echo-chat", Kind = "chat", Backend = backend, Digest = "sha256:" + new string('a', 64) },
            new ModelRoute { Id = "echo-embed", Kind = "embedding", Backend = backend },
            new ModelRoute { Id = "overloaded", Kind = "chat", Backend = backend },
            new ModelRoute { Id = "broken", Kind = "chat", Backend = backend },
            new ModelRoute { Id = "slow", Kind = "chat", Backend = backend },
        ]);
        _app = EnclaveServer.Build(new ServerSettings { DataDirectory = DataDirectory, Urls = ["http://127.0.0.1:0"] }, _ledger, catalog, TimeProvider.System);
        await _app.StartAsync();
        BaseUrl = _app.Urls.First();
    }

    /// <summary>The audit event at <paramref name="index"/>, read back through a read-only reader as an auditor would.</summary>
    public AuditEvent Entry(long index)
    {
        using var reader = LedgerReader.Open(DataDirectory);
        return AuditEvent.Parse(reader.ReadEntry(index));
    }

    /// <summary>All audit events so far.</summary>
    public IReadOnlyList<(long Index, AuditEvent Event, byte[] Bytes)> Entries()
    {
        using var reader = LedgerReader.Open(DataDirectory);
        var size = reader.TreeSize();
        var result = new List<(long, AuditEvent, byte[])>();
        for (long i = 0; i < size; i++)
        {
            var bytes = reader.ReadEntry(i);
            result.Add((i, AuditEvent.Parse(bytes), bytes));
        }

        return result;
    }

    /// <summary>The <c>request.completed</c> entry of the request admitted at <paramref name="admittedIndex"/>, or null while there is none.</summary>
    public AuditEvent? CompletedEntry(long admittedIndex) => Entries()
        .Where(e => e.Event.Type == "request.completed" && e.Event.Details!.Value.GetProperty("admittedIndex").GetInt64() == admittedIndex)
        .Select(e => e.Event)
        .FirstOrDefault();

    /// <summary>Polls until <paramref name="condition"/> holds or 10 seconds pass.</summary>
    public static async Task<T> EventuallyAsync<T>(Func<T?> probe)
        where T : class
    {
        var deadline = DateTime.UtcNow + TimeSpan.FromSeconds(10);
        while (true)
        {
            if (probe() is { } value)
            {
                return value;
            }

            if (DateTime.UtcNow > deadline)
            {
                throw new TimeoutException("condition not met within 10 seconds");
            }

            await Task.Delay(20);
        }
    }

    public async Task DisposeAsync()
    {
        if (_app is not null)
        {
            await _app.StopAsync();
            await _app.DisposeAsync();
        }

        if (_ledger is not null)
        {
            await _ledger.DisposeAsync();
        }

        await Upstream.DisposeAsync();
        Directory.Delete(DataDirectory, recursive: true);
    }
}

/// <summary>How the tests build an upstream backend (the server's own configuration path does the same).</summary>
internal static class UpstreamBackends
{
    public static IInferenceBackend Create(string name, string baseUrl) => throw new NotImplementedException($"{name} {baseUrl}");
}
