using System.ClientModel;
using System.ClientModel.Primitives;
using System.Diagnostics;
using System.Net.Http.Json;
using System.Text.Json.Nodes;
using Enclave.Airlock.Repository;
using Enclave.Core.Storage;
using Enclave.Inference.Forge;
using Enclave.Ledger;
using Enclave.Policy.Identity;
using Enclave.Server.Hosting;
using Enclave.Signing.Keys;
using Enclave.State;
using Enclave.State.Changes;
using Enclave.State.Tests.Postgres;
using Microsoft.AspNetCore.Builder;
using Microsoft.Extensions.Configuration;
using Microsoft.Extensions.DependencyInjection;
using OpenAI;
using OpenAI.Chat;

namespace Enclave.EndToEnd.Tests.State;

/// <summary>
/// Two replicas (servers built by the composition root, own data directories, the same ledger keys) on one real
/// PostgreSQL database and one shared directory (<c>Server:SharedDirectory</c>): a bundle imported through one is
/// approved through the other, and the model it activates is served by the first within a second (the change feed).
/// </summary>
public sealed class SharedVolumeTests : IAsyncLifetime
{
    private const string ModelName = "shared-chat";
    private const string Secret = "shared volume passphrase";
    private static readonly TimeSpan PropagationBound = TimeSpan.FromSeconds(1);
    private readonly string _root = Directory.CreateTempSubdirectory("enclave-shared-").FullName;
    private readonly string _connection = PostgresServer.Shared.CreateDatabase("shared");
    private WebApplication _a = null!;
    private WebApplication _b = null!;
    private string _adminKey = null!;

    private string Shared => Path.Combine(_root, "shared");

    public async Task InitializeAsync()
    {
        var dirA = Path.Combine(_root, "a");
        var dirB = Path.Combine(_root, "b");
        var state = EnclaveState.Open(dirA, new StateSettings { Provider = StateProvider.Postgres, ConnectionString = _connection }, TimeProvider.System);
        try
        {
            SqliteLedger.Initialize(dirA, "shared.example/ledger", postQuantum: false, TimeProvider.System, state);
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
            Assert.True(app.Services.GetRequiredService<StateChanges>().WaitUntilListening(TimeSpan.FromSeconds(30)), "the change feed did not connect");
        }
    }

    [Fact]
    public async Task ABundleImportedThroughOne_IsApprovedThroughTheOther_AndTheFirstServesTheModelWithin1s()
    {
        // Connected side: a TUF repository and a forged chat model in one signed bundle.
        using var passphrase = Passphrase.FromString(Secret);
        var trust = TrustRepository.Initialize(new TrustInitOptions { Directory = Path.Combine(_root, "repo"), RootKeys = 1, RootThreshold = 1 }, passphrase, TimeProvider.System);
        var modelDir = Path.Combine(_root, "forged");
        ModelForge.ForgeDecoder(modelDir, new ForgeOptions { Seed = 11 });
        var bundle = Path.Combine(_root, "shared-chat-1.0.tar");
        Assert.True(TrustRepository.Open(trust.Directory).CreateBundle(
            new BundleCreateOptions { Kind = "model", Name = ModelName, Version = "1.0", Label = "UNCLASSIFIED", Task = "chat", Sources = [modelDir], Output = bundle },
            passphrase,
            TimeProvider.System).IsComplete);

        var onA = new AdminSteps(Url(_a), _adminKey, _root);
        var onB = new AdminSteps(Url(_b), _adminKey, _root);
        var admin = onA.KeyFile("admin", _adminKey);
        var alice = await onA.ApproverAsync("alice");
        var bob = await onA.ApproverAsync("bob");
        var pinned = await onA.CliAsync(admin, "airlock", "trust", trust.RootPath);
        Assert.True(pinned.Code == 0, pinned.Error);

        // Imported through A: the quarantine is on the shared volume, under A's replica ID.
        var id = await onA.ImportAsync(admin, bundle);
        var replicaA = ReplicaId.Of(Path.Combine(_root, "a"));
        Assert.NotEmpty(Directory.EnumerateDirectories(Path.Combine(Shared, "replicas", replicaA, "quarantine")));
        Assert.DoesNotContain(ModelName, await ModelsAsync(_a));

        // Approved through B by two people: B promotes A's quarantine into the shared blobs and artifacts.
        await onB.ApproveUntilActivatedAsync([alice, bob], id);
        var since = Stopwatch.StartNew();
        Assert.Contains(ModelName, await ModelsAsync(_b));

        // A serves it within a second, from the shared artifact folder, without a restart.
        while (!(await ModelsAsync(_a)).Contains(ModelName))
        {
            Assert.True(since.Elapsed < PropagationBound, $"replica A did not serve the model {since.Elapsed} after replica B activated it");
            await Task.Delay(10);
        }

        await ChatAsync(_a);
        Assert.Empty(Directory.EnumerateDirectories(Path.Combine(Shared, "replicas", replicaA, "quarantine")));
        Assert.True(Directory.Exists(Path.Combine(Shared, "artifacts", "model", ModelName, "1.0")));
        Assert.False(Directory.Exists(Path.Combine(_root, "a", "blobs")), "a replica with a shared directory stored blobs in its data directory");
        Assert.False(Directory.Exists(Path.Combine(_root, "b", "blobs")), "a replica with a shared directory stored blobs in its data directory");
    }

    private static string Url(WebApplication app) => app.Urls.First();

    private async Task<List<string>> ModelsAsync(WebApplication app)
    {
        using var http = new HttpClient { BaseAddress = new Uri(Url(app) + "/") };
        http.DefaultRequestHeaders.Authorization = new("Bearer", _adminKey);
        var models = await http.GetFromJsonAsync<JsonObject>("v1/models");
        return [.. models!["data"]!.AsArray().Select(m => m!["id"]!.GetValue<string>())];
    }

    private async Task ChatAsync(WebApplication app)
    {
        var client = new OpenAIClient(new ApiKeyCredential(_adminKey), new OpenAIClientOptions { Endpoint = new Uri(Url(app) + "/v1"), RetryPolicy = new ClientRetryPolicy(0) });
        var answer = (await client.GetChatClient(ModelName).CompleteChatAsync([new UserChatMessage("Hello")], new ChatCompletionOptions { MaxOutputTokenCount = 4, Temperature = 0 })).Value;
        Assert.Equal(ModelName, answer.Model);
        Assert.Equal(4, answer.Usage.OutputTokenCount);
    }

    private async Task<WebApplication> StartAsync(string dataDirectory)
    {
        var configuration = new ConfigurationBuilder().AddInMemoryCollection(new Dictionary<string, string?>
        {
            ["Server:DataDirectory"] = dataDirectory,
            ["Server:SharedDirectory"] = Shared,
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
