using Enclave.Inference.Forge;
using Enclave.OperatorConsole.Live;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Playwright;

namespace Enclave.OperatorConsole.Tests.Cluster;

/// <summary>
/// The console's live parts across replicas: two servers on one real PostgreSQL database, one person's browser on
/// replica B watching the airlock queue, the overview and an import's page, while the import and both approvals are
/// made through replica A (the admin API and two other people's browsers on A). B's open pages show each change
/// without a reload: the airlock's changes reach B from the state change feed (PostgreSQL LISTEN/NOTIFY, sent when A's
/// transaction commits), the ledger's entries from the shared ledger.
/// </summary>
public sealed class ClusterLiveUpdateTests : IClassFixture<ConsoleClusterFixture>
{
    private readonly ConsoleClusterFixture enclave;

    public ClusterLiveUpdateTests(ConsoleClusterFixture enclave)
    {
        this.enclave = enclave;
        // A loaded machine may take a while to push an update: Playwright's expectations poll until this deadline.
        Assertions.SetDefaultExpectTimeout(30_000);
    }

    [Fact]
    public async Task ImportAndApprovals_ThroughReplicaA_AppearInALivePageOpenOnReplicaB_WithoutReload()
    {
        var importer = await enclave.AddUserAsync("ada", "airlock-importer");
        var first = await enclave.AddUserAsync("abe", "airlock-approver");
        var second = await enclave.AddUserAsync("amy", "airlock-approver");
        var watcher = await enclave.AddUserAsync("bea", "airlock-approver");

        // Bea watches on replica B: the airlock queue and the overview; neither page is reloaded below.
        await using var onB = await enclave.NewContextOnBAsync();
        var queue = await ConsoleFixture.SignInAsync(onB, watcher.Key);
        var overview = await onB.NewPageAsync();
        await queue.GotoAsync("/console/airlock");
        await overview.GotoAsync("/console");
        await WaitLiveAsync(queue);
        await WaitLiveAsync(overview);
        await MarkAsync(queue);
        await MarkAsync(overview);
        Assert.StartsWith(enclave.ReplicaBUrl, queue.Url, StringComparison.Ordinal);

        // Ada imports through replica A's admin API. B hears of it from the state change feed (announced when A's store
        // commits the import), not only from the ledger's entries.
        var updatesOnB = enclave.ReplicaB.Services.GetRequiredService<ConsoleLiveUpdates>();
        var announced = updatesOnB.FromChangeFeed;
        var modelDir = Directory.CreateTempSubdirectory("enclave-console-model-").FullName;
        ModelForge.ForgeDecoder(modelDir, new ForgeOptions { Seed = 31 });
        var id = await enclave.ImportBundleAsync(importer.Key, "model", "cluster-chat", "1.0", modelDir, task: "chat");

        var row = queue.Locator("#imports tbody tr", new() { HasText = id });
        await Assertions.Expect(row).ToContainTextAsync("pending approval");
        await Assertions.Expect(row).ToContainTextAsync("0 of 2");
        await Assertions.Expect(overview.Locator("#attention")).ToContainTextAsync("1 airlock import(s) pending approval");
        Assert.True(updatesOnB.FromChangeFeed > announced, "replica B's console did not hear of A's import from the state change feed");

        // Bea opens the import on B too; Abe approves it in his browser on replica A.
        var detail = await onB.NewPageAsync();
        await detail.GotoAsync($"/console/airlock/{id}");
        await WaitLiveAsync(detail, "#import-live");
        await MarkAsync(detail);
        await using var abeOnA = await enclave.NewContextAsync();
        var abe = await ConsoleFixture.SignInAsync(abeOnA, first.Key);
        Assert.StartsWith(enclave.BaseUrl, abe.Url, StringComparison.Ordinal);
        await abe.GotoAsync($"/console/airlock/{id}");
        await abe.ClickAsync("#approve");
        Assert.Contains("another approver must approve", await abe.TextContentAsync("#action-result"), StringComparison.Ordinal);

        await Assertions.Expect(row).ToContainTextAsync("1 of 2");
        await Assertions.Expect(detail.Locator("#approvals")).ToHaveTextAsync("1 of 2: user:abe");

        // Amy approves in her browser on replica A: the activation shows on B.
        await using var amyOnA = await enclave.NewContextAsync();
        var amy = await ConsoleFixture.SignInAsync(amyOnA, second.Key);
        await amy.GotoAsync($"/console/airlock/{id}");
        await amy.ClickAsync("#approve");
        Assert.Contains("model cluster-chat is served", await amy.TextContentAsync("#action-result"), StringComparison.Ordinal);
        await Assertions.Expect(detail.Locator("#import-state")).ToHaveTextAsync("activated");
        await Assertions.Expect(detail.Locator("#approvals")).ToContainTextAsync("2 of 2");
        await Assertions.Expect(row).ToContainTextAsync("activated");
        await Assertions.Expect(overview.Locator("#all-well")).ToBeVisibleAsync();

        // None of B's pages was reloaded.
        foreach (var page in new[] { queue, overview, detail })
        {
            Assert.True(await page.EvaluateAsync<bool>("() => window.enclaveLiveMark === true"), page.Url);
        }
    }

    private static Task WaitLiveAsync(IPage page, string status = "#live-status") =>
        Assertions.Expect(page.Locator(status)).ToHaveAttributeAsync("data-live", "on");

    private static Task MarkAsync(IPage page) => page.EvaluateAsync("() => { window.enclaveLiveMark = true; }");
}
