using System.Net;
using Enclave.Airlock.Import;
using Enclave.Inference.Forge;
using Enclave.Intel.Alerts;
using Enclave.OperatorConsole.Hosting;
using Enclave.OperatorConsole.Live;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Playwright;

namespace Enclave.OperatorConsole.Tests;

/// <summary>
/// The console's live parts (Blazor Interactive Server, fed by the ledger's append feed) in real browsers: what one
/// person does in one browser context appears in another's open page without a reload, over a WebSocket to the enclave
/// itself under the strict Content-Security-Policy; a revoked key's open page stops updating and says it is signed out.
/// </summary>
public sealed class LiveUpdateTests : IClassFixture<ConsoleFixture>
{
    private readonly ConsoleFixture enclave;

    public LiveUpdateTests(ConsoleFixture enclave)
    {
        this.enclave = enclave;
        // A loaded machine may take a while to push an update: Playwright's expectations poll until this deadline.
        Assertions.SetDefaultExpectTimeout(30_000);
    }

    [Fact]
    public async Task UploadAndApprovals_InOneSession_AppearInAnotherSessionsOpenPages_WithoutReload()
    {
        var importer = await enclave.AddUserAsync("lina", "airlock-importer");
        var first = await enclave.AddUserAsync("leo", "airlock-approver");
        var second = await enclave.AddUserAsync("lou", "airlock-approver");

        // Leo watches the airlock queue and the overview in two pages of his session; neither is reloaded below.
        await using var watcher = await enclave.NewContextAsync();
        var queue = await ConsoleFixture.SignInAsync(watcher, first.Key);
        var overview = await watcher.NewPageAsync();
        var violations = new List<string>();
        var sockets = new List<string>();
        foreach (var page in new[] { queue, overview })
        {
            page.Console += (_, message) =>
            {
                if (message.Text.Contains("Content Security Policy", StringComparison.OrdinalIgnoreCase))
                {
                    violations.Add(message.Text);
                }
            };
            page.WebSocket += (_, socket) => sockets.Add(socket.Url);
        }

        await queue.GotoAsync("/console/airlock");
        await overview.GotoAsync("/console");
        await WaitLiveAsync(queue);
        await WaitLiveAsync(overview);
        await MarkAsync(queue);
        await MarkAsync(overview);
        // Imports another test of this class left waiting, if it ran first.
        var waiting = enclave.Services.GetRequiredService<AirlockImporter>().List(ImportState.Verified).Count;

        // Lina uploads a bundle from her own session's airlock page.
        string id;
        var modelDir = Directory.CreateTempSubdirectory("enclave-console-model-").FullName;
        ModelForge.ForgeDecoder(modelDir, new ForgeOptions { Seed = 21 });
        var bundle = await enclave.CreateBundleAsync("model", "live-chat", "1.0", modelDir, task: "chat");
        try
        {
            await using var uploader = await enclave.NewContextAsync();
            var upload = await ConsoleFixture.SignInAsync(uploader, importer.Key);
            await upload.GotoAsync("/console/airlock");
            await upload.SetInputFilesAsync("#upload-file", bundle);
            await upload.ClickAsync("#upload-send");
            await upload.WaitForSelectorAsync("#upload-status:has-text('Imported')");
            id = (await upload.TextContentAsync("#upload-import"))!;
        }
        finally
        {
            Directory.Delete(Path.GetDirectoryName(bundle)!, recursive: true);
        }

        // Leo's open pages show it: a new row in the queue, pending; the overview says an import waits.
        var row = queue.Locator("#imports tbody tr", new() { HasText = id });
        await Assertions.Expect(row).ToContainTextAsync("pending approval");
        await Assertions.Expect(row).ToContainTextAsync("0 of 2");
        await Assertions.Expect(overview.Locator("#attention")).ToContainTextAsync($"{waiting + 1} airlock import(s) pending approval");

        // Leo opens the import in a third page and leaves it open; Lou approves in his own session.
        var detail = await watcher.NewPageAsync();
        await detail.GotoAsync($"/console/airlock/{id}");
        await WaitLiveAsync(detail, "#import-live");
        await MarkAsync(detail);
        await using var approver = await enclave.NewContextAsync();
        var lou = await ConsoleFixture.SignInAsync(approver, second.Key);
        await lou.GotoAsync($"/console/airlock/{id}");
        await lou.ClickAsync("#approve");
        Assert.Contains("another approver must approve", await lou.TextContentAsync("#action-result"), StringComparison.Ordinal);

        await Assertions.Expect(row).ToContainTextAsync("1 of 2");
        await Assertions.Expect(detail.Locator("#approvals")).ToHaveTextAsync("1 of 2: user:lou");

        // Leo approves on the page he had open (a plain form post): Lou's open page sees the activation.
        await lou.GotoAsync($"/console/airlock/{id}");
        await WaitLiveAsync(lou, "#import-live");
        await MarkAsync(lou);
        await detail.ClickAsync("#approve");
        Assert.Contains("model live-chat is served", await detail.TextContentAsync("#action-result"), StringComparison.Ordinal);
        await Assertions.Expect(lou.Locator("#import-state")).ToHaveTextAsync("activated");
        await Assertions.Expect(lou.Locator("#approvals")).ToContainTextAsync("2 of 2");
        await Assertions.Expect(row).ToContainTextAsync("activated");
        if (waiting == 0)
        {
            await Assertions.Expect(overview.Locator("#all-well")).ToBeVisibleAsync();
        }
        else
        {
            await Assertions.Expect(overview.Locator("#attention")).ToContainTextAsync($"{waiting} airlock import(s) pending approval");
        }

        // None of the watching pages was reloaded; the circuits went to the enclave under /console, and the CSP refused nothing.
        foreach (var page in new[] { queue, overview, lou })
        {
            Assert.True(await page.EvaluateAsync<bool>("() => window.enclaveLiveMark === true"), page.Url);
        }

        Assert.NotEmpty(sockets);
        Assert.All(sockets, url => Assert.StartsWith(enclave.BaseUrl.Replace("http://", "ws://", StringComparison.Ordinal) + ConsoleEndpoints.HubPath, url, StringComparison.Ordinal));
        Assert.Empty(violations);
    }

    [Fact]
    public async Task RevokedKey_ItsOpenLivePage_StopsUpdating_AndShowsItIsSignedOut()
    {
        var importer = await enclave.AddUserAsync("rhea", "airlock-importer");
        var watcher = await enclave.AddUserAsync("rory", "airlock-approver");
        await using var context = await enclave.NewContextAsync();
        var page = await ConsoleFixture.SignInAsync(context, watcher.Key);
        await page.GotoAsync("/console/airlock");
        await WaitLiveAsync(page);
        await MarkAsync(page);

        using (var admin = enclave.AdminClient())
        {
            using var revoked = await admin.DeleteAsync($"/admin/v1/keys/{watcher.KeyId}");
            Assert.True(revoked.IsSuccessStatusCode, await revoked.Content.ReadAsStringAsync());
        }

        // The open page says so at once, without a reload, and shows the queue no more.
        await Assertions.Expect(page.Locator("#live-signed-out")).ToContainTextAsync("You are signed out");
        Assert.Equal(0, await page.Locator("#imports").CountAsync());
        Assert.True(await page.EvaluateAsync<bool>("() => window.enclaveLiveMark === true"));

        // An import that arrives afterwards never reaches it; a reload goes to sign-in.
        var updates = enclave.Services.GetRequiredService<ConsoleLiveUpdates>();
        var published = updates.Published;
        var modelDir = Directory.CreateTempSubdirectory("enclave-console-model-").FullName;
        ModelForge.ForgeDecoder(modelDir, new ForgeOptions { Seed = 22 });
        var id = await enclave.ImportBundleAsync(importer.Key, "model", "after-revocation", "1.0", modelDir, task: "chat");
        var deadline = DateTime.UtcNow.AddSeconds(30);
        while (updates.Published == published && DateTime.UtcNow < deadline)
        {
            await Task.Delay(20); // polling the feed's counter until the import's entries were published, with a deadline
        }

        Assert.True(updates.Published > published, "the import's entries were never published to the live parts");
        await Assertions.Expect(page.Locator("#live-signed-out")).ToBeVisibleAsync();
        Assert.Equal(0, await page.Locator($"text={id}").CountAsync());
        Assert.Equal(0, await page.Locator("#imports").CountAsync());
        await page.ReloadAsync();
        Assert.Contains("/console/signin", page.Url, StringComparison.Ordinal);
    }

    [Fact]
    public async Task RaisedAlert_AppearsInAnOpenAlertsPage_AndItsAcknowledgementInAnotherSession_WithoutReload()
    {
        var analyst = await enclave.AddUserAsync("alma", "analyst");
        await using var watcher = await enclave.NewContextAsync();
        var page = await ConsoleFixture.SignInAsync(watcher, analyst.Key);
        await page.GotoAsync("/console/alerts");
        await WaitLiveAsync(page);
        await MarkAsync(page);

        // A detection raises an alert (the same AlertService call: an alert.raised ledger entry, then the alerts table).
        var alert = await enclave.Services.GetRequiredService<AlertService>().RaiseAsync(new AlertRequest
        {
            Kind = AlertKind.Detection,
            Severity = AlertSeverity.High,
            Title = "live alert probe",
            Subject = "user:mallory",
            Evidence = new AlertEvidence { Summary = "raised while the alerts page was open" },
        });
        var row = page.Locator("#alerts tbody tr", new() { HasText = alert.Id });
        await Assertions.Expect(row.Locator("td").Nth(2)).ToHaveTextAsync("open");
        await Assertions.Expect(row).ToContainTextAsync("live alert probe");

        // An admin acknowledges it from the console in another session: the analyst's open page shows it.
        await using var adminContext = await enclave.NewContextAsync();
        var admin = await ConsoleFixture.SignInAsync(adminContext, enclave.AdminKey);
        await admin.GotoAsync("/console/alerts");
        await admin.SelectOptionAsync("#alert-id", alert.Id);
        await admin.ClickAsync("#alert-ack");
        Assert.Contains($"Acknowledged: alert {alert.Id}", await admin.TextContentAsync("#action-result"), StringComparison.Ordinal);
        await Assertions.Expect(row.Locator("td").Nth(2)).ToHaveTextAsync("acknowledged");

        // Resolved: it leaves the list of open and acknowledged alerts.
        await enclave.Services.GetRequiredService<AlertService>().ResolveAsync(alert.Id, "user:admin", falsePositive: true, "a probe");
        await Assertions.Expect(row).ToHaveCountAsync(0);
        Assert.True(await page.EvaluateAsync<bool>("() => window.enclaveLiveMark === true"));
    }

    [Fact]
    public async Task TheHub_WithoutAConsoleSession_IsRefused_AndStartsNoCircuit()
    {
        using var http = new HttpClient(new HttpClientHandler { AllowAutoRedirect = false }) { BaseAddress = new Uri(enclave.BaseUrl) };
        using var negotiate = await http.PostAsync(ConsoleEndpoints.HubPath + "/negotiate?negotiateVersion=1", null);
        Assert.Equal(HttpStatusCode.Unauthorized, negotiate.StatusCode);
        using var connect = await http.GetAsync(ConsoleEndpoints.HubPath);
        Assert.Equal(HttpStatusCode.Redirect, connect.StatusCode);
        Assert.Contains("/console/signin", connect.Headers.Location!.ToString(), StringComparison.Ordinal);

        // An API key is not a console session either.
        http.DefaultRequestHeaders.Authorization = new("Bearer", enclave.AdminKey);
        using var withKey = await http.PostAsync(ConsoleEndpoints.HubPath + "/negotiate?negotiateVersion=1", null);
        Assert.Equal(HttpStatusCode.Unauthorized, withKey.StatusCode);

        // And nothing of Blazor's is left at the root.
        using var root = await http.PostAsync("/_blazor/negotiate?negotiateVersion=1", null);
        Assert.Equal(HttpStatusCode.NotFound, root.StatusCode);
    }

    /// <summary>Waits until the live part's status says it is connected (its circuit subscribed).</summary>
    private static Task WaitLiveAsync(IPage page, string status = "#live-status") =>
        Assertions.Expect(page.Locator(status)).ToHaveAttributeAsync("data-live", "on");

    /// <summary>Marks the page's window: a reload would lose the mark.</summary>
    private static Task MarkAsync(IPage page) => page.EvaluateAsync("() => { window.enclaveLiveMark = true; }");
}
