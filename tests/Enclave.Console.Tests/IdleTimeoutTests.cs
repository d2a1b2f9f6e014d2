using System.Diagnostics;
using Enclave.Inference.Forge;
using Enclave.OperatorConsole.Hosting;
using Enclave.OperatorConsole.Live;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Playwright;

namespace Enclave.OperatorConsole.Tests;

/// <summary>A console whose sessions end after <see cref="IdleTimeout"/> without an action of the person.</summary>
public sealed class ShortIdleConsoleFixture : ConsoleFixture
{
    /// <summary>Short, so that the test waits little; long enough for a loaded machine to open a page and connect its live part.</summary>
    public static readonly TimeSpan IdleTimeout = TimeSpan.FromSeconds(15);

    protected override Task<IReadOnlyDictionary<string, string?>> MoreSettingsAsync() => Task.FromResult<IReadOnlyDictionary<string, string?>>(new Dictionary<string, string?>
    {
        ["Console:IdleTimeout"] = IdleTimeout.ToString("c", System.Globalization.CultureInfo.InvariantCulture),
    });
}

/// <summary>
/// The session's idle timeout with a page left open on a live part: the live connection (Blazor's hub, its negotiation
/// and reconnections) does not keep the session alive, and when the session ends the part stops updating and says the
/// person is signed out.
/// </summary>
public sealed class IdleTimeoutTests : IClassFixture<ShortIdleConsoleFixture>
{
    private readonly ShortIdleConsoleFixture enclave;

    public IdleTimeoutTests(ShortIdleConsoleFixture enclave)
    {
        this.enclave = enclave;
        Assertions.SetDefaultExpectTimeout(30_000);
    }

    [Fact]
    public async Task AnOpenLivePage_DoesNotKeepTheSessionAlive_AndWhenTheIdleTimeoutPasses_ItsLivePartStopsAndSaysSignedOut()
    {
        var importer = await enclave.AddUserAsync("ivy", "airlock-importer");
        var watcher = await enclave.AddUserAsync("ian", "airlock-approver");
        await using var context = await enclave.NewContextAsync();
        var page = await ConsoleFixture.SignInAsync(context, watcher.Key);
        await page.GotoAsync("/console/airlock");
        // The person's last action: the session's cookie was issued (or last extended) before this point.
        var lastAction = Stopwatch.GetTimestamp();
        await Assertions.Expect(page.Locator("#live-status")).ToHaveAttributeAsync("data-live", "on");
        await page.EvaluateAsync("() => { window.enclaveLiveMark = true; }");

        // Past half the timeout a page or a form would extend the session (sliding expiration); the hub's negotiation,
        // what a reconnecting live part sends, does not. (A wait, not a timing assertion: renewal starts at half.)
        var half = ShortIdleConsoleFixture.IdleTimeout / 2 + TimeSpan.FromSeconds(1) - Stopwatch.GetElapsedTime(lastAction);
        if (half > TimeSpan.Zero)
        {
            await Task.Delay(half);
        }

        var negotiate = await context.APIRequest.PostAsync(ConsoleEndpoints.HubPath + "/negotiate?negotiateVersion=1");
        Assert.Equal(200, negotiate.Status);
        Assert.DoesNotContain(negotiate.HeadersArray, h => h.Name.Equals("set-cookie", StringComparison.OrdinalIgnoreCase) && h.Value.Contains(ConsoleServices.CookieName + "=", StringComparison.Ordinal));

        // The page is left open: once the session's idle timeout passes, its live part says so and shows nothing more.
        await Assertions.Expect(page.Locator("#live-signed-out")).ToContainTextAsync("You are signed out");
        await Assertions.Expect(page.Locator("#live-signed-out")).ToContainTextAsync("idle timeout");
        Assert.Equal(0, await page.Locator("#imports").CountAsync());
        Assert.True(await page.EvaluateAsync<bool>("() => window.enclaveLiveMark === true"), "the page was reloaded");

        // An import that arrives afterwards never reaches it.
        var updates = enclave.Services.GetRequiredService<ConsoleLiveUpdates>();
        var published = updates.Published;
        var modelDir = Directory.CreateTempSubdirectory("enclave-console-model-").FullName;
        ModelForge.ForgeDecoder(modelDir, new ForgeOptions { Seed = 41 });
        var id = await enclave.ImportBundleAsync(importer.Key, "model", "after-idle", "1.0", modelDir, task: "chat");
        var deadline = DateTime.UtcNow.AddSeconds(30);
        while (updates.Published == published && DateTime.UtcNow < deadline)
        {
            await Task.Delay(20); // polling the feed's counter until the import's entries were published, with a deadline
        }

        Assert.True(updates.Published > published, "the import's entries were never published to the live parts");
        await Assertions.Expect(page.Locator("#live-signed-out")).ToBeVisibleAsync();
        Assert.Equal(0, await page.Locator($"text={id}").CountAsync());

        // The session itself ended: the open connection did not keep it alive, and a reload goes to sign-in.
        await page.ReloadAsync();
        Assert.Contains("/console/signin", page.Url, StringComparison.Ordinal);
    }
}
