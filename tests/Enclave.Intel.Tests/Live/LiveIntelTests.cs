using System.Globalization;
using System.Net;
using System.Security.Cryptography;
using System.Text;
using System.Text.Json.Nodes;
using Enclave.Core;
using Enclave.Core.Artifacts;
using Enclave.Core.Audit;
using Enclave.Intel.Alerts;
using Enclave.Intel.Indicators;
using Enclave.Intel.Live;
using Enclave.Intel.Stix;
using Enclave.Intel.Vulnerabilities.Feeds;
using Enclave.Ledger;
using Enclave.State;
using Enclave.State.Alerts;
using Enclave.State.Intel;
using Enclave.State.Vulnerabilities;
using Microsoft.Extensions.Time.Testing;

namespace Enclave.Intel.Tests.Live;

/// <summary>
/// Threat intelligence applied, over a real ledger and the real stores: the feed hook loads real STIX and MISP data
/// beside OSV and Sigma files (and the vulnerability hook leaves the intelligence alone), newer versions replace older,
/// revoked ones stop matching, a tampered bundle changes nothing; the import check, the request screen, the retro-hunt
/// and the sightings export on top of the live index.
/// </summary>
public sealed class LiveIntelTests : IAsyncLifetime
{
    private const string MispEvent = "57c4445b-c548-4654-af0b-4be3950d210f";
    private readonly FakeTimeProvider _clock = new(DateTimeOffset.Parse("2026-06-01T00:00:00Z", CultureInfo.InvariantCulture));
    private readonly string _dir = Directory.CreateTempSubdirectory("enclave-liveintel-").FullName;
    private SqliteLedger _ledger = null!;
    private SqliteIndicatorStore _store = null!;
    private LiveIndicators _live = null!;
    private AlertService _alerts = null!;
    private RetroHunter _hunter = null!;
    private IndicatorFeedHook _hook = null!;
    private int _bundles;

    public Task InitializeAsync()
    {
        SqliteLedger.Initialize(_dir, "test.example/intel", postQuantum: false, _clock);
        _ledger = SqliteLedger.Open(new LedgerOptions { DataDirectory = _dir, CheckpointInterval = TimeSpan.Zero }, _clock);
        var factory = EnclaveState.Open(_dir, _clock);
        _store = new SqliteIndicatorStore(factory);
        _live = new LiveIndicators(_store, _clock);
        _alerts = new AlertService(_ledger, new SqliteAlertStore(factory), _clock);
        _hunter = new RetroHunter(_live, _alerts, _ledger, () => LedgerReader.Open(_dir), _clock);
        _hook = new IndicatorFeedHook(_store, _ledger, _clock, _live, _hunter);
        return Task.CompletedTask;
    }

    public async Task DisposeAsync()
    {
        await _ledger.DisposeAsync();
        try
        {
            Directory.Delete(_dir, recursive: true);
        }
        catch (IOException)
        {
            // Pooled SQLite connections may hold the file a moment longer; temp is cleaned by the OS.
        }
    }

    [Fact]
    public async Task RealStixAndMisp_BesideOsvAndSigma_AreLoaded_AndTheVulnerabilityHookLoadsOnlyItsOwn()
    {
        var poisonIvy = File.ReadAllBytes(SharedTestData.Intel("stix/cti-stix2-json-schemas/poisonivy.json"));
        var files = new Dictionary<string, byte[]>
        {
            ["stix/poisonivy.json"] = poisonIvy,
            ["misp/manifest.json"] = Encoding.UTF8.GetBytes("{\"" + MispEvent + "\":{\"info\":\"test\",\"timestamp\":\"1\"}}"),
            ["misp/" + MispEvent + ".json"] = File.ReadAllBytes(SharedTestData.Intel("misp/" + MispEvent + ".json")),
            ["sigma/rule.yml"] = "title: not mine\nlogsource: {product: enclave}\n"u8.ToArray(),
            ["osv/GHSA-test-0001.json"] = """{"schema_version":"1.6.0","id":"GHSA-test-0001","modified":"2024-05-01T00:00:00Z","affected":[]}"""u8.ToArray(),
        };
        var activation = Bundle(files);

        var details = await _hook.LoadAsync(activation, default);
        await _hook.LastHunt;

        Assert.NotNull(details);
        var reader = new StixBundleReader();
        var expected = reader.Read(poisonIvy).Indicators.Count + 4; // the MISP event's four to_ids attributes
        Assert.Equal(expected, details!.Indicators);
        Assert.Equal(expected, _store.Indicators().Count);
        Assert.Equal(2, details!.Sources.Count);
        Assert.Contains(Entries(), e => e.Type == "intel.loaded" && e.Subject == "import:" + activation.ImportId);
        Assert.Contains(Entries(), e => e.Type == "intel.hunted");
        Assert.False(_live.IsEmpty);
        Assert.NotEmpty(_live.Match(IndexedProperty.Ipv4, "60.10.1.121", DateTimeOffset.Parse("2015-06-01T00:00:00Z", CultureInfo.InvariantCulture)));

        // The vulnerability hook, on the very same bundle: its OSV record, and no failure on STIX, MISP or Sigma.
        var vulns = new VulnerabilityFeedHook(new SqliteVulnerabilityStore(EnclaveState.Open(_dir, _clock)), _ledger, _clock);
        var loaded = await vulns.LoadAsync(activation, default);
        Assert.NotNull(loaded);
        Assert.Equal(1, loaded.OsvAdded);
        Assert.DoesNotContain(Entries(), e => e.Type == "vulns.rejected");

        // And the intelligence hook on a bundle of vulnerability data only: nothing, no entry.
        var size = _ledger.Size;
        Assert.Null(await _hook.LoadAsync(Bundle(new() { ["osv/a.json"] = files["osv/GHSA-test-0001.json"], ["kev.json"] = "{\"catalogVersion\":\"1\",\"vulnerabilities\":[]}"u8.ToArray() }), default));
        Assert.Equal(size, _ledger.Size);
    }

    [Fact]
    public async Task AMispEventFile_WithoutAManifest_IsLoaded_AndAUuidNamedFileThatIsNotAnEventIsLeftAlone()
    {
        var files = new Dictionary<string, byte[]>
        {
            // As MISP exports one event: UUID.json, no manifest.json beside it.
            ["events/" + MispEvent + ".json"] = File.ReadAllBytes(SharedTestData.Intel("misp/" + MispEvent + ".json")),
            // Named like an event, but not one: not intelligence of ours, and not a failure either.
            ["events/0b5e3a4c-1d2f-4e6a-8b7c-9d0e1f2a3b4c.json"] = """{"schema_version":"1.6.0","id":"GHSA-test-0002","modified":"2024-05-01T00:00:00Z","affected":[]}"""u8.ToArray(),
        };
        var activation = Bundle(files);

        var details = await _hook.LoadAsync(activation, default);
        await _hook.LastHunt;

        Assert.NotNull(details);
        Assert.Equal(4, details!.Indicators); // the event's four to_ids attributes
        Assert.Equal(["events/" + MispEvent + ".json"], details!.Sources);
        Assert.NotEmpty(_live.Match(IndexedProperty.Sha256, "b3c4ae251f8094fa15b510051835c657eaef2a6cea46075d3aec964b14a99f68", DateTimeOffset.Parse("2017-01-01T00:00:00Z", CultureInfo.InvariantCulture)));
    }

    [Fact]
    public async Task AMispEventFile_WithoutAManifest_ThatIsMalformed_RejectsTheBundle_AndLoadsNothing()
    {
        var valid = File.ReadAllBytes(SharedTestData.Intel("misp/" + MispEvent + ".json"));
        var files = new Dictionary<string, byte[]>
        {
            ["a/" + MispEvent + ".json"] = valid,
            // Duplicate key inside the event: the strict reader refuses it.
            ["b/0b5e3a4c-1d2f-4e6a-8b7c-9d0e1f2a3b4c.json"] = """{"Event":{"info":"x","info":"y","Attribute":[]}}"""u8.ToArray(),
        };

        var activation = Bundle(files);
        Assert.Null(await _hook.LoadAsync(activation, default));
        var rejected = Assert.Single(Entries(), e => e.Type == "intel.rejected");
        Assert.Equal("import:" + activation.ImportId, rejected.Subject);
        Assert.Empty(_store.Indicators());
        Assert.True(_live.IsEmpty);
    }

    [Fact]
    public async Task NewerModified_Replaces_RevokedStopsMatching_NotEvaluableIsListed_AndTheSameImportLoadsOnce()
    {
        const string id = "indicator--11111111-1111-4111-8111-111111111111";
        var first = Bundle(new() { ["a.json"] = Stix(Indicator(id, "[ipv4-addr:value = '203.0.113.7']", "2026-01-01T00:00:00Z")) });
        Assert.NotNull(await _hook.LoadAsync(first, default));
        Assert.Null(await _hook.LoadAsync(first, default));
        Assert.Single(_live.Match(IndexedProperty.Ipv4, "203.0.113.7"));

        var older = await _hook.LoadAsync(Bundle(new() { ["a.json"] = Stix(Indicator(id, "[ipv4-addr:value = '198.51.100.1']", "2025-01-01T00:00:00Z")) }), default);
        Assert.Equal(1, older!.KeptNewer);
        Assert.Single(_live.Match(IndexedProperty.Ipv4, "203.0.113.7"));

        var revoked = Indicator(id, "[ipv4-addr:value = '203.0.113.7']", "2026-03-01T00:00:00Z");
        revoked["revoked"] = true;
        var snort = Indicator("indicator--22222222-2222-4222-8222-222222222222", "alert ip any any", "2026-03-01T00:00:00Z");
        snort["pattern_type"] = "snort";
        var newer = await _hook.LoadAsync(Bundle(new() { ["a.json"] = Stix(revoked, snort) }), default);
        Assert.Equal((1, 1, 0), (newer!.Replaced, newer.NotEvaluable, newer.Live));
        Assert.Contains("snort", newer.NotEvaluableSamples[0], StringComparison.Ordinal);
        Assert.Empty(_live.Match(IndexedProperty.Ipv4, "203.0.113.7"));
        Assert.Equal(new IntelCounts(0, 1, 1), _live.Counts());
        Assert.Equal("not-evaluable", _store.Indicators().Single(r => r.PatternType == "snort").Status);
    }

    [Fact]
    public async Task Breakdown_CountsEvaluableIndicatorsByObservedKindAndSource_AndNotEvaluableAreListedWithTheirReason()
    {
        var expired = Indicator("indicator--55555555-5555-4555-8555-555555555555", "[domain-name:value = 'old.example']", "2026-01-01T00:00:00Z");
        expired["valid_until"] = "2026-02-01T00:00:00Z";
        var snort = Indicator("indicator--66666666-6666-4666-8666-666666666666", "alert ip any any", "2026-01-01T00:00:00Z");
        snort["pattern_type"] = "snort";
        var broken = Indicator("indicator--77777777-7777-4777-8777-777777777777", "[ipv4-addr:value = ", "2026-01-01T00:00:00Z");
        var first = Bundle(new()
        {
            ["a.json"] = Stix(
                Indicator("indicator--11111111-1111-4111-8111-111111111111", "[ipv4-addr:value = '203.0.113.7']", "2026-01-01T00:00:00Z"),
                Indicator("indicator--22222222-2222-4222-8222-222222222222", "[ipv4-addr:value = '203.0.113.8' OR domain-name:value = 'x.example']", "2026-01-01T00:00:00Z"),
                expired,
                snort,
                broken),
        });
        Assert.NotNull(await _hook.LoadAsync(first, default));
        var second = Bundle(new() { ["b.json"] = Stix(Indicator("indicator--33333333-3333-4333-8333-333333333333", "[ipv4-addr:value = '192.0.2.1']", "2026-01-01T00:00:00Z")) });
        Assert.NotNull(await _hook.LoadAsync(second, default));

        var breakdown = _live.Breakdown();
        Assert.Equal(
            [new IntelCount("domain-name", 0, 1), new IntelCount("domain-name+ipv4-addr", 1, 0), new IntelCount("ipv4-addr", 2, 0)],
            breakdown.ByKind);
        Assert.Equal([new IntelCount(first.ImportId, 2, 1), new IntelCount(second.ImportId, 1, 0)], breakdown.BySource);

        var (rows, total) = _live.NotEvaluable(1);
        Assert.Equal(2, total);
        var row = Assert.Single(rows);
        Assert.Equal("not-evaluable", row.Status);
        Assert.False(string.IsNullOrEmpty(row.Reason));
        Assert.Equal(
            ["indicator--66666666-6666-4666-8666-666666666666", "indicator--77777777-7777-4777-8777-777777777777"],
            _live.NotEvaluable(10).Rows.Select(r => r.Id).Order(StringComparer.Ordinal));
    }

    [Theory]
    [InlineData("duplicate key", """{"type":"bundle","id":"bundle--1","id":"bundle--2","objects":[]}""", "DuplicateKey")]
    [InlineData("truncated", """{"type":"bundle","id":"bundle--1","objects":[{"type":"indicator",""", "MalformedJson")]
    public async Task TamperedBundle_IsIntelRejected_AndNothingIsStored(string why, string json, string reason)
    {
        _ = why;
        var good = Stix(Indicator("indicator--33333333-3333-4333-8333-333333333333", "[ipv4-addr:value = '192.0.2.1']", "2026-01-01T00:00:00Z"));
        Assert.Null(await _hook.LoadAsync(Bundle(new() { ["a.json"] = good, ["b.json"] = Encoding.UTF8.GetBytes(json) }), default));
        var entry = Entries()[^1];
        Assert.Equal("intel.rejected", entry.Type);
        Assert.Equal(reason, entry.Details!.Value.GetProperty("reason").GetString());
        Assert.Empty(_store.Indicators());
        Assert.Empty(_store.Sources());
    }

    [Fact]
    public async Task ImportCheck_RefusesAListedFileDigest_RaisesAnAlert_AndAdmitsTheRest()
    {
        var bad = RandomNumberGenerator.GetBytes(64);
        var badHex = Convert.ToHexStringLower(SHA256.HashData(bad));
        var model = Sha256Digest.Compute(RandomNumberGenerator.GetBytes(64));
        await _hook.LoadAsync(Bundle(new()
        {
            ["a.json"] = Stix(
                Indicator("indicator--44444444-4444-4444-8444-444444444444", $"[file:hashes.'SHA-256' = '{badHex.ToUpperInvariant()}']", "2026-01-01T00:00:00Z"),
                Indicator("indicator--55555555-5555-4555-8555-555555555555", $"[x-enclave-model:digest = 'sha256:{model.ToHex()}']", "2026-01-01T00:00:00Z")),
        }), default);
        var check = new IntelImportCheck(_live, _alerts);
        var received = await _ledger.AppendAsync(AuditEvent.Create(_clock.GetUtcNow(), "user:importer", "import:imp_x", new ImportReceivedDetails { Source = "x.tar" }));

        var refusal = await check.CheckAsync(Candidate("dataset", Sha256Digest.Compute("manifest"u8), received, ("data/bad.bin", new Sha256Digest(SHA256.HashData(bad)))), default);
        Assert.NotNull(refusal);
        Assert.Equal("intel", refusal.Reason);
        Assert.Contains("data/bad.bin", Assert.Single(refusal.Findings), StringComparison.Ordinal);
        var alert = Assert.Single(_alerts.List(new AlertFilter { Kind = AlertKind.Intel }));
        Assert.Equal(("import:imp_x", "indicator--44444444-4444-4444-8444-444444444444"), (alert.Subject, alert.Evidence.Facts["indicator"]));
        Assert.Equal([received], alert.Evidence.LedgerIndices);

        Assert.NotNull(await check.CheckAsync(Candidate("model", model, received), default));
        Assert.Null(await check.CheckAsync(Candidate("dataset", model, received), default)); // a model digest lists models only
        Assert.Null(await check.CheckAsync(Candidate("dataset", Sha256Digest.Compute("other"u8), received, ("x.bin", Sha256Digest.Compute("x"u8))), default));
    }

    [Fact]
    public async Task RequestScreen_DeniesAddressesInACidrBlock_FlagsUsers_AndSkipsWhatIsOff()
    {
        var screen = new IntelRequestScreen(_live, _alerts, new IntelApplyOptions());
        Assert.Null(screen.Screen(IPAddress.Loopback, "mallory", "prn_1", "mallory"));

        await _hook.LoadAsync(Bundle(new()
        {
            ["a.json"] = Stix(
                Indicator("indicator--66666666-6666-4666-8666-666666666666", "[ipv4-addr:value ISSUBSET '10.1.0.0/16']", "2026-01-01T00:00:00Z"),
                Indicator("indicator--77777777-7777-4777-8777-777777777777", "[user-account:user_id = 'mallory']", "2026-01-01T00:00:00Z")),
        }), default);

        var denied = screen.Screen(IPAddress.Parse("::ffff:10.1.2.3"), null, "prn_1", "alice");
        Assert.True(denied!.Deny);
        Assert.Equal("address", Assert.Single(denied.Hits).What);

        var flagged = screen.Screen(IPAddress.Parse("10.2.0.1"), "mallory", "prn_2", "mallory");
        Assert.False(flagged!.Deny);
        Assert.Equal(["user", "principal"], flagged.Hits.Select(h => h.What));
        var index = await _ledger.AppendAsync(AuditEvent.Create(_clock.GetUtcNow(), "prn_2", "model:m", Admitted("req_1", clientAddress: null)));
        await screen.RaiseAsync(flagged, index, "req_1", "prn_2");
        Assert.Equal(2, _alerts.List(new AlertFilter { Kind = AlertKind.Intel }).Count);

        var off = new IntelRequestScreen(_live, _alerts, new IntelApplyOptions { Addresses = "off", Users = "off", Principals = "off" });
        Assert.Null(off.Screen(IPAddress.Parse("10.1.2.3"), "mallory", "mallory", "mallory"));
        Assert.Equal(
            ["Intel:Apply:Addresses is 'block'; use deny, flag or off", "Intel:Apply:Principals is ''; use deny, flag or off"],
            new IntelApplyOptions { Addresses = "block", Principals = string.Empty }.Validate());
    }

    [Fact]
    public async Task RetroHunt_StreamsThePastAcrossBatches_AlertsOncePerHit_AndRecordsIntelHunted()
    {
        var listed = Convert.ToHexStringLower(SHA256.HashData("poisoned"u8));
        var appends = new List<Task<long>>();
        for (var i = 0; i < RetroHunter.BatchSize + 100; i++)
        {
            var client = i == RetroHunter.BatchSize + 50 ? "192.0.2.66" : "198.51.100." + (i % 200).ToString(CultureInfo.InvariantCulture);
            appends.Add(_ledger.AppendAsync(AuditEvent.Create(_clock.GetUtcNow(), "prn_" + (i % 7).ToString(CultureInfo.InvariantCulture), "model:m", Admitted("req_" + i.ToString(CultureInfo.InvariantCulture), client))).AsTask());
        }

        await Task.WhenAll(appends);
        var verified = await _ledger.AppendAsync(AuditEvent.Create(_clock.GetUtcNow(), "user:importer", "import:imp_old", new ImportVerifiedDetails
        {
            Kind = "dataset",
            Name = "old",
            Version = "1",
            Label = "UNCLASSIFIED",
            Task = null,
            ManifestSha256 = new string('0', 64),
            TargetCount = 1,
            Targets = [new ImportVerifiedTarget { Path = "data/x.bin", Type = "data", Sha256 = listed, Length = 8 }],
            SignerKeyIds = [],
            SbomSha256 = null,
            ProvenanceSha256 = null,
            ArchiveBytes = 1024,
            TufVersions = new Dictionary<string, int>(),
            RequiredApprovals = 1,
        }));
        var addressEntry = await appends[RetroHunter.BatchSize + 50];

        await _hook.LoadAsync(Bundle(new()
        {
            ["a.json"] = Stix(
                Indicator("indicator--88888888-8888-4888-8888-888888888888", $"[file:hashes.'SHA-256' = '{listed}']", "2026-01-01T00:00:00Z"),
                Indicator("indicator--99999999-9999-4999-8999-999999999999", "[ipv4-addr:value = '192.0.2.66']", "2026-01-01T00:00:00Z")),
        }), default);
        var hunt = await _hook.LastHunt;

        Assert.Equal((0L, verified + 1, verified + 1, 2L, 2), (hunt!.From, hunt.To, hunt.Entries, hunt.Hits, hunt.Alerts));
        var alerts = _alerts.List(new AlertFilter { Kind = AlertKind.Intel });
        Assert.Equal([addressEntry, verified], alerts.SelectMany(a => a.Evidence.LedgerIndices).Order());
        Assert.All(alerts, a => Assert.Equal("before-indicator", a.Evidence.Facts["seen"]));
        Assert.All(alerts, a => Assert.Contains("seen before the indicator arrived", a.Evidence.Summary, StringComparison.Ordinal));
        var hunted = Entries().Single(e => e.Type == "intel.hunted");
        Assert.Equal(2, hunted.Details!.Value.GetProperty("hits").GetInt64());

        var again = await _hunter.HuntAsync("admin", "user:admin");
        Assert.Equal((2L, 0), (again.Hits, again.Alerts));
        Assert.Equal(2, _alerts.List(new AlertFilter { Kind = AlertKind.Intel }).Count);

        // The sightings, as a STIX 2.1 bundle our strict reader accepts, with the required properties.
        var bundle = SightingExporter.Build(_alerts.List(new AlertFilter { Kind = AlertKind.Intel }), _ledger.Origin, _clock.GetUtcNow());
        var read = new StixBundleReader().Read(Encoding.UTF8.GetBytes(bundle.ToJsonString()));
        Assert.Equal(2, read.Context.Count(o => o.Type == "sighting"));
        foreach (var sighting in bundle["objects"]!.AsArray().Where(o => o!["type"]!.GetValue<string>() == "sighting"))
        {
            foreach (var property in new[] { "spec_version", "id", "created", "modified", "sighting_of_ref", "where_sighted_refs" })
            {
                Assert.NotNull(sighting![property]);
            }

            Assert.Equal("2.1", sighting!["spec_version"]!.GetValue<string>());
            Assert.StartsWith("indicator--", sighting["sighting_of_ref"]!.GetValue<string>(), StringComparison.Ordinal);
            Assert.Matches("^sighting--[0-9a-f]{8}-[0-9a-f]{4}-4[0-9a-f]{3}-[89ab][0-9a-f]{3}-[0-9a-f]{12}$", sighting["id"]!.GetValue<string>());
        }
    }

    private List<AuditEvent> Entries() => [.. Enumerable.Range(0, (int)_ledger.Size).Select(i => AuditEvent.Parse(_ledger.ReadEntry(i)))];

    private static ImportCandidate Candidate(string kind, Sha256Digest artifact, long received, params (string Path, Sha256Digest Digest)[] files) => new()
    {
        ImportId = "imp_x",
        Kind = kind,
        Name = "thing",
        Version = "1",
        ArtifactDigest = artifact,
        Files = [.. files.Select(f => new ArtifactFile(f.Path, f.Digest, 64))],
        Importer = "user:importer",
        ReceivedIndex = received,
    };

    private static JsonObject Indicator(string id, string pattern, string modified) => new()
    {
        ["type"] = "indicator",
        ["spec_version"] = "2.1",
        ["id"] = id,
        ["created"] = "2025-01-01T00:00:00Z",
        ["modified"] = modified,
        ["pattern"] = pattern,
        ["pattern_type"] = "stix",
        ["valid_from"] = "2025-01-01T00:00:00Z",
    };

    private static RequestAdmittedDetails Admitted(string requestId, string? clientAddress) => new()
    {
        RequestId = requestId,
        Endpoint = "/v1/chat/completions",
        Model = "m",
        Backend = "local",
        Stream = false,
        PromptSha256 = new string('a', 64),
        ClientAddress = clientAddress,
    };

    private static byte[] Stix(params JsonObject[] objects) =>
        Encoding.UTF8.GetBytes(new JsonObject { ["type"] = "bundle", ["id"] = "bundle--" + Guid.NewGuid().ToString("D"), ["objects"] = new JsonArray([.. objects]) }.ToJsonString());

    private ArtifactActivation Bundle(Dictionary<string, byte[]> files)
    {
        var id = "imp_intel" + (++_bundles).ToString(CultureInfo.InvariantCulture);
        var folder = Path.Combine(_dir, "artifacts", id);
        foreach (var (path, bytes) in files)
        {
            var full = Path.Combine(folder, path.Replace('/', Path.DirectorySeparatorChar));
            Directory.CreateDirectory(Path.GetDirectoryName(full)!);
            File.WriteAllBytes(full, bytes);
        }

        return new ArtifactActivation
        {
            Kind = "intel",
            Name = "feed",
            Version = _bundles.ToString(CultureInfo.InvariantCulture),
            ImportId = id,
            Folder = folder,
            Files = [.. files.Select(f => new ArtifactFile(f.Key, new Sha256Digest(SHA256.HashData(f.Value)), f.Value.Length))],
            ActivatedBy = "user:approver",
        };
    }
}
