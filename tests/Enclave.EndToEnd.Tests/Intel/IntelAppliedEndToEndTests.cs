using System.Net;
using System.Net.Http.Headers;
using System.Security.Cryptography;
using System.Text;
using System.Text.Json.Nodes;
using Enclave.Airlock.Repository;
using Enclave.Cli;
using Enclave.Intel.Stix;
using Enclave.Policy.Identity;
using Enclave.Signing.Keys;
using Enclave.State.Intel;
using Microsoft.Extensions.DependencyInjection;

namespace Enclave.EndToEnd.Tests.Intel;

/// <summary>
/// Threat intelligence applied in the live enclave, on the server built by the composition root with real signed
/// airlock bundles and the real CLI: an earlier import and an earlier request from 127.0.0.1 are in the ledger; a STIX
/// bundle listing the earlier import's file digest, a later import's file digest and 127.0.0.1 crosses the airlock as
/// an <c>intel</c> bundle; the retro-hunt raises "seen before the indicator arrived" alerts for the earlier import and
/// request; the later import is rejected with reason <c>intel</c> and nothing of it stays; a request from 127.0.0.1 is
/// denied (403, <c>request.denied</c> rule <c>intel</c>); the alerts show in <c>enclave alerts list</c> and the ledger,
/// and <c>enclave intel export</c> writes them as STIX sightings.
/// </summary>
public sealed class IntelAppliedEndToEndTests(EnclaveFixture enclave) : IClassFixture<EnclaveFixture>, IDisposable
{
    private const string Secret = "intel bundle passphrase";
    private const string EarlyIndicator = "indicator--6b1c4f5e-0d6a-4f0e-9c1a-1f0c2b3d4e51";
    private const string LateIndicator = "indicator--7c2d5a6f-1e7b-4a1f-8d2b-2a1d3c4e5f62";
    private const string AddressIndicator = "indicator--8d3e6b7a-2f8c-4b2a-9e3c-3b2e4d5f6a73";
    private readonly string _root = Directory.CreateTempSubdirectory("enclave-intel-e2e-").FullName;

    public void Dispose() => Directory.Delete(_root, recursive: true);

    [Fact]
    public async Task IntelBundleThroughTheAirlock_RejectsListedImport_HuntsThePast_DeniesListedAddress_AndAlertsShow()
    {
        using var passphrase = Passphrase.FromString(Secret);
        var trust = TrustRepository.Initialize(new TrustInitOptions { Directory = Path.Combine(_root, "repo"), RootKeys = 1, RootThreshold = 1 }, passphrase, TimeProvider.System);
        var repo = TrustRepository.Open(trust.Directory);
        var admin = KeyFile("admin", enclave.AdminKey);
        var keys = new ApiKeyStore(enclave.DataDirectory, TimeProvider.System);
        var approver = KeyFile("approver", keys.Create("intel approver", "airlock-approver").Key);
        var analyst = KeyFile("analyst", keys.Create("intel analyst", "analyst").Key);
        var userKey = keys.Create("intel user", "user").Key;
        Assert.Equal(0, (await CliAsync(admin, "airlock", "trust", trust.RootPath)).Code);

        // Before any intelligence: an import whose file will be listed, and a request from 127.0.0.1.
        // Dataset documents (a dataset holds text, Markdown, HTML or PDF); random text, so each digest is new.
        var earlyBytes = Encoding.UTF8.GetBytes("early " + Convert.ToHexString(RandomNumberGenerator.GetBytes(2048)));
        var lateBytes = Encoding.UTF8.GetBytes("late " + Convert.ToHexString(RandomNumberGenerator.GetBytes(2048)));
        var early = Bundle(repo, passphrase, "dataset", "early-data", "1.0.0", ("payload.txt", earlyBytes));
        var earlyImport = await CliAsync(admin, "airlock", "import", early, "--json");
        Assert.True(earlyImport.Code == 0, earlyImport.Error);
        var earlyId = JsonNode.Parse(earlyImport.Out)!["id"]!.GetValue<string>();
        var earlyVerified = enclave.Entries().Single(e => e.Event.Type == "import.verified" && e.Event.Subject == "import:" + earlyId).Index;
        using (var served = await ChatAsync(userKey))
        {
            Assert.Equal(HttpStatusCode.OK, served.StatusCode);
        }

        var earlierRequest = enclave.Entries().Last(e => e.Event.Type == "request.admitted").Index;
        Assert.Equal("127.0.0.1", enclave.Entry(earlierRequest).Details!.Value.GetProperty("clientAddress").GetString());

        // The intelligence crosses the airlock.
        var stix = new JsonObject
        {
            ["type"] = "bundle",
            ["id"] = "bundle--0f1e2d3c-4b5a-4968-8776-655443322110",
            ["objects"] = new JsonArray(
                Indicator(EarlyIndicator, "early payload", $"[file:hashes.'SHA-256' = '{Convert.ToHexStringLower(SHA256.HashData(earlyBytes))}']"),
                Indicator(LateIndicator, "late payload", $"[file:hashes.'SHA-256' = '{Convert.ToHexStringLower(SHA256.HashData(lateBytes))}']"),
                Indicator(AddressIndicator, "test client", "[ipv4-addr:value ISSUBSET '127.0.0.0/8']"),
                Indicator("indicator--9e4f7c8b-3a9d-4c3b-8f4d-4c3f5e6a7b84", "not stix", "alert tcp any any", patternType: "snort")),
        };
        var intel = Bundle(repo, passphrase, "intel", "feed", "2026.12.01", ("stix/indicators.json", Encoding.UTF8.GetBytes(stix.ToJsonString())));
        var intelImport = await CliAsync(admin, "airlock", "import", intel, "--json");
        Assert.True(intelImport.Code == 0, intelImport.Error);
        var intelId = JsonNode.Parse(intelImport.Out)!["id"]!.GetValue<string>();
        var approved = await CliAsync(approver, "airlock", "approve", intelId);
        Assert.True(approved.Code == 0, approved.Error);

        var loaded = enclave.Entries().Single(e => e.Event.Type == "intel.loaded" && e.Event.Subject == "import:" + intelId).Event.Details!.Value;
        Assert.Equal(4, loaded.GetProperty("indicators").GetInt32());
        Assert.Equal(3, loaded.GetProperty("live").GetInt32());
        Assert.Equal(1, loaded.GetProperty("notEvaluable").GetInt32());
        Assert.DoesNotContain(enclave.Entries(), e => e.Event.Type == "import.hook-failed");
        Assert.Equal(4, enclave.Services.GetRequiredService<IIndicatorStore>().Indicators().Count);

        // The retro-hunt (in the background after the approval) finds the earlier import and request.
        var hunted = await EnclaveFixture.EventuallyAsync(() => enclave.Entries().FirstOrDefault(e => e.Event.Type == "intel.hunted").Event);
        Assert.Equal("import:" + intelId, hunted.Details!.Value.GetProperty("trigger").GetString());
        Assert.True(hunted.Details!.Value.GetProperty("hits").GetInt64() >= 2);
        var list = await CliAsync(analyst, "alerts", "list", "--kind", "intel", "--json");
        Assert.True(list.Code == 0, list.Error);
        var alerts = JsonNode.Parse(list.Out)!["alerts"]!.AsArray().Select(a => a!.AsObject()).ToList();
        var pastImport = Assert.Single(alerts, a => Fact(a, "indicator") == EarlyIndicator);
        Assert.Equal("before-indicator", Fact(pastImport, "seen"));
        Assert.Contains("seen before the indicator arrived", pastImport["evidence"]!["summary"]!.GetValue<string>(), StringComparison.Ordinal);
        Assert.Equal([earlyVerified], pastImport["evidence"]!["ledgerIndices"]!.AsArray().Select(i => i!.GetValue<long>()));
        Assert.Contains(alerts, a => Fact(a, "indicator") == AddressIndicator && a["evidence"]!["ledgerIndices"]![0]!.GetValue<long>() == earlierRequest);

        // A later import of a listed file is rejected, reason intel, nothing of it kept.
        var late = Bundle(repo, passphrase, "dataset", "late-data", "1.0.0", ("payload.txt", lateBytes));
        var quarantine = Path.Combine(enclave.DataDirectory, "quarantine");
        var quarantined = Quarantined(quarantine);
        var lateImport = await CliAsync(admin, "airlock", "import", late, "--json");
        Assert.NotEqual(0, lateImport.Code);
        Assert.Contains("threat-intelligence", lateImport.Error, StringComparison.Ordinal);
        var rejected = enclave.Entries().Last(e => e.Event.Type == "import.rejected");
        Assert.Equal("intel", rejected.Event.Details!.Value.GetProperty("reason").GetString());
        Assert.DoesNotContain(enclave.Entries(), e => e.Event.Type == "import.verified" && e.Event.Subject == rejected.Event.Subject);
        var imports = await CliAsync(admin, "airlock", "list", "--json");
        Assert.DoesNotContain("late-data", imports.Out, StringComparison.Ordinal);
        Assert.Equal(quarantined, Quarantined(quarantine));
        var lateAlert = await AlertFor(analyst, LateIndicator);
        Assert.Equal(rejected.Event.Subject, lateAlert["subject"]!.GetValue<string>());

        // A request from a listed address is denied: 403, request.denied with rule intel, and an alert.
        using (var denied = await ChatAsync(userKey))
        {
            Assert.Equal(HttpStatusCode.Forbidden, denied.StatusCode);
            var error = JsonNode.Parse(await denied.Content.ReadAsStringAsync())!["error"]!;
            Assert.Equal("intel_denied", error["code"]!.GetValue<string>());
            var index = long.Parse(denied.Headers.GetValues("Enclave-Ledger-Index").Single(), System.Globalization.CultureInfo.InvariantCulture);
            var entry = enclave.Entry(index);
            Assert.Equal("request.denied", entry.Type);
            Assert.Equal("intel", entry.Details!.Value.GetProperty("rule").GetString());
            var deniedAlerts = JsonNode.Parse((await CliAsync(analyst, "alerts", "list", "--kind", "intel", "--json")).Out)!["alerts"]!.AsArray();
            Assert.Contains(deniedAlerts, a => Fact(a!.AsObject(), "indicator") == AddressIndicator && a!["evidence"]!["ledgerIndices"]![0]!.GetValue<long>() == index);
        }

        // Every alert is an alert.raised entry of the ledger, and the table shows them.
        var raised = enclave.Entries().Where(e => e.Event.Type == "alert.raised").Select(e => e.Event.Subject).ToHashSet();
        foreach (var alert in JsonNode.Parse((await CliAsync(analyst, "alerts", "list", "--kind", "intel", "--json")).Out)!["alerts"]!.AsArray())
        {
            Assert.Contains("alert:" + alert!["id"]!.GetValue<string>(), raised);
        }

        var table = await CliAsync(analyst, "alerts", "list");
        Assert.Contains("retro-hunt", table.Out, StringComparison.Ordinal);

        // Status and the sightings bundle for the SOC.
        var status = JsonNode.Parse((await CliAsync(analyst, "intel", "status", "--json")).Out)!;
        Assert.Equal(3, status["live"]!.GetValue<int>());
        Assert.Equal(1, status["notEvaluable"]!.GetValue<int>());
        var exported = Path.Combine(_root, "sightings.json");
        var export = await CliAsync(analyst, "intel", "export", "--out", exported);
        Assert.True(export.Code == 0, export.Error);
        var sightings = new StixBundleReader().ReadFile(exported);
        var sightingRefs = sightings.Context.Where(o => o.Type == "sighting").ToList();
        Assert.True(sightingRefs.Count >= 3);
        Assert.Contains(sightings.Context, o => o.Type == "identity");

        // A hunt on demand finds nothing new: every past hit already has its alert.
        var again = await CliAsync(admin, "intel", "hunt", "--json");
        Assert.True(again.Code == 0, again.Error);
        Assert.Equal(0, JsonNode.Parse(again.Out)!["alerts"]!.GetValue<int>());
    }

    private static string[] Quarantined(string folder) =>
        Directory.Exists(folder) ? [.. Directory.EnumerateFileSystemEntries(folder).Order(StringComparer.Ordinal)] : [];

    private static string? Fact(JsonObject alert, string name) => alert["evidence"]?["facts"]?[name]?.GetValue<string>();

    private async Task<JsonObject> AlertFor(string key, string indicator)
    {
        var list = JsonNode.Parse((await CliAsync(key, "alerts", "list", "--kind", "intel", "--json")).Out)!["alerts"]!.AsArray();
        return Assert.Single(list, a => Fact(a!.AsObject(), "indicator") == indicator)!.AsObject();
    }

    private static JsonObject Indicator(string id, string name, string pattern, string patternType = "stix") => new()
    {
        ["type"] = "indicator",
        ["spec_version"] = "2.1",
        ["id"] = id,
        ["created"] = "2026-01-01T00:00:00.000Z",
        ["modified"] = "2026-01-01T00:00:00.000Z",
        ["name"] = name,
        ["indicator_types"] = new JsonArray("malicious-activity"),
        ["pattern"] = pattern,
        ["pattern_type"] = patternType,
        ["valid_from"] = "2026-01-01T00:00:00Z",
    };

    private string Bundle(TrustRepository repo, Passphrase passphrase, string kind, string name, string version, params (string Path, byte[] Bytes)[] files)
    {
        var source = Path.Combine(_root, "src-" + name);
        foreach (var (path, bytes) in files)
        {
            var full = Path.Combine(source, path);
            Directory.CreateDirectory(Path.GetDirectoryName(full)!);
            File.WriteAllBytes(full, bytes);
        }

        var output = Path.Combine(_root, name + ".tar");
        var created = repo.CreateBundle(
            new BundleCreateOptions { Kind = kind, Name = name, Version = version, Label = "UNCLASSIFIED", Sources = [source], Output = output },
            passphrase,
            TimeProvider.System);
        Assert.True(created.IsComplete);
        return output;
    }

    private async Task<HttpResponseMessage> ChatAsync(string key)
    {
        using var client = new HttpClient { BaseAddress = new Uri(enclave.BaseUrl) };
        client.DefaultRequestHeaders.Authorization = new AuthenticationHeaderValue("Bearer", key);
        return await client.PostAsync("/v1/chat/completions", new StringContent("""{"model":"echo-chat","messages":[{"role":"user","content":"hello"}]}""", Encoding.UTF8, "application/json"));
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
        var code = await EnclaveCli.RunAsync([.. args, "--server", enclave.BaseUrl, "--api-key-file", keyFile], context);
        return (code, output.ToString(), error.ToString());
    }
}
