using System.CommandLine;
using System.Diagnostics;
using System.Globalization;
using System.Net;
using System.Text;
using System.Text.RegularExpressions;
using Enclave.Bench.ConsolePages;
using Enclave.Ledger;
using Enclave.Policy.Identity;
using Enclave.Server.Hosting;
using Enclave.State.Usage;
using Microsoft.AspNetCore.Builder;
using Microsoft.AspNetCore.Hosting;
using Microsoft.Extensions.Configuration;
using Microsoft.Extensions.DependencyInjection;

// Console page benchmark: each page's time to answer (p50, p95, max over sequential views, on loopback, so server time
// plus a loopback round trip) with a ledger of --entries entries (target: p95 under 300 ms with 1,000,000). Fills the
// ledger first (LedgerFiller) unless --data already holds that many; waits for the usage rollup to catch up, as a
// running enclave would have. Markdown on stdout (and --out), progress on stderr.
CultureInfo.DefaultThreadCurrentCulture = CultureInfo.InvariantCulture;

var entriesOption = new Option<long>("--entries") { Description = "Ledger entries", DefaultValueFactory = _ => 1_000_000 };
var viewsOption = new Option<int>("--views") { Description = "Measured views per page", DefaultValueFactory = _ => 100 };
var warmupOption = new Option<int>("--warmup") { Description = "Views per page before measuring", DefaultValueFactory = _ => 10 };
var writersOption = new Option<int>("--writers") { Description = "Concurrent writers while filling", DefaultValueFactory = _ => 128 };
var dataOption = new Option<DirectoryInfo>("--data") { Description = "Data directory (kept; a second run reuses its ledger)", DefaultValueFactory = _ => new DirectoryInfo(Path.Combine(Path.GetTempPath(), "enclave-console-bench")) };
var outOption = new Option<FileInfo?>("--out") { Description = "Also write the markdown report to this file" };
var root = new RootCommand("Enclave console benchmark: each page's p95 with a big ledger (target under 300 ms with 1,000,000 entries).")
{
    entriesOption, viewsOption, warmupOption, writersOption, dataOption, outOption,
};
root.SetAction(async (result, _) =>
{
    var report = await RunAsync(
        result.GetValue(entriesOption), result.GetValue(viewsOption), result.GetValue(warmupOption), result.GetValue(writersOption),
        result.GetValue(dataOption)!, string.Join(' ', args)).ConfigureAwait(false);
    Console.Out.Write(report);
    if (result.GetValue(outOption) is { } output)
    {
        output.Directory?.Create();
        await File.WriteAllTextAsync(output.FullName, report).ConfigureAwait(false);
        Console.Error.WriteLine($"report written to {output.FullName}");
    }

    return 0;
});
return await root.Parse(args).InvokeAsync().ConfigureAwait(false);

static async Task<string> RunAsync(long entries, int views, int warmup, int writers, DirectoryInfo data, string arguments)
{
    var log = Console.Error;
    data.Create();
    if (!File.Exists(Path.Combine(data.FullName, "enclave.db")))
    {
        SqliteLedger.Initialize(data.FullName, LedgerFiller.Origin, postQuantum: false, TimeProvider.System);
    }

    var loadBefore = File.ReadAllText("/proc/loadavg").Trim();
    await log.WriteLineAsync($"filling {data.FullName} to {entries:N0} entries with {writers} writers").ConfigureAwait(false);
    var fill = await LedgerFiller.FillAsync(data.FullName, entries, writers, log).ConfigureAwait(false);
    await log.WriteLineAsync($"filled in {fill.TotalSeconds:0.0} s").ConfigureAwait(false);

    var adminKey = new ApiKeyStore(data.FullName, TimeProvider.System).Create("bench admin " + Guid.NewGuid().ToString("N")[..8], "admin").Key;
    var configuration = new ConfigurationBuilder().AddInMemoryCollection(new Dictionary<string, string?>
    {
        ["Server:DataDirectory"] = data.FullName,
        ["Server:Urls:0"] = "http://127.0.0.1:0",
    }).Build();
    var app = EnclaveHost.Create(configuration);
    await app.StartAsync().ConfigureAwait(false);
    try
    {
        var ledger = app.Services.GetRequiredService<SqliteLedger>();
        var usage = app.Services.GetRequiredService<IUsageStore>();
        var caughtUp = Stopwatch.StartNew();
        while ((usage.ReadCursor() ?? 0) < ledger.Size && caughtUp.Elapsed < TimeSpan.FromMinutes(15))
        {
            await log.WriteLineAsync($"  usage rollup at {usage.ReadCursor() ?? 0:N0} of {ledger.Size:N0}").ConfigureAwait(false);
            await Task.Delay(TimeSpan.FromSeconds(5)).ConfigureAwait(false);
        }

        var rollupTime = caughtUp.Elapsed;
        await log.WriteLineAsync($"usage rollup caught up in {rollupTime.TotalSeconds:0} s").ConfigureAwait(false);
        var size = ledger.Size;
        using var handler = new HttpClientHandler { CookieContainer = new CookieContainer(), AllowAutoRedirect = false };
        using var http = new HttpClient(handler) { BaseAddress = new Uri(app.Urls.First()), Timeout = TimeSpan.FromMinutes(2) };
        await SignInAsync(http, adminKey).ConfigureAwait(false);

        string[] pages =
        [
            "/console",
            "/console/audit",
            "/console/audit?type=key.created",
            "/console/audit?actor=user:admin&type=key.created",
            $"/console/audit?before={size / 2}",
            $"/console/audit/{size - 1}",
            "/console/audit/0",
            $"/console/audit/export?from={size - 100}&to={size}",
            "/console/airlock",
            "/console/models",
            "/console/users",
            "/console/alerts",
            "/console/policy",
            "/console/settings",
            "/console/vulnerabilities",
            "/console/intel",
            "/console/usage?range=hour&by=model",
            "/console/usage?range=day&by=principal",
            "/console/usage?range=month&by=principal",
            "/console/usage?range=month&by=role",
            "/console/usage.csv?range=month&by=principal",
        ];
        var rows = new List<(string Page, double P50, double P95, double Max, int Bytes)>();
        foreach (var page in pages)
        {
            var times = new List<double>(views);
            var bytes = 0;
            for (var i = 0; i < warmup + views; i++)
            {
                var watch = Stopwatch.StartNew();
                using var response = await http.GetAsync(page).ConfigureAwait(false);
                var body = await response.Content.ReadAsByteArrayAsync().ConfigureAwait(false);
                watch.Stop();
                if (response.StatusCode != HttpStatusCode.OK)
                {
                    throw new InvalidOperationException($"{page} answered {(int)response.StatusCode}: {Encoding.UTF8.GetString(body)[..Math.Min(300, body.Length)]}");
                }

                if (i >= warmup)
                {
                    times.Add(watch.Elapsed.TotalMilliseconds);
                    bytes = body.Length;
                }
            }

            times.Sort();
            rows.Add((page, Quantile(times, 0.50), Quantile(times, 0.95), times[^1], bytes));
            await log.WriteLineAsync($"  {page}: p50 {rows[^1].P50:0.0} ms, p95 {rows[^1].P95:0.0} ms").ConfigureAwait(false);
        }

        var loadAfter = File.ReadAllText("/proc/loadavg").Trim();
        var report = new StringBuilder();
        report.AppendLine($"Console pages with a {size:N0}-entry ledger ({views} views per page after {warmup} warm-up views, sequential, one session, on loopback)")
            .AppendLine()
            .AppendLine($"- command: `dotnet run -c Release --project bench/Enclave.Bench.Console -- {arguments}`")
            .AppendLine($"- ledger filled in {fill.TotalSeconds:0.0} s ({writers} writers); usage rollup caught up {rollupTime.TotalSeconds:0} s after start")
            .AppendLine($"- load average before: {loadBefore}; after: {loadAfter} ({Environment.ProcessorCount} cores)")
            .AppendLine()
            .AppendLine("| page | p50 ms | p95 ms | max ms | bytes | p95 < 300 ms |")
            .AppendLine("| --- | ---: | ---: | ---: | ---: | --- |");
        foreach (var (page, p50, p95, max, bytes) in rows)
        {
            report.AppendLine($"| `{page}` | {p50:0.0} | {p95:0.0} | {max:0.0} | {bytes:N0} | {(p95 < 300 ? "yes" : "**no**")} |");
        }

        return report.ToString();
    }
    finally
    {
        await app.StopAsync().ConfigureAwait(false);
        await app.DisposeAsync().ConfigureAwait(false);
    }
}

// Nearest rank.
static double Quantile(List<double> sorted, double q) => sorted[Math.Max(0, (int)Math.Ceiling(q * sorted.Count) - 1)];

// The sign-in page's form: its hidden fields (the antiforgery token, the form's name) and the key; the session cookie
// lands in the handler's container.
static async Task SignInAsync(HttpClient http, string key)
{
    var page = await http.GetStringAsync("/console/signin").ConfigureAwait(false);
    var form = Regex.Match(page, "<form[^>]*method=\"post\"[^>]*>(.*?)</form>", RegexOptions.Singleline).Groups[1].Value;
    var fields = new List<KeyValuePair<string, string>> { new("Key", key) };
    foreach (Match input in Regex.Matches(form, "<input[^>]*type=\"hidden\"[^>]*>"))
    {
        var name = Regex.Match(input.Value, "name=\"([^\"]*)\"").Groups[1].Value;
        var value = Regex.Match(input.Value, "value=\"([^\"]*)\"").Groups[1].Value;
        fields.Add(new(name, WebUtility.HtmlDecode(value)));
    }

    using var response = await http.PostAsync("/console/signin", new FormUrlEncodedContent(fields)).ConfigureAwait(false);
    using var overview = await http.GetAsync("/console").ConfigureAwait(false);
    if (overview.StatusCode != HttpStatusCode.OK)
    {
        throw new InvalidOperationException($"sign-in failed: the sign-in answered {(int)response.StatusCode}, the overview {(int)overview.StatusCode}");
    }
}
