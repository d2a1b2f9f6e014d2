using Enclave.Inference.Forge;
using Enclave.Intel.Alerts;
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

    [Fact]
    public async Task AlertRaisedThroughReplicaA_AppearsInAnAlertsPageOpenOnReplicaB_FromTheChangeFeed()
    {
        var analyst = await enclave.AddUserAsync("cara", "analyst");
        await using var onB = await enclave.NewContextOnBAsync();
        var page = await ConsoleFixture.SignInAsync(onB, analyst.Key);
        await page.GotoAsync("/console/alerts");
        await WaitLiveAsync(page);
        await MarkAsync(page);

        // A detection on replica A raises an alert: B hears of it when A's alerts table commits it.
        var updatesOnB = enclave.ReplicaB.Services.GetRequiredService<ConsoleLiveUpdates>();
        var announced = updatesOnB.FromChangeFeed;
        var alertsOnA = enclave.Services.GetRequiredService<AlertService>();
        var alert = await alertsOnA.RaiseAsync(new AlertRequest
        {
            Kind = AlertKind.Detection,
            Severity = AlertSeverity.Critical,
            Title = "cluster alert probe",
            Subject = "user:mallory",
            Evidence = new AlertEvidence { Summary = "raised on replica A" },
        });
        var row = page.Locator("#alerts tbody tr", new() { HasText = alert.Id });
        await Assertions.Expect(row).ToContainTextAsync("cluster alert probe");
        await Assertions.Expect(row.Locator("td").Nth(2)).ToHaveTextAsync("open");
        Assert.True(updatesOnB.FromChangeFeed > announced, "replica B's console did not hear of A's alert from the state change feed");

        // Acknowledged on A: the row on B changes.
        await alertsOnA.AcknowledgeAsync(alert.Id, "user:admin", "on it");
        await Assertions.Expect(row.Locator("td").Nth(2)).ToHaveTextAsync("acknowledged");
        Assert.True(await page.EvaluateAsync<bool>("() => window.enclaveLiveMark === true"));
    }

    [Fact]
    public async Task KeyRevokedOrPrincipalDisabledOnReplicaA_EndsTheLivePartsOpenOnReplicaB_FromTheChangeFeed()
    {
        var revokedUser = await enclave.AddUserAsync("cole", "airlock-approver");
        var disabledUser = await enclave.AddUserAsync("cleo", "auditor");
        await using var coleOnB = await enclave.NewContextOnBAsync();
        var queue = await ConsoleFixture.SignInAsync(coleOnB, revokedUser.Key);
        await queue.GotoAsync("/console/airlock");
        await using var cleoOnB = await enclave.NewContextOnBAsync();
        var overview = await ConsoleFixture.SignInAsync(cleoOnB, disabledUser.Key);
        await WaitLiveAsync(queue);
        await WaitLiveAsync(overview);
        await MarkAsync(queue);
        await MarkAsync(overview);
        var updatesOnB = enclave.ReplicaB.Services.GetRequiredService<ConsoleLiveUpdates>();

        // Cole's key is revoked through replica A's admin API: his open page on B ends, without a reload.
        var announced = updatesOnB.FromChangeFeed;
        using var admin = enclave.AdminClient();
        using (var revoked = await admin.DeleteAsync($"/admin/v1/keys/{revokedUser.KeyId}"))
        {
            Assert.True(revoked.IsSuccessStatusCode, await revoked.Content.ReadAsStringAsync());
        }

        await Assertions.Expect(queue.Locator("#live-signed-out")).ToContainTextAsync("You are signed out");
        Assert.Equal(0, await queue.Locator("#imports").CountAsync());
        Assert.True(updatesOnB.FromChangeFeed > announced, "replica B's console did not hear of the revocation from the state change feed");

        // Cleo is disabled through A: her overview on B ends; Cole's stays ended.
        announced = updatesOnB.FromChangeFeed;
        using (var disabled = await admin.PostAsync("/admin/v1/users/cleo/disable", null))
        {
            Assert.True(disabled.IsSuccessStatusCode, await disabled.Content.ReadAsStringAsync());
        }

        await Assertions.Expect(overview.Locator("#live-signed-out")).ToContainTextAsync("You are signed out");
        Assert.Equal(0, await overview.Locator("#attention, #all-well").CountAsync());
        Assert.True(updatesOnB.FromChangeFeed > announced, "replica B's console did not hear of the disabled principal from the state change feed");
        foreach (var page in new[] { queue, overview })
        {
            Assert.True(await page.EvaluateAsync<bool>("() => window.enclaveLiveMark === true"), page.Url);
            await page.ReloadAsync();
            Assert.Contains("/console/signin", page.Url, StringComparison.Ordinal);
        }
    }

    private static Task WaitLiveAsync(IPage page, string status = "#live-status") =>
        Assertions.Expect(page.Locator(status)).ToHaveAttributeAsync("data-live", "on");

    private static Task MarkAsync(IPage page) => page.EvaluateAsync("() => { window.enclaveLiveMark = true; }");
}
