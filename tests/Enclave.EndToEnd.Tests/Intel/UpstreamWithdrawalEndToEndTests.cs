using System.Net;
using System.Net.Http.Headers;
using System.Text;
using System.Text.Json.Nodes;
using Enclave.Airlock.Repository;
using Enclave.Cli;
using Enclave.Ledger;
using Enclave.Policy.Identity;
using Enclave.Server.Hosting;
using Enclave.Signing.Keys;
using Microsoft.AspNetCore.Builder;
using Microsoft.Extensions.Configuration;

namespace Enclave.EndToEnd.Tests.Intel;

/// <summary>
/// The upstream guard in the live server, as <c>enclave serve</c> builds it from its configuration: two backends serve
/// <c>echo-chat</c> (one reached as <c>localhost</c>, one as <c>127.0.0.1</c>) and a third only <c>listed-only</c>, all
/// on one stub. An <c>intel</c> bundle listing the domain <c>localhost</c> crosses the airlock: the backend whose host
/// is <c>localhost</c> is out of routing with an alert (in <c>enclave alerts list</c> and the ledger), <c>echo-chat</c>
/// goes on through the other backend, <c>listed-only</c> answers 503 naming the indicator; a newer bundle revoking the
/// indicator brings the backend back.
/// </summary>
public sealed class UpstreamWithdrawalEndToEndTests : IAsyncLifetime
{
    private const string Secret = "upstream withdrawal passphrase";
    private const string IndicatorId = "indicator--2f4e6a8c-1b3d-4e5f-8a7b-9c0d1e2f3a4b";
    private readonly string _root = Directory.CreateTempSubdirectory("enclave-upstream-withdrawal-e2e-").FullName;
    private VllmStub _stub = null!;
    private WebApplication _app = null!;
    private string _baseUrl = string.Empty;
    private string _adminKey = string.Empty;

    private string DataDirectory => Path.Combine(_root, "data");

    public async Task InitializeAsync()
    {
        _stub = await VllmStub.StartAsync();
        SqliteLedger.Initialize(DataDirectory, "e2e.example/upstream-withdrawal", postQuantum: false, TimeProvider.System);
        _adminKey = new ApiKeyStore(DataDirectory, TimeProvider.System).Create("withdrawal admin", "admin").Key;
        var viaLocalhost = _stub.BaseUrl.Replace("127.0.0.1", "localhost", StringComparison.Ordinal);
        var configuration = new ConfigurationBuilder().AddInMemoryCollection(new Dictionary<string, string?>
        {
            ["Server:DataDirectory"] = DataDirectory,
            ["Server:Urls:0"] = "http://127.0.0.1:0",
            ["Server:CheckpointInterval"] = "00:00:00",
            ["Upstream:Backends:0:Name"] = "named-host",
            ["Upstream:Backends:0:BaseUrl"] = viaLocalhost,
            ["Upstream:Backends:0:Models:0"] = "echo-chat",
            ["Upstream:Backends:0:Labels:Classification"] = "UNCLASSIFIED",
            ["Upstream:Backends:0:Labels:Jurisdiction"] = "local",
            ["Upstream:Backends:1:Name"] = "address-host",
            ["Upstream:Backends:1:BaseUrl"] = _stub.BaseUrl,
            ["Upstream:Backends:1:Models:0"] = "echo-chat",
            ["Upstream:Backends:1:Labels:Classification"] = "UNCLASSIFIED",
            ["Upstream:Backends:1:Labels:Jurisdiction"] = "local",
            ["Upstream:Backends:2:Name"] = "named-host-only",
            ["Upstream:Backends:2:BaseUrl"] = viaLocalhost,
            ["Upstream:Backends:2:Models:0"] = "listed-only",
            ["Upstream:Backends:2:Labels:Classification"] = "UNCLASSIFIED",
            ["Upstream:Backends:2:Labels:Jurisdiction"] = "local",
            ["Models:echo-chat:Kind"] = "chat",
            ["Models:listed-only:Kind"] = "chat",
        }).Build();
        _app = EnclaveHost.Create(configuration);
        await _app.StartAsync();
        _baseUrl = _app.Urls.First();
    }

    public async Task DisposeAsync()
    {
        await _app.DisposeAsync();
        await _stub.DisposeAsync();
        try
        {
            Directory.Delete(_root, recursive: true);
        }
        catch (IOException)
        {
            // Pooled SQLite connections may hold the file a moment longer; temp is cleaned by the OS.
        }
    }

    [Fact]
    public async Task IntelListingABackendsHost_TakesItOutOfRouting_WithAnAlert_OthersServe_AndARevocationBringsItBack()
    {
        using var passphrase = Passphrase.FromString(Secret);
        var trust = TrustRepository.Initialize(new TrustInitOptions { Directory = Path.Combine(_root, "repo"), RootKeys = 1, RootThreshold = 1 }, passphrase, TimeProvider.System);
        var repo = TrustRepository.Open(trust.Directory);
        var admin = KeyFile("admin", _adminKey);
        var keys = new ApiKeyStore(DataDirectory, TimeProvider.System);
        var approver = KeyFile("approver", keys.Create("withdrawal approver", "airlock-approver").Key);
        var userKey = keys.Create("withdrawal user", "user").Key;
        Assert.Equal(0, (await CliAsync(admin, "airlock", "trust", trust.RootPath)).Code);

        // Before any intelligence, both models answer.
        Assert.Equal(HttpStatusCode.OK, (await ChatAsync(userKey, "listed-only")).Status);
        Assert.Equal(HttpStatusCode.OK, (await ChatAsync(userKey, "echo-chat")).Status);

        // The domain localhost is listed.
        await ActivateAsync(repo, passphrase, admin, approver, "2026.12.01", Indicator("2026-12-01T00:00:00Z", revoked: false));
        var alerts = await EventuallyAsync(async () =>
        {
            var listed = JsonNode.Parse((await CliAsync(admin, "alerts", "list", "--kind", "intel", "--json")).Out)!["alerts"]!.AsArray();
            return listed.Count >= 2 ? listed : null;
        });
        Assert.Equal(
            ["upstream:named-host", "upstream:named-host-only"],
            alerts.Select(a => a!["subject"]!.GetValue<string>()).Order(StringComparer.Ordinal));
        Assert.All(alerts, a => Assert.Equal(IndicatorId, a!["evidence"]!["facts"]!["indicator"]!.GetValue<string>()));

        // The model served only there: 503 naming the indicator; the other goes on, never through the listed backend.
        var refused = await ChatAsync(userKey, "listed-only");
        Assert.Equal(HttpStatusCode.ServiceUnavailable, refused.Status);
        Assert.Contains("threat-intelligence indicator " + IndicatorId, refused.Body, StringComparison.Ordinal);
        var served = _stub.Requests;
        for (var i = 0; i < 6; i++)
        {
            Assert.Equal(HttpStatusCode.OK, (await ChatAsync(userKey, "echo-chat")).Status);
        }

        Assert.Equal(served + 6, _stub.Requests);
        var completed = Entries().Where(e => e.Type == "request.completed").TakeLast(6).ToList();
        Assert.All(completed, e => Assert.Equal("address-host", e.Details!.Value.GetProperty("backend").GetString()));

        // A newer version revokes the indicator: the backend serves again.
        await ActivateAsync(repo, passphrase, admin, approver, "2026.12.02", Indicator("2026-12-02T00:00:00Z", revoked: true));
        await EventuallyAsync(async () => (await ChatAsync(userKey, "listed-only")).Status == HttpStatusCode.OK ? "back" : null);
    }

    private async Task ActivateAsync(TrustRepository repo, Passphrase passphrase, string admin, string approver, string version, JsonObject indicator)
    {
        var source = Path.Combine(_root, "src-" + version);
        Directory.CreateDirectory(Path.Combine(source, "stix"));
        var stix = new JsonObject { ["type"] = "bundle", ["id"] = "bundle--" + Guid.NewGuid().ToString("D"), ["objects"] = new JsonArray(indicator) };
        File.WriteAllText(Path.Combine(source, "stix", "indicators.json"), stix.ToJsonString());
        var output = Path.Combine(_root, "intel-" + version + ".tar");
        Assert.True(repo.CreateBundle(
            new BundleCreateOptions { Kind = "intel", Name = "upstream-feed", Version = version, Label = "UNCLASSIFIED", Sources = [source], Output = output },
            passphrase,
            TimeProvider.System).IsComplete);
        var imported = await CliAsync(admin, "airlock", "import", output, "--json");
        Assert.True(imported.Code == 0, imported.Error);
        var id = JsonNode.Parse(imported.Out)!["id"]!.GetValue<string>();
        var approved = await CliAsync(approver, "airlock", "approve", id);
        Assert.True(approved.Code == 0, approved.Error);
        await EventuallyAsync(() => Task.FromResult(Entries().Any(e => e.Type == "intel.loaded" && e.Subject == "import:" + id) ? id : null));
    }

    private static JsonObject Indicator(string modified, bool revoked)
    {
        var indicator = new JsonObject
        {
            ["type"] = "indicator",
            ["spec_version"] = "2.1",
            ["id"] = IndicatorId,
            ["created"] = "2026-01-01T00:00:00Z",
            ["modified"] = modified,
            ["name"] = "a host our upstreams must not be",
            ["pattern"] = "[domain-name:value = 'localhost']",
            ["pattern_type"] = "stix",
            ["valid_from"] = "2026-01-01T00:00:00Z",
        };
        if (revoked)
        {
            indicator["revoked"] = true;
        }

        return indicator;
    }

    private List<Enclave.Core.Audit.AuditEvent> Entries()
    {
        using var reader = LedgerReader.Open(DataDirectory);
        var size = reader.TreeSize();
        return [.. Enumerable.Range(0, (int)size).Select(i => Enclave.Core.Audit.AuditEvent.Parse(reader.ReadEntry(i)))];
    }

    private async Task<(HttpStatusCode Status, string Body)> ChatAsync(string key, string model)
    {
        using var client = new HttpClient { BaseAddress = new Uri(_baseUrl) };
        client.DefaultRequestHeaders.Authorization = new AuthenticationHeaderValue("Bearer", key);
        using var response = await client.PostAsync("/v1/chat/completions", new StringContent($$"""{"model":"{{model}}","messages":[{"role":"user","content":"hello"}]}""", Encoding.UTF8, "application/json"));
        return (response.StatusCode, await response.Content.ReadAsStringAsync());
    }

    private static async Task<T> EventuallyAsync<T>(Func<Task<T?>> probe)
        where T : class
    {
        var deadline = DateTime.UtcNow.AddSeconds(60);
        while (true)
        {
            if (await probe() is { } value)
            {
                return value;
            }

            Assert.True(DateTime.UtcNow < deadline, "the condition did not hold within 60 s");
            await Task.Delay(50);
        }
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
        var code = await EnclaveCli.RunAsync([.. args, "--server", _baseUrl, "--api-key-file", keyFile], context);
        return (code, output.ToString(), error.ToString());
    }
}
