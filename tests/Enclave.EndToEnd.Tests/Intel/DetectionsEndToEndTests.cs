using System.Net;
using System.Net.Http.Headers;
using System.Text.Json.Nodes;
using Enclave.Airlock.Repository;
using Enclave.Cli;
using Enclave.Core.Audit;
using Enclave.Ledger;
using Enclave.Policy.Identity;
using Enclave.Server.Hosting;
using Enclave.Signing.Keys;
using Microsoft.AspNetCore.Builder;
using Microsoft.Extensions.Configuration;

namespace Enclave.EndToEnd.Tests.Intel;

/// <summary>
/// Live detections on the real server (composition root, loopback HTTP, real <c>enclave.db</c>): a signed <c>intel</c>
/// bundle of Sigma rules crosses the airlock (<c>enclave airlock import</c>, one approval), its rules go live
/// (<c>detections.loaded</c>); ten refused API keys from one address then raise the brute-force correlation alert,
/// visible with <c>enclave alerts list</c> and as <c>alert.raised</c> in the ledger; <c>enclave detections status</c>
/// shows the rules and the cursor; after a restart the rules are still live and the alert is not raised again.
/// </summary>
public sealed class DetectionsEndToEndTests : IAsyncLifetime
{
    private const string Secret = "detections bundle passphrase";
    private readonly string _root = Directory.CreateTempSubdirectory("enclave-detect-e2e-").FullName;
    private string _data = null!;
    private string _adminKey = null!;
    private WebApplication? _app;
    private string _url = string.Empty;

    public Task InitializeAsync()
    {
        _data = Path.Combine(_root, "data");
        Directory.CreateDirectory(_data);
        SqliteLedger.Initialize(_data, "e2e.example/detections", postQuantum: false, TimeProvider.System);
        _adminKey = new ApiKeyStore(_data, TimeProvider.System).Create("detections admin", "admin").Key;
        return Task.CompletedTask;
    }

    public async Task DisposeAsync()
    {
        await StopAsync();
        Directory.Delete(_root, recursive: true);
    }

    [Fact]
    public async Task SigmaBundleThroughTheAirlock_MatchingTrafficRaisesAnAlert_InAlertsAndLedger_AndARestartDoesNotRaiseItAgain()
    {
        await StartAsync();
        var admin = KeyFile("admin", _adminKey);
        var approver = KeyFile("approver", new ApiKeyStore(_data, TimeProvider.System).Create("rules approver", "airlock-approver").Key);
        var analyst = KeyFile("analyst", new ApiKeyStore(_data, TimeProvider.System).Create("soc analyst", "analyst").Key);

        // A Sigma rule bundle, signed on the connected side with the production bundle writer.
        using var passphrase = Passphrase.FromString(Secret);
        var trust = TrustRepository.Initialize(new TrustInitOptions { Directory = Path.Combine(_root, "repo"), RootKeys = 1, RootThreshold = 1 }, passphrase, TimeProvider.System);
        var rules = Path.Combine(_root, "rules");
        Directory.CreateDirectory(Path.Combine(rules, "sigma"));
        File.Copy(Path.Combine(RepoRoot(), "src", "Enclave.Intel", "Sigma", "Rules", "enclave_auth_failed.yml"), Path.Combine(rules, "sigma", "enclave_auth_failed.yml"));
        File.WriteAllText(Path.Combine(rules, "README.txt"), "rules for the enclave's audit stream\n");
        var bundle = Path.Combine(_root, "rules.tar");
        Assert.True(TrustRepository.Open(trust.Directory).CreateBundle(
            new BundleCreateOptions { Kind = "intel", Name = "soc-rules", Version = "2026.12.1", Label = "UNCLASSIFIED", Sources = [rules], Output = bundle },
            passphrase,
            TimeProvider.System).IsComplete);
        Assert.Equal(0, (await CliAsync(admin, "airlock", "trust", trust.RootPath)).Code);
        var imported = await CliAsync(admin, "airlock", "import", bundle, "--json");
        Assert.True(imported.Code == 0, imported.Error);
        var id = JsonNode.Parse(imported.Out)!["id"]!.GetValue<string>();
        var approved = await CliAsync(approver, "airlock", "approve", id);
        Assert.True(approved.Code == 0, approved.Error);

        var loaded = Entries().Single(e => e.Event.Type == "detections.loaded");
        Assert.Equal("import:" + id, loaded.Event.Subject);
        Assert.Equal(1, loaded.Event.Details!.Value.GetProperty("rules").GetInt32());
        Assert.Equal(1, loaded.Event.Details!.Value.GetProperty("correlations").GetInt32());
        Assert.DoesNotContain(Entries(), e => e.Event.Type == "import.hook-failed");

        // Traffic that matches: ten refused API keys from this client's address within five minutes.
        using (var http = new HttpClient { BaseAddress = new Uri(_url) })
        {
            for (var i = 0; i < 10; i++)
            {
                using var request = new HttpRequestMessage(HttpMethod.Get, "/v1/models");
                request.Headers.Authorization = new AuthenticationHeaderValue("Bearer", "ek_notakey" + i);
                using var response = await http.SendAsync(request);
                Assert.Equal(HttpStatusCode.Unauthorized, response.StatusCode);
            }
        }

        var failures = Entries().Where(e => e.Event.Type == "auth.failed").Select(e => e.Index).ToList();
        Assert.Equal(10, failures.Count);
        var alert = await EnclaveFixture.EventuallyAsync(() => Alerts(analyst).Result.FirstOrDefault(a => a["kind"]!.GetValue<string>() == "detection"));
        Assert.Equal("high", alert["severity"]!.GetValue<string>());
        Assert.Contains("brute force", alert["title"]!.GetValue<string>(), StringComparison.Ordinal);
        Assert.Equal(failures, alert["evidence"]!["ledgerIndices"]!.AsArray().Select(i => i!.GetValue<long>()));
        Assert.Equal("127.0.0.1", alert["evidence"]!["facts"]!["group.details.remoteAddress"]!.GetValue<string>());
        var raised = Entries().Single(e => e.Event.Type == "alert.raised");
        Assert.Equal(alert["raisedIndex"]!.GetValue<long>(), raised.Index);
        Assert.Equal("detection", raised.Event.Details!.Value.GetProperty("kind").GetString());
        var table = await CliAsync(analyst, "alerts", "list");
        Assert.Contains("Sigma rule 'Enclave brute force", table.Out, StringComparison.Ordinal);

        var status = await CliAsync(analyst, "detections", "status", "--json");
        Assert.True(status.Code == 0, status.Error);
        var s = JsonNode.Parse(status.Out)!;
        Assert.True(s["enabled"]!.GetValue<bool>());
        Assert.Equal(2, s["liveRules"]!.GetValue<int>());
        Assert.Equal("soc-rules", s["ruleSets"]![0]!["name"]!.GetValue<string>());
        Assert.True(s["sigma"]!["alertsRaised"]!.GetValue<long>() >= 1);
        var text = await CliAsync(analyst, "detections", "status");
        Assert.Contains("detections: on", text.Out, StringComparison.Ordinal);
        Assert.Contains("soc-rules", text.Out, StringComparison.Ordinal);

        // Restart: the cursor and the rules are in enclave.db; nothing is raised again, and the rules still work.
        await EnclaveFixture.EventuallyAsync(() => JsonNode.Parse(CliAsync(analyst, "detections", "status", "--json").Result.Out)!["lag"]!.GetValue<long>() == 0 ? "caught up" : null);
        await StopAsync();
        await StartAsync();
        await EnclaveFixture.EventuallyAsync(() => JsonNode.Parse(CliAsync(analyst, "detections", "status", "--json").Result.Out) is { } st && st["cursor"]!.GetValue<long>() >= 0 && st["lag"]!.GetValue<long>() == 0 ? st : null);
        var after = JsonNode.Parse((await CliAsync(analyst, "detections", "status", "--json")).Out)!;
        Assert.Equal(2, after["liveRules"]!.GetValue<int>());
        Assert.Single(Entries(), e => e.Event.Type == "alert.raised");
        Assert.Single(await Alerts(analyst));
    }

    private async Task<List<JsonObject>> Alerts(string keyFile)
    {
        var list = await CliAsync(keyFile, "alerts", "list", "--json");
        Assert.True(list.Code == 0, list.Error);
        return [.. JsonNode.Parse(list.Out)!["alerts"]!.AsArray().Select(a => a!.AsObject())];
    }

    private async Task StartAsync()
    {
        var configuration = new ConfigurationBuilder().AddInMemoryCollection(new Dictionary<string, string?>
        {
            ["Server:DataDirectory"] = _data,
            ["Server:Urls:0"] = "http://127.0.0.1:0",
            ["Detections:PollInterval"] = "00:00:00.050",
        }).Build();
        _app = EnclaveHost.Create(configuration);
        await _app.StartAsync();
        _url = _app.Urls.First();
    }

    private async Task StopAsync()
    {
        if (_app is not null)
        {
            await _app.StopAsync();
            await _app.DisposeAsync();
            _app = null;
        }
    }

    private List<(long Index, AuditEvent Event)> Entries()
    {
        using var reader = LedgerReader.Open(_data);
        var size = reader.TreeSize();
        var result = new List<(long, AuditEvent)>();
        for (long i = 0; i < size; i++)
        {
            result.Add((i, AuditEvent.Parse(reader.ReadEntry(i))));
        }

        return result;
    }

    private string KeyFile(string name, string key)
    {
        var path = Path.Combine(_root, name + ".key");
        File.WriteAllText(path, key);
        return path;
    }

    private async Task<(int Code, string Out, string Error)> CliAsync(string keyFile, params string[] args)
    {
        var output = new StringWriter();
        var error = new StringWriter();
        var context = new CliContext { Out = output, Error = error, In = TextReader.Null, OpenStandardOutput = () => Stream.Null };
        var code = await EnclaveCli.RunAsync([.. args, "--server", _url, "--api-key-file", keyFile], context);
        return (code, output.ToString(), error.ToString());
    }

    private static string RepoRoot()
    {
        for (var dir = new DirectoryInfo(AppContext.BaseDirectory); dir is not null; dir = dir.Parent)
        {
            if (File.Exists(Path.Combine(dir.FullName, "Enclave.slnx")))
            {
                return dir.FullName;
            }
        }

        throw new DirectoryNotFoundException("no Enclave.slnx above " + AppContext.BaseDirectory);
    }
}
