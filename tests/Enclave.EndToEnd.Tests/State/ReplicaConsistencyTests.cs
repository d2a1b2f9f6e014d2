using System.Diagnostics;
using System.Net;
using System.Net.Http.Json;
using System.Text.Json.Nodes;
using Enclave.Ledger;
using Enclave.Policy.Identity;
using Enclave.Server.Hosting;
using Enclave.State;
using Enclave.State.Changes;
using Enclave.State.Tests.Postgres;
using Microsoft.AspNetCore.Builder;
using Microsoft.Extensions.Configuration;
using Microsoft.Extensions.DependencyInjection;

namespace Enclave.EndToEnd.Tests.State;

/// <summary>
/// Two servers built by the composition root (two replicas: own data directories, the same ledger keys) on one real
/// PostgreSQL database, on loopback: what is changed through one is in force on the other within a second (LISTEN/NOTIFY,
/// with a full reload whenever the listener connects).
/// </summary>
public sealed class ReplicaConsistencyTests : IAsyncLifetime
{
    private static readonly TimeSpan PropagationBound = TimeSpan.FromSeconds(1);
    private readonly string _root = Directory.CreateTempSubdirectory("enclave-replicas-").FullName;
    private readonly string _connection = PostgresServer.Shared.CreateDatabase("replicas");
    private WebApplication _a = null!;
    private WebApplication _b = null!;
    private string _adminKey = null!;

    public async Task InitializeAsync()
    {
        var dirA = Path.Combine(_root, "a");
        var dirB = Path.Combine(_root, "b");
        var state = EnclaveState.Open(dirA, new StateSettings { Provider = StateProvider.Postgres, ConnectionString = _connection }, TimeProvider.System);
        try
        {
            SqliteLedger.Initialize(dirA, "replicas.example/ledger", postQuantum: false, TimeProvider.System, state);
            _adminKey = new ApiKeyStore(dirA, TimeProvider.System, state: state).Create("replica admin", "admin").Key;
        }
        finally
        {
            ((IDisposable)state).Dispose();
        }

        CopyDirectory(Path.Combine(dirA, "keys"), Path.Combine(dirB, "keys"));
        _a = await StartAsync(dirA);
        _b = await StartAsync(dirB);
        foreach (var app in (WebApplication[])[_a, _b])
        {
            _ = app.Services.GetRequiredService<ApiKeyStore>(); // subscribes the store to the change feed
            Assert.True(app.Services.GetRequiredService<StateChanges>().WaitUntilListening(TimeSpan.FromSeconds(30)), "the change feed did not connect");
        }
    }

    [Fact]
    public async Task AKeyCreatedOnOne_WorksOnTheOther_AndOnceRevokedOnOne_IsRefusedByTheOtherWithin1s()
    {
        using var adminA = Client(_a, _adminKey);
        var created = await adminA.PostAsJsonAsync("admin/v1/keys", new { user = "admin", name = "propagated" });
        Assert.Equal(HttpStatusCode.Created, created.StatusCode);
        var body = JsonNode.Parse(await created.Content.ReadAsStringAsync())!;
        var key = body["key"]!.GetValue<string>();

        using var onB = Client(_b, key);
        Assert.Equal(HttpStatusCode.OK, (await onB.GetAsync("v1/models")).StatusCode);

        var revoked = await adminA.DeleteAsync($"admin/v1/keys/{body["id"]!.GetValue<string>()}");
        Assert.Equal(HttpStatusCode.OK, revoked.StatusCode);
        var since = Stopwatch.StartNew();
        await RefusedWithinAsync(onB, since);
    }

    [Fact]
    public async Task AUserDisabledOnOne_IsRefusedByTheOtherWithin1s()
    {
        using var adminB = Client(_b, _adminKey);
        Assert.Equal(HttpStatusCode.Created, (await adminB.PostAsJsonAsync("admin/v1/users", new { name = "carol", roles = new[] { "user" } })).StatusCode);
        var created = await adminB.PostAsJsonAsync("admin/v1/keys", new { user = "carol", name = "carol's" });
        Assert.Equal(HttpStatusCode.Created, created.StatusCode);
        var key = JsonNode.Parse(await created.Content.ReadAsStringAsync())!["key"]!.GetValue<string>();

        using var onA = Client(_a, key);
        Assert.Equal(HttpStatusCode.OK, (await onA.GetAsync("v1/models")).StatusCode);

        Assert.Equal(HttpStatusCode.OK, (await adminB.PostAsync("admin/v1/users/carol/disable", null)).StatusCode);
        var since = Stopwatch.StartNew();
        await RefusedWithinAsync(onA, since);
    }

    private static async Task RefusedWithinAsync(HttpClient client, Stopwatch since)
    {
        while ((await client.GetAsync("v1/models")).StatusCode != HttpStatusCode.Unauthorized)
        {
            Assert.True(since.Elapsed < PropagationBound, $"the other replica still accepted the credential {since.Elapsed} after the change");
            await Task.Delay(10);
        }
    }

    private static HttpClient Client(WebApplication app, string key)
    {
        var client = new HttpClient { BaseAddress = new Uri(app.Urls.First() + "/") };
        client.DefaultRequestHeaders.Authorization = new("Bearer", key);
        return client;
    }

    private async Task<WebApplication> StartAsync(string dataDirectory)
    {
        var configuration = new ConfigurationBuilder().AddInMemoryCollection(new Dictionary<string, string?>
        {
            ["Server:DataDirectory"] = dataDirectory,
            ["Server:Urls:0"] = "http://127.0.0.1:0",
            ["Server:CheckpointInterval"] = "00:00:00",
            ["State:Provider"] = "postgres",
            ["State:ConnectionString"] = _connection,
        }).Build();
        var app = EnclaveHost.Create(configuration);
        await app.StartAsync();
        return app;
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

    public async Task DisposeAsync()
    {
        foreach (var app in (WebApplication?[])[_b, _a])
        {
            if (app is not null)
            {
                await app.StopAsync();
                await app.DisposeAsync();
            }
        }

        PostgresServer.Shared.DropDatabase(_connection);
        Directory.Delete(_root, recursive: true);
    }
}
