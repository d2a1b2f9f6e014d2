using System.Text;
using System.Text.Json;

namespace Enclave.Cli.Tests;

/// <summary><c>enclave intel sigma test</c>: the example rules over an events file of canonical audit events.</summary>
public sealed class SigmaCliTests : IDisposable
{
    private readonly string _dir = Path.Combine(Path.GetTempPath(), "enclave-sigma-cli-" + Guid.NewGuid().ToString("N"));

    public SigmaCliTests() => Directory.CreateDirectory(_dir);

    public void Dispose() => Directory.Delete(_dir, recursive: true);

    private static string Find(params string[] relative)
    {
        for (var dir = new DirectoryInfo(AppContext.BaseDirectory); dir is not null; dir = dir.Parent)
        {
            var candidate = Path.Combine([dir.FullName, .. relative]);
            if (File.Exists(candidate) || Directory.Exists(candidate))
            {
                return candidate;
            }
        }

        throw new DirectoryNotFoundException($"{string.Join('/', relative)} not found above {AppContext.BaseDirectory}");
    }

    private async Task<string> EventsAsync()
    {
        var t0 = new DateTime(2026, 3, 1, 9, 0, 0, DateTimeKind.Utc);
        var lines = new StringBuilder();
        lines.Append("{\"actor\":\"system\",\"details\":{\"urls\":[\"http://127.0.0.1:8080\"]},\"subject\":\"server\",\"time\":\"2026-03-01T08:59:00.000Z\",\"type\":\"server.started\"}\n");
        for (var i = 0; i < 12; i++)
        {
            lines.Append(CultureInvariant($"{{\"actor\":\"anonymous\",\"details\":{{\"method\":\"POST\",\"reason\":\"unknown_key\",\"remoteAddress\":\"203.0.113.7\",\"scheme\":\"ApiKey\"}},\"subject\":\"/v1/models\",\"time\":\"{t0.AddSeconds(i * 10):yyyy-MM-ddTHH:mm:ss.fffZ}\",\"type\":\"auth.failed\"}}\n"));
        }

        var path = Path.Combine(_dir, "events.jsonl");
        await File.WriteAllTextAsync(path, lines.ToString());
        return path;
    }

    private static string CultureInvariant(FormattableString text) => FormattableString.Invariant(text);

    [Fact]
    public async Task SigmaTest_Json_ReportsTheBruteForceCorrelation_WithLedgerIndices()
    {
        var events = await EventsAsync();
        var result = await CliRunner.RunAsync("intel", "sigma", "test", Find("src", "Enclave.Intel", "Sigma", "Rules"), "--events", events, "--first-index", "100", "--json");
        Assert.Equal(0, result.ExitCode);
        using var document = JsonDocument.Parse(result.Out);
        var root = document.RootElement;
        Assert.Equal(13, root.GetProperty("events").GetInt32());
        var match = Assert.Single(root.GetProperty("matches").EnumerateArray());
        Assert.Equal("correlation", match.GetProperty("kind").GetString());
        Assert.Equal("203.0.113.7", match.GetProperty("group").GetProperty("details.remoteAddress").GetString());
        Assert.Equal(Enumerable.Range(101, 10), match.GetProperty("evidence").EnumerateArray().Select(e => e.GetInt32()));
        Assert.Equal(0, root.GetProperty("rules").GetProperty("skipped").GetArrayLength());
    }

    [Fact]
    public async Task SigmaTest_Text_ListsMatches_AndRulesNotLoadedWithReasons()
    {
        var events = await EventsAsync();
        var result = await CliRunner.RunAsync("intel", "sigma", "test", Find("src", "Enclave.Intel", "Sigma", "Rules"), Find("shared", "testdata", "intel", "sigma", "correlation"), "--events", events);
        Assert.Equal(0, result.ExitCode);
        Assert.Contains("correlation  high  Enclave brute force", result.Out, StringComparison.Ordinal);
        Assert.Contains("sigma: 4 detection rules, 3 correlation rules, 5 not loaded; 13 events, 1 matches", result.Error, StringComparison.Ordinal);
        Assert.Contains("unknown-rule: refers to rule 'recon_cmd_a'", result.Error, StringComparison.Ordinal);
    }

    [Fact]
    public async Task SigmaTest_BadEventLine_IsInvalidInput_NamingTheLine()
    {
        var events = Path.Combine(_dir, "bad.jsonl");
        await File.WriteAllTextAsync(events, "{\"type\":\"auth.failed\",\"time\":\"2026-03-01T09:00:00.000Z\"}\n{\"type\":\n");
        var result = await CliRunner.RunAsync("intel", "sigma", "test", Find("src", "Enclave.Intel", "Sigma", "Rules"), "--events", events);
        Assert.Equal(3, result.ExitCode);
        Assert.Contains("line 2", result.Error, StringComparison.Ordinal);
    }

    [Fact]
    public async Task SigmaTest_OnlyBrokenRules_IsInvalidInput()
    {
        var rule = Path.Combine(_dir, "dup.yml");
        await File.WriteAllTextAsync(rule, "title: a\ntitle: b\n");
        var events = await EventsAsync();
        var result = await CliRunner.RunAsync("intel", "sigma", "test", rule, "--events", events);
        Assert.Equal(3, result.ExitCode);
        Assert.Contains("duplicate key 'title'", result.Error, StringComparison.Ordinal);
    }
}
