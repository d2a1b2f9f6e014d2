using System.Net;
using System.Net.Http.Json;
using System.Text.Json.Nodes;
using Deque.AxeCore.Playwright;
using Enclave.Inference.Forge;
using Enclave.State.Usage;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Playwright;

namespace Enclave.OperatorConsole.Tests;

/// <summary>
/// The Usage page over real traffic: a model crosses the airlock and is served; two users chat through
/// <c>/v1/chat/completions</c> and one request is refused by policy. The page's totals, charts and CSV export by
/// principal, role, model and backend equal the sums of the <c>request.completed</c> and <c>request.denied</c> entries in
/// the ledger, read from the rollup (never the ledger) once it has caught up.
/// </summary>
public sealed class UsagePageTests(ConsoleFixture enclave) : IClassFixture<ConsoleFixture>
{
    [Fact]
    public async Task Usage_ByPrincipalRoleModelAndBackend_EqualsTheLedgersRequestEntries_InChartsTablesAndCsv()
    {
        var importer = await enclave.AddUserAsync("iris", "airlock-importer");
        var approvers = new[] { await enclave.AddUserAsync("paul", "airlock-approver"), await enclave.AddUserAsync("petra", "airlock-approver") };
        var uma = await enclave.AddUserAsync("uma", "user");
        var ulf = await enclave.AddUserAsync("ulf", "user", "analyst");
        var auditor = await enclave.AddUserAsync("aud", "auditor");
        var modelDir = Directory.CreateTempSubdirectory("enclave-console-model-").FullName;
        ModelForge.ForgeDecoder(modelDir, new ForgeOptions { Seed = 11 });
        var id = await enclave.ImportBundleAsync(importer.Key, "model", "usage-chat", "1.0", modelDir, task: "chat");
        foreach (var approver in approvers)
        {
            using var http = enclave.AdminClient(approver.Key);
            using var approved = await http.PostAsync($"/admin/v1/airlock/imports/{id}/approve", null);
            Assert.True(approved.IsSuccessStatusCode, await approved.Content.ReadAsStringAsync());
        }

        Assert.Equal(HttpStatusCode.OK, await ChatAsync(uma.Key));
        Assert.Equal(HttpStatusCode.OK, await ChatAsync(uma.Key));
        Assert.Equal(HttpStatusCode.OK, await ChatAsync(ulf.Key));
        Assert.Equal(HttpStatusCode.Forbidden, await ChatAsync(uma.Key, classification: "SECRET"));

        // The rollup catches up from the append feed; then the ledger's request entries are the expected figures.
        var size = enclave.Entries().Count;
        var store = enclave.Services.GetRequiredService<IUsageStore>();
        for (var i = 0; i < 300 && (store.ReadCursor() ?? 0) < size; i++)
        {
            await Task.Delay(100);
        }

        Assert.True(store.ReadCursor() >= size, $"the usage rollup is at {store.ReadCursor()}, the ledger at {size}");
        var entries = enclave.Entries().Select(e => e.Event).ToList();
        var completed = entries.Where(e => e.Type == "request.completed").ToList();
        var denied = entries.Where(e => e.Type == "request.denied").ToList();
        Assert.Equal(3, completed.Count(e => e.Subject == "model:usage-chat"));
        var umaDenied = Assert.Single(denied);
        Assert.Equal("user:uma", umaDenied.Actor);
        long Tokens(string actor, string field) => completed.Where(e => e.Actor == actor).Sum(e => e.Details!.Value.TryGetProperty(field, out var t) ? t.GetInt64() : 0);
        Assert.True(Tokens("user:uma", "completionTokens") > 0);

        await using var context = await enclave.NewContextAsync(bypassCsp: true);
        var page = await ConsoleFixture.SignInAsync(context, enclave.AdminKey);

        // By principal: requests, denials and tokens per user as in the ledger.
        await page.GotoAsync("/console/usage?range=hour&by=principal");
        Assert.Equal(["user:uma", "2", "0", "1", Tokens("user:uma", "promptTokens").ToString(), Tokens("user:uma", "completionTokens").ToString()], (await RowAsync(page, "user:uma"))[..6]);
        Assert.Equal(["user:ulf", "1", "0", "0", Tokens("user:ulf", "promptTokens").ToString(), Tokens("user:ulf", "completionTokens").ToString()], (await RowAsync(page, "user:ulf"))[..6]);
        // Latency percentiles: those of the ledger's recorded latencies in the rollup's fixed buckets (mean, p50, p95, p99, max).
        var umaLatencies = completed.Where(e => e.Actor == "user:uma").Select(e => e.Details!.Value.GetProperty("latencyMs").GetDouble()).ToList();
        var umaHistogram = new long[LatencyHistogram.Count];
        umaLatencies.ForEach(l => umaHistogram[LatencyHistogram.BucketOf(l)]++);
        string Ms(double? v) => v!.Value.ToString("0.#", System.Globalization.CultureInfo.InvariantCulture);
        Assert.Equal(
            [Ms(umaLatencies.Average()), Ms(LatencyHistogram.Percentile(umaHistogram, 0.5, umaLatencies.Max())), Ms(LatencyHistogram.Percentile(umaHistogram, 0.95, umaLatencies.Max())), Ms(LatencyHistogram.Percentile(umaHistogram, 0.99, umaLatencies.Max())), Ms(umaLatencies.Max())],
            (await RowAsync(page, "user:uma"))[6..11]);
        Assert.True(await page.Locator("#chart-latency-p95 svg polyline, #chart-latency-p95 svg circle").CountAsync() >= 1);
        Assert.Contains("Requests per minute", await page.TextContentAsync("#chart-requests-title"), StringComparison.Ordinal);
        Assert.True(await page.Locator("#chart-requests svg polyline, #chart-requests svg circle").CountAsync() >= 2);
        var data = await page.Locator("#chart-requests-data tbody tr").AllTextContentsAsync();
        Assert.Equal(60, data.Count);
        var axe = await page.RunAxe();
        Assert.Empty(axe.Violations.Where(v => v.Impact is "serious" or "critical").Select(v => v.Id));
        var dir = Environment.GetEnvironmentVariable("ENCLAVE_SCREENSHOTS_DIR") is { Length: > 0 } d ? Directory.CreateDirectory(d).FullName : Path.GetTempPath();
        await page.ScreenshotAsync(new() { Path = Path.Combine(dir, "usage-traffic.png"), FullPage = true });

        // By role (current roles; ulf counts under both of his), model and backend.
        await page.GotoAsync("/console/usage?range=day&by=role");
        Assert.Equal("3", (await RowAsync(page, "user"))[1]);
        Assert.Equal("1", (await RowAsync(page, "analyst"))[1]);
        await page.GotoAsync("/console/usage?range=month&by=model");
        Assert.Equal(["usage-chat", "3", "0", "1"], (await RowAsync(page, "usage-chat"))[..4]);
        await page.GotoAsync("/console/usage?range=day&by=backend");
        Assert.Equal("1", (await RowAsync(page, "(none)"))[3]);
        var backend = completed.First().Details!.Value.GetProperty("backend").GetString()!;
        Assert.Equal("3", (await RowAsync(page, backend))[1]);

        // A range the page does not offer is named, and the default shown; never an error page.
        var odd = await page.GotoAsync("/console/usage?range=year&by=model");
        Assert.Equal(200, odd!.Status);
        Assert.Contains("range 'year' is not one of hour, day, month", await page.TextContentAsync("#usage-problem"), StringComparison.Ordinal);

        // The CSV export: the same figures, one row per bucket and principal.
        var csv = await context.APIRequest.GetAsync("/console/usage.csv?range=hour&by=principal");
        Assert.Equal(200, csv.Status);
        Assert.StartsWith("text/csv", csv.Headers["content-type"], StringComparison.Ordinal);
        Assert.Contains("attachment", csv.Headers["content-disposition"], StringComparison.Ordinal);
        var lines = (await csv.TextAsync()).Split("\r\n", StringSplitOptions.RemoveEmptyEntries);
        Assert.Equal("start,principal,requests,denials,errors,prompt_tokens,completion_tokens,latency_avg_ms,latency_max_ms,latency_p50_ms,latency_p95_ms,latency_p99_ms", lines[0]);
        var umaRows = lines.Skip(1).Select(l => l.Split(',')).Where(f => f[1] == "user:uma").ToList();
        Assert.Equal(2, umaRows.Sum(f => long.Parse(f[2], System.Globalization.CultureInfo.InvariantCulture)));
        Assert.Equal(1, umaRows.Sum(f => long.Parse(f[3], System.Globalization.CultureInfo.InvariantCulture)));
        Assert.Equal(Tokens("user:uma", "completionTokens"), umaRows.Sum(f => long.Parse(f[6], System.Globalization.CultureInfo.InvariantCulture)));
        var bad = await context.APIRequest.GetAsync("/console/usage.csv?range=year");
        Assert.Equal(400, bad.Status);
        Assert.Contains("range 'year'", await bad.TextAsync(), StringComparison.Ordinal);

        // The Models page: the model's usage from the same rollup, linked to the Usage page filtered to it, and its lineage.
        await page.GotoAsync("/console/models");
        var modelRow = page.Locator("#models tbody tr", new() { HasText = "usage-chat" });
        Assert.Equal("3", (await modelRow.Locator(".usage-requests").TextContentAsync())!.Trim());
        Assert.Equal((Tokens("user:uma", "promptTokens") + Tokens("user:uma", "completionTokens") + Tokens("user:ulf", "promptTokens") + Tokens("user:ulf", "completionTokens")).ToString(), (await modelRow.Locator(".usage-tokens").TextContentAsync())!.Trim());
        var lineage = page.Locator("section.lineage[data-model='usage-chat']");
        var verified = entries.Single(e => e.Type == "import.verified" && e.Subject == "import:" + id);
        var activatedEntry = entries.Single(e => e.Type == "import.activated" && e.Subject == "import:" + id);
        Assert.Contains(id, await lineage.Locator(".origin").TextContentAsync(), StringComparison.Ordinal);
        Assert.Equal($"/console/airlock/{id}", await lineage.Locator(".origin a").GetAttributeAsync("href"));
        Assert.Contains("model usage-chat version 1.0", await lineage.Locator(".bundle").TextContentAsync(), StringComparison.Ordinal);
        var tufVersions = await lineage.Locator(".tuf-versions").TextContentAsync();
        foreach (var role in verified.Details!.Value.GetProperty("tuf_versions").EnumerateObject())
        {
            Assert.Contains($"{role.Name} version {role.Value.GetInt32()}", tufVersions, StringComparison.Ordinal);
        }

        var signers = await lineage.Locator(".signers").TextContentAsync();
        Assert.All(verified.Details!.Value.GetProperty("signer_key_ids").EnumerateArray(), k => Assert.Contains(k.GetString()!, signers, StringComparison.Ordinal));
        Assert.Contains("user:iris", await lineage.Locator(".importer").TextContentAsync(), StringComparison.Ordinal);
        Assert.Equal("user:paul, user:petra (2 of 2 required)", (await lineage.Locator(".approvers").TextContentAsync())!.Trim());
        var decided = enclave.Services.GetRequiredService<Enclave.Airlock.Import.AirlockImporter>().Get(id)!.Decided!.Value;
        Assert.Equal($"{Enclave.Core.Audit.AuditEvent.FormatTime(decided)} by {activatedEntry.Actor}", (await lineage.Locator(".activated").TextContentAsync())!.Trim());
        Assert.Equal("user:petra", activatedEntry.Actor);
        Assert.Contains("3 requests, 1 denials", await lineage.Locator(".usage").TextContentAsync(), StringComparison.Ordinal);
        var modelsAxe = await page.RunAxe();
        Assert.Empty(modelsAxe.Violations.Where(v => v.Impact is "serious" or "critical").Select(v => $"{v.Id}: {string.Join(" ", v.Nodes.Select(n => n.Html))}"));
        await page.ScreenshotAsync(new() { Path = Path.Combine(dir, "models-lineage.png"), FullPage = true });

        await modelRow.Locator(".usage-requests a").ClickAsync();
        await page.WaitForURLAsync(new System.Text.RegularExpressions.Regex("/console/usage\\?range=month&by=principal&model=usage-chat$"));
        Assert.Contains("usage-chat", await page.TextContentAsync("#usage-model"), StringComparison.Ordinal);
        Assert.Equal(["user:uma", "2", "0", "1"], (await RowAsync(page, "user:uma"))[..4]);
        Assert.Equal(["user:ulf", "1", "0", "0"], (await RowAsync(page, "user:ulf"))[..4]);
        Assert.EndsWith("&model=usage-chat", await page.GetAttributeAsync("#export", "href"), StringComparison.Ordinal);
        await page.GotoAsync("/console/usage?range=month&by=principal&model=no-such-model");
        Assert.Equal(0, await page.Locator("#usage-totals tbody tr").CountAsync());
        var modelCsv = await context.APIRequest.GetAsync("/console/usage.csv?range=month&by=principal&model=usage-chat");
        Assert.Equal(3, (await modelCsv.TextAsync()).Split("\r\n", StringSplitOptions.RemoveEmptyEntries).Skip(1).Select(l => l.Split(',')).Sum(f => long.Parse(f[2], System.Globalization.CultureInfo.InvariantCulture)));

        // The activated model's import page: each file and the scanners that examined it (the weights by the ONNX scanner).
        await page.GotoAsync($"/console/airlock/{id}");
        Assert.Contains(await page.Locator("#scans tbody tr").AllTextContentsAsync(), r => r.Contains("model.onnx", StringComparison.Ordinal) && r.Contains("onnx: clean", StringComparison.Ordinal));
        Assert.Contains("carries no SBOM", await page.TextContentAsync("#no-sbom"), StringComparison.Ordinal);

        // A user sees the model, its origin, but neither the airlock's signers and approvers nor usage figures.
        await using (var umaContext = await enclave.NewContextAsync())
        {
            var umaPage = await ConsoleFixture.SignInAsync(umaContext, uma.Key);
            await umaPage.GotoAsync("/console/models");
            Assert.Equal(0, await umaPage.Locator(".usage-requests, .approvers, .signers, section.lineage .usage").CountAsync());
            Assert.Contains("which your roles do not open", await umaPage.Locator("section.lineage[data-model='usage-chat'] .origin").TextContentAsync(), StringComparison.Ordinal);
        }

        // An auditor may see usage; a user may not (no link, 403 for the page and the export).
        await using (var auditorContext = await enclave.NewContextAsync())
        {
            var auditorPage = await ConsoleFixture.SignInAsync(auditorContext, auditor.Key);
            Assert.Equal(200, (await auditorPage.GotoAsync("/console/usage"))!.Status);
        }

        await using var userContext = await enclave.NewContextAsync();
        var userPage = await ConsoleFixture.SignInAsync(userContext, uma.Key);
        Assert.Equal(0, await userPage.Locator("nav >> text=Usage").CountAsync());
        Assert.Equal(403, (await userPage.GotoAsync("/console/usage"))!.Status);
        Assert.Equal(403, (await userContext.APIRequest.GetAsync("/console/usage.csv", new() { MaxRedirects = 0 })).Status);
    }

    private async Task<HttpStatusCode> ChatAsync(string key, string? classification = null)
    {
        using var http = enclave.AdminClient(key);
        using var request = new HttpRequestMessage(HttpMethod.Post, "/v1/chat/completions")
        {
            Content = JsonContent.Create(new JsonObject { ["model"] = "usage-chat", ["max_tokens"] = 4, ["messages"] = new JsonArray(new JsonObject { ["role"] = "user", ["content"] = "hello" }) }),
        };
        if (classification is not null)
        {
            request.Headers.Add("Enclave-Classification", classification);
        }

        using var response = await http.SendAsync(request);
        return response.StatusCode;
    }

    // The totals row of one group: its name, requests, errors, denials, prompt and completion tokens (and latencies).
    private static async Task<string[]> RowAsync(IPage page, string group)
    {
        var row = page.Locator("#usage-totals tbody tr").Filter(new() { Has = page.Locator($"th:text-is('{group}')") });
        Assert.Equal(1, await row.CountAsync());
        return [.. (await row.Locator("th, td").AllTextContentsAsync()).Select(t => t.Trim())];
    }
}
