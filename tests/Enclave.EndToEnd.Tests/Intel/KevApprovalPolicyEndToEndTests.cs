using System.Net;
using System.Net.Http.Headers;
using System.Net.Http.Json;
using System.Text.Json.Nodes;
using Enclave.Airlock.Repository;
using Enclave.Cli;
using Enclave.Inference.Forge;
using Enclave.Ledger;
using Enclave.Policy.Identity;
using Enclave.Server.Hosting;
using Enclave.Signing.Keys;
using Microsoft.Extensions.Configuration;

namespace Enclave.EndToEnd.Tests.Intel;

/// <summary>
/// <c>Vulns:BlockApprovalOnKev</c> on a real server: with KEV data loaded, the approval of a model whose SBOM has an open
/// KEV finding is refused with a clear error (409, <c>kev-findings</c>), recorded as <c>vulns.approval-blocked</c>, and
/// nothing is approved; a malformed <c>Vulns</c> section stops the start with the problem named.
/// </summary>
public sealed class KevApprovalPolicyEndToEndTests : IDisposable
{
    private const string Secret = "kev policy passphrase";
    private readonly string _root = Directory.CreateTempSubdirectory("enclave-kevpolicy-e2e-").FullName;

    public void Dispose() => Directory.Delete(_root, recursive: true);

    [Fact]
    public async Task ApprovalOfAnImportWithKevFindings_IsRefused_WhenThePolicyIsOn()
    {
        var data = Path.Combine(_root, "data");
        SqliteLedger.Initialize(data, "e2e.example/kev-policy", postQuantum: false, TimeProvider.System);
        var adminKey = new ApiKeyStore(data, TimeProvider.System).Create("e2e admin", "admin").Key;
        await using var app = EnclaveHost.Create(Configuration(new()
        {
            ["Server:DataDirectory"] = data,
            ["Server:Urls:0"] = "http://127.0.0.1:0",
            ["Vulns:BlockApprovalOnKev"] = "true",
        }));
        await app.StartAsync();
        var url = app.Urls.First();
        var admin = KeyFile("admin", adminKey);
        var approver = await ApproverAsync(url, adminKey, "penny");

        using var passphrase = Passphrase.FromString(Secret);
        var trust = TrustRepository.Initialize(new TrustInitOptions { Directory = Path.Combine(_root, "repo"), RootKeys = 1, RootThreshold = 1 }, passphrase, TimeProvider.System);
        var repo = TrustRepository.Open(trust.Directory);
        Assert.Equal(0, (await CliAsync(url, admin, "airlock", "trust", trust.RootPath)).Code);
        var vulndata = Path.Combine(_root, "vulndata");
        Directory.CreateDirectory(vulndata);
        File.Copy(SharedTestData.Intel("osv/github-advisory-database/GHSA-qppj-fm5r-hxr3.json"), Path.Combine(vulndata, "GHSA-qppj-fm5r-hxr3.json"));
        File.Copy(SharedTestData.Intel("kev/known_exploited_vulnerabilities.json"), Path.Combine(vulndata, "kev.json"));
        var intelId = await ImportAsync(url, admin, repo, passphrase, new BundleCreateOptions { Kind = "intel", Name = "vulndata", Version = "1", Label = "UNCLASSIFIED", Sources = [vulndata], Output = Path.Combine(_root, "intel.tar") });
        Assert.Equal(0, (await CliAsync(url, approver, "airlock", "approve", intelId)).Code);

        var modelDir = Path.Combine(_root, "forged");
        ModelForge.ForgeDecoder(modelDir, new ForgeOptions { Seed = 5 });
        var modelId = await ImportAsync(url, admin, repo, passphrase, new BundleCreateOptions
        {
            Kind = "model", Name = "kev-chat", Version = "1.0", Label = "UNCLASSIFIED", Task = "chat", Sources = [modelDir], Output = Path.Combine(_root, "model.tar"),
            Sbom = SharedTestData.Intel("sbom/cyclonedx/minikube-v1.23.1.gomod-app.cdx-1.5.json"),
        });

        var refused = await CliAsync(url, approver, "airlock", "approve", modelId);

        Assert.NotEqual(0, refused.Code);
        Assert.Contains("approval refused", refused.Error, StringComparison.Ordinal);
        Assert.Contains("CVE-2023-44487", refused.Error, StringComparison.Ordinal);
        Assert.Contains("Vulns:BlockApprovalOnKev", refused.Error, StringComparison.Ordinal);
        using var http = Http(url, adminKey);
        var detail = await http.GetFromJsonAsync<JsonObject>($"/admin/v1/airlock/imports/{modelId}");
        Assert.Equal("verified", detail!["state"]!.GetValue<string>());
        Assert.Empty(detail["approvers"]!.AsArray());
        using (var reader = LedgerReader.Open(data))
        {
            var entries = Enumerable.Range(0, (int)reader.TreeSize()).Select(i => Enclave.Core.Audit.AuditEvent.Parse(reader.ReadEntry(i))).ToList();
            var blocked = Assert.Single(entries, e => e.Type == "vulns.approval-blocked");
            Assert.Equal("import:" + modelId, blocked.Subject);
            Assert.DoesNotContain(entries, e => e.Type == "import.approved" && e.Subject == "import:" + modelId);
        }

        await app.StopAsync();
    }

    [Fact]
    public async Task MalformedVulnsSection_StopsTheStart_NamingTheProblem()
    {
        await using var app = EnclaveHost.Create(Configuration(new()
        {
            ["Server:DataDirectory"] = Path.Combine(_root, "bad"),
            ["Server:Urls:0"] = "http://127.0.0.1:0",
            ["Vulns:MaxDataAge"] = "a month",
            ["Vulns:BlockApprovalOnKev"] = "sometimes",
        }));

        var e = await Assert.ThrowsAnyAsync<Exception>(() => app.StartAsync());

        var problems = EnclaveHost.Problems(e);
        Assert.Contains(problems, p => p.Contains("Vulns:MaxDataAge 'a month' is not a duration", StringComparison.Ordinal));
        Assert.Contains(problems, p => p.Contains("Vulns:BlockApprovalOnKev 'sometimes' is not true or false", StringComparison.Ordinal));
    }

    private static IConfiguration Configuration(Dictionary<string, string?> values) => new ConfigurationBuilder().AddInMemoryCollection(values).Build();

    private async Task<string> ImportAsync(string url, string admin, TrustRepository repo, Passphrase passphrase, BundleCreateOptions options)
    {
        Assert.True(repo.CreateBundle(options, passphrase, TimeProvider.System).IsComplete);
        var imported = await CliAsync(url, admin, "airlock", "import", options.Output, "--json");
        Assert.True(imported.Code == 0, imported.Error);
        return JsonNode.Parse(imported.Out)!["id"]!.GetValue<string>();
    }

    private async Task<string> ApproverAsync(string url, string adminKey, string name)
    {
        using var http = Http(url, adminKey);
        var added = await http.PostAsJsonAsync("/admin/v1/users", new JsonObject { ["name"] = name, ["roles"] = new JsonArray("airlock-approver") });
        Assert.True(added.IsSuccessStatusCode, await added.Content.ReadAsStringAsync());
        var created = await http.PostAsJsonAsync("/admin/v1/keys", new JsonObject { ["user"] = name });
        Assert.Equal(HttpStatusCode.Created, created.StatusCode);
        return KeyFile(name, (await created.Content.ReadFromJsonAsync<JsonObject>())!["key"]!.GetValue<string>());
    }

    private static HttpClient Http(string url, string key)
    {
        var http = new HttpClient { BaseAddress = new Uri(url) };
        http.DefaultRequestHeaders.Authorization = new AuthenticationHeaderValue("Bearer", key);
        return http;
    }

    private string KeyFile(string name, string key)
    {
        var path = Path.Combine(_root, name + ".key");
        File.WriteAllText(path, key);
        return path;
    }

    private static async Task<(int Code, string Out, string Error)> CliAsync(string url, string keyFile, params string[] args)
    {
        var output = new StringWriter();
        var error = new StringWriter();
        var context = new CliContext { Out = output, Error = error, In = TextReader.Null, OpenStandardOutput = () => Stream.Null };
        var code = await EnclaveCli.RunAsync([.. args, "--server", url, "--api-key-file", keyFile], context);
        return (code, output.ToString(), error.ToString());
    }
}
