using Enclave.State;
using Enclave.State.Changes;
using Enclave.State.Tests.Postgres;
using Microsoft.AspNetCore.Builder;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Playwright;

namespace Enclave.OperatorConsole.Tests.Cluster;

/// <summary>
/// Two replicas of the enclave (servers built by the composition root, own data directories, the same ledger keys) on
/// one real PostgreSQL database (<see cref="PostgresServer"/>, the state tests' server) and one shared directory, as in
/// docs/cluster.md: the fixture's own server is replica A (<see cref="ConsoleFixture.BaseUrl"/>), <see cref="ReplicaB"/>
/// the second. The browser and the bundle helpers are <see cref="ConsoleFixture"/>'s.
/// </summary>
public sealed class ConsoleClusterFixture : ConsoleFixture
{
    private readonly string _connection = PostgresServer.Shared.CreateDatabase("console");
    private readonly string _shared = Directory.CreateTempSubdirectory("enclave-console-shared-").FullName;
    private readonly string _dataB = Directory.CreateTempSubdirectory("enclave-console-b-").FullName;
    private WebApplication? _b;

    /// <summary>The second replica.</summary>
    public WebApplication ReplicaB => _b ?? throw new InvalidOperationException("the fixture has not started");

    /// <summary>The second replica's address.</summary>
    public string ReplicaBUrl => ReplicaB.Urls.First();

    protected override StateSettings? SharedState => new() { Provider = StateProvider.Postgres, ConnectionString = _connection };

    protected override Task<IReadOnlyDictionary<string, string?>> MoreSettingsAsync() => Task.FromResult<IReadOnlyDictionary<string, string?>>(new Dictionary<string, string?>
    {
        ["State:Provider"] = "postgres",
        ["State:ConnectionString"] = _connection,
        ["Server:SharedDirectory"] = _shared,
    });

    public override async Task InitializeAsync()
    {
        await base.InitializeAsync();
        // The same ledger keys (the keys folder of A's data directory), a data directory of its own.
        var keys = Path.Combine(DataDirectory, "keys");
        foreach (var file in Directory.EnumerateFiles(keys, "*", SearchOption.AllDirectories))
        {
            var target = Path.Combine(_dataB, "keys", Path.GetRelativePath(keys, file));
            Directory.CreateDirectory(Path.GetDirectoryName(target)!);
            File.Copy(file, target);
        }

        _b = await StartServerAsync(_dataB);
        foreach (var services in new[] { Services, _b.Services })
        {
            Assert.True(services.GetRequiredService<StateChanges>().WaitUntilListening(TimeSpan.FromSeconds(30)), "the change feed did not connect");
        }
    }

    /// <summary>A fresh browser context (one person) on replica B.</summary>
    public Task<IBrowserContext> NewContextOnBAsync() => NewContextAsync(baseUrl: ReplicaBUrl);

    public override async Task DisposeAsync()
    {
        if (_b is not null)
        {
            await _b.StopAsync();
            await _b.DisposeAsync();
        }

        await base.DisposeAsync();
        PostgresServer.Shared.DropDatabase(_connection);
        Directory.Delete(_shared, recursive: true);
        Directory.Delete(_dataB, recursive: true);
    }
}
