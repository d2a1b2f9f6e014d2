using Deque.AxeCore.Commons;
using Deque.AxeCore.Playwright;
using Enclave.Intel.Alerts;
using Microsoft.Extensions.DependencyInjection;

namespace Enclave.OperatorConsole.Tests;

/// <summary>
/// axe-core over every console page: no serious or critical violation. The same run writes a screenshot of each page
/// (into <c>ENCLAVE_SCREENSHOTS_DIR</c> when set, as for <c>docs/console/</c>; otherwise into a temporary folder).
/// </summary>
public sealed class AccessibilityTests(ConsoleFixture enclave) : IClassFixture<ConsoleFixture>
{
    [Fact]
    public async Task EveryPage_HasNoSeriousOrCriticalAxeViolations_AndIsScreenshotted()
    {
        var screenshots = Environment.GetEnvironmentVariable("ENCLAVE_SCREENSHOTS_DIR") is { Length: > 0 } dir
            ? Directory.CreateDirectory(dir).FullName
            : Directory.CreateTempSubdirectory("enclave-console-shots-").FullName;
        // Something in each list: a pending import-free queue is fine, but the users page shows the admin and a key.
        _ = await enclave.AddUserAsync("axel", "auditor", "analyst");
        // An open alert, so the alerts page shows its acknowledge/resolve form to the admin.
        _ = await enclave.Services.GetRequiredService<AlertService>().RaiseAsync(new AlertRequest
        {
            Kind = AlertKind.Detection,
            Severity = AlertSeverity.Medium,
            Title = "unusual volume from one key",
            Subject = "user:axel",
            Evidence = new AlertEvidence { Summary = "shown on the alerts page" },
        });

        // axe is injected as a script: this context only lifts the CSP for it (the CSP itself is tested elsewhere).
        await using var context = await enclave.NewContextAsync(bypassCsp: true);
        var page = await context.NewPageAsync();
        var failures = new List<string>();
        foreach (var path in ConsoleTestPages.All)
        {
            if (path == "/console")
            {
                // After the sign-in page (anonymous), sign in for the rest.
                await page.FillAsync("#key", enclave.AdminKey);
                await page.ClickAsync("#signin");
                await page.WaitForURLAsync("**/console");
            }
            else
            {
                await page.GotoAsync(path);
            }

            // A page with live parts is checked (and shown) once they are connected.
            foreach (var live in await page.Locator(".live-status").AllAsync())
            {
                await Microsoft.Playwright.Assertions.Expect(live).ToHaveAttributeAsync("data-live", "on", new() { Timeout = 30_000 });
            }

            var results = await page.RunAxe();
            failures.AddRange(results.Violations
                .Where(v => v.Impact is "serious" or "critical")
                .Select(v => $"{path}: {v.Impact} {v.Id}: {v.Help} ({string.Join("; ", v.Nodes.Select(n => string.Join(" ", n.Target?.ToString())))})"));
            var name = path == "/console" ? "overview" : path["/console/".Length..].Replace('/', '-');
            await page.ScreenshotAsync(new() { Path = Path.Combine(screenshots, name + ".png"), FullPage = true });
        }

        Assert.True(failures.Count == 0, "axe-core violations:\n" + string.Join("\n", failures));
        Assert.All(ConsoleTestPages.All, path => Assert.True(File.Exists(Path.Combine(screenshots, (path == "/console" ? "overview" : path["/console/".Length..].Replace('/', '-')) + ".png")), path));
    }
}
