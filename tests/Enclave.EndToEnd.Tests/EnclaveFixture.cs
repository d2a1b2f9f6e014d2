using Enclave.Core.Audit;
using Enclave.Inference.Upstream;
using Enclave.Ledger;
using Enclave.Policy.Identity;
using Enclave.Policy.Requests;
using Enclave.Server.Hosting;
using Microsoft.AspNetCore.Builder;
using Microsoft.Extensions.Configuration;
using Microsoft.Extensions.DependencyInjection;

namespace Enclave.EndToEnd.Tests;

/// <summary>
/// A real enclave server on a loopback port with a fresh data directory, in front of a real vLLM-like upstream
/// server on another loopback port. One per test class.
/// </summary>
public sealed class EnclaveFixture : IAsyncLifetime
{
    private WebApplication? _app;
    private UpstreamRouter _router = null!;

    public string DataDirectory { get; } = Directory.CreateTempSubdirectory("enclave-e2e-").FullName;

    public string BaseUrl { get; private set; } = string.Empty;

    public string AdminKey { get; private set; } = string.Empty;

    internal VllmStub Upstream { get; private set; } = null!;

    public IReadOnlyList<string> VerifierKeys { get; private set; } = [];

    /// <summary>The running app's services (to act as an in-process component would, e.g. raise an alert).</summary>
    public IServiceProvider Services => _app?.Services ?? throw new InvalidOperationException("the fixture has not started");

    public async Task InitializeAsync()
    {
        Upstream = await VllmStub.StartAsync();
        VerifierKeys = SqliteLedger.Initialize(DataDirectory, "e2e.example/ledger", postQuantum: false, TimeProvider.System);
        AdminKey = new ApiKeyStore(DataDirectory, TimeProvider.System).Create("e2e admin", "admin").Key;
        string[] models = ["echo-chat", "echo-embed", "overloaded", "broken", "slow"];
        _router = new UpstreamRouter(new UpstreamOptions
        {
            // Upstream Retry-After beyond a second goes back to the client instead of being waited out.
            MaxRetryWait = TimeSpan.FromSeconds(1),
            RetryBackoff = TimeSpan.FromMilliseconds(10),
            // A 429's cool-down covers its whole backend, as vLLM's rate limits cover its server: the fault
            // models get backends of their own (the same stub server) so they don't cool down the others.
            Backends =
            [
                Stub("stub-vllm", ["echo-chat", "echo-embed", "slow"]),
                Stub("stub-overloaded", ["overloaded"]),
                Stub("stub-broken", ["broken"]),
            ],
        });
        UpstreamBackendOptions Stub(string name, string[] served) => new()
        {
            Name = name,
            BaseUrl = Upstream.BaseUrl,
            Models = served,
            Labels = new UpstreamLabels { Classification = "UNCLASSIFIED", Jurisdiction = "local" },
        };
        ModelRoute Route(string id, string kind) => new()
        {
            Id = id,
            Kind = kind,
            BackendName = "upstream",
            Backends = [new RouteBackend(id switch { "overloaded" => "stub-overloaded", "broken" => "stub-broken", _ => "stub-vllm" }, "UNCLASSIFIED", "local", LeavesEnclave: false)],
            SelectBackend = selection => _router.For(new UpstreamCall(b => selection.IsAllowed(b.Name), (b, body) => selection.BodyFor(b.Name, body))),
            Digest = id == "echo-chat" ? "sha256:" + new string('a', 64) : null,
        };
        var catalog = new ModelCatalog([.. models.Select(m => Route(m, m == "echo-embed" ? "embedding" : "chat"))]);
        // Content retention on, as a deployment that must keep prompts would run (RetentionTests reads it back).
        var retentionKey = Path.Combine(DataDirectory, "retention.key");
        Enclave.State.Retention.RetentionKey.Generate(retentionKey);
        var configuration = new ConfigurationBuilder().AddInMemoryCollection(new Dictionary<string, string?>
        {
            ["Server:DataDirectory"] = DataDirectory,
            ["Server:Urls:0"] = "http://127.0.0.1:0",
            // A checkpoint signed with every commit (the library default), so a test reads one that covers its requests.
            ["Server:CheckpointInterval"] = "00:00:00",
            ["Retention:Enabled"] = "true",
            ["Retention:Days"] = "30",
            ["Retention:KeyFile"] = retentionKey,
        }).Build();
        // The routes to the stub are the fixture's own (a digest for echo-chat, no health checks): it replaces the catalog.
        _app = EnclaveHost.Create(configuration, services => services.AddSingleton(catalog));
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

        _router.Dispose();
        await Upstream.DisposeAsync();
        try
        {
            AuditVocabulary.AssertDeclared(DataDirectory);
        }
        finally
        {
            Directory.Delete(DataDirectory, recursive: true);
        }
    }
}
