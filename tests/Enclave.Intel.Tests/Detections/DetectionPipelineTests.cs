using System.Globalization;
using System.Text.Json;
using System.Text.Json.Nodes;
using Enclave.Core;
using Enclave.Core.Artifacts;
using Enclave.Core.Audit;
using Enclave.Intel.Alerts;
using Enclave.Intel.Detections;
using Enclave.Intel.Insider;
using Enclave.Ledger;
using Enclave.State;
using Enclave.State.Alerts;
using Enclave.State.Detections;
using Microsoft.Extensions.Time.Testing;

namespace Enclave.Intel.Tests.Detections;

/// <summary>
/// The live detections over a real ledger and the real <c>enclave.db</c> in a temporary data directory: Sigma rules
/// loaded by the airlock hook from an activated bundle's files, scored on the append feed, alerts in the ledger and
/// the alerts table; the cursor persisted so a restart resumes without raising twice; insider signals on generated
/// traffic.
/// </summary>
public sealed class DetectionPipelineTests : IAsyncLifetime
{
    private static readonly string RulesFolder = Path.Combine(RepoRoot(), "src", "Enclave.Intel", "Sigma", "Rules");
    private readonly FakeTimeProvider _clock = new(DateTimeOffset.Parse("2027-03-04T05:06:07Z", CultureInfo.InvariantCulture));
    private readonly string _dir = Directory.CreateTempSubdirectory("enclave-detect-").FullName;
    private SqliteLedger _ledger = null!;
    private SqliteDetectionStore _store = null!;
    private SqliteAlertStore _alertStore = null!;
    private AlertService _alerts = null!;
    private LiveSigmaRules _rules = null!;

    public Task InitializeAsync()
    {
        SqliteLedger.Initialize(_dir, "test.example/detect", postQuantum: false, _clock);
        _ledger = SqliteLedger.Open(new LedgerOptions { DataDirectory = _dir }, _clock);
        var factory = EnclaveState.Open(_dir, _clock);
        _store = new SqliteDetectionStore(factory);
        _alertStore = new SqliteAlertStore(factory);
        _alerts = new AlertService(_ledger, _alertStore, _clock);
        _rules = new LiveSigmaRules(_store);
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
            // best effort
        }
    }

    [Fact]
    public async Task RuleBundle_LoadsEnclaveRules_ListsTheOthers_AndRecordsDetectionsLoaded()
    {
        var index = await LoadBundleAsync("imp_rules1", ("sigma/enclave_auth_failed.yml", File.ReadAllBytes(Path.Combine(RulesFolder, "enclave_auth_failed.yml"))),
            ("sigma/windows.yml", WindowsRule), ("sigma/broken.yaml", "title: x\ndetection: [\n"u8.ToArray()), ("stix/bundle.json", "{}"u8.ToArray()));

        Assert.NotNull(index);
        var entry = JsonNode.Parse(_ledger.ReadEntry(index!.Value))!;
        Assert.Equal("detections.loaded", entry["type"]!.GetValue<string>());
        var details = entry["details"]!;
        Assert.Equal(3, details["files"]!.GetValue<int>());
        Assert.Equal(1, details["rules"]!.GetValue<int>());
        Assert.Equal(1, details["correlations"]!.GetValue<int>());
        Assert.Equal(2, details["skipped"]!.GetValue<int>());
        var reasons = details["skippedSamples"]!.AsArray().Select(s => (s!["source"]!.GetValue<string>(), s["reason"]!.GetValue<string>())).ToList();
        Assert.Contains(("sigma/broken.yaml", "YamlSyntax"), reasons);
        Assert.Contains(reasons, r => r.Item1 == "sigma/windows.yml" && r.Item2 == "Unsupported");
        var set = Assert.Single(_store.RuleSets());
        Assert.Equal(("intel-rules", "imp_rules1", 2), (set.Name, set.ImportId, set.Rules));

        // Loaded once: a second activation of the same import writes nothing.
        Assert.Null(await LoadBundleAsync("imp_rules1", ("sigma/enclave_auth_failed.yml", File.ReadAllBytes(Path.Combine(RulesFolder, "enclave_auth_failed.yml")))));
    }

    [Fact]
    public async Task MatchingTraffic_RaisesOneCorrelationAlert_NamingRuleAndEvidence_AndARestartDoesNotRaiseItAgain()
    {
        var pipeline = NewPipeline(rules: _rules); // the same live rules the hook reloads, as in the server
        pipeline.Start();
        await LoadBundleAsync("imp_rules1", ("enclave_auth_failed.yml", File.ReadAllBytes(Path.Combine(RulesFolder, "enclave_auth_failed.yml"))));
        var failures = new List<long>();
        for (var i = 0; i < 10; i++)
        {
            _clock.Advance(TimeSpan.FromSeconds(5));
            failures.Add(await AppendAsync("auth.failed", "anonymous", "/v1/chat/completions", new JsonObject { ["remoteAddress"] = "198.51.100.7", ["reason"] = "unknown-key" }));
        }

        await DrainAsync(pipeline);

        var alert = Assert.Single(_alerts.List(new AlertFilter { Limit = 100 }));
        Assert.Equal(AlertKind.Detection, alert.Kind);
        Assert.Equal(AlertSeverity.High, alert.Severity);
        Assert.Equal("6a1f0c2e-8d3b-4e57-9a40-1b2c3d4e5f02", alert.Evidence.Facts["rule"]);
        Assert.Equal("198.51.100.7", alert.Evidence.Facts["group.details.remoteAddress"]);
        Assert.Equal(failures, alert.Evidence.LedgerIndices);
        var raised = JsonNode.Parse(_ledger.ReadEntry(alert.RaisedIndex))!;
        Assert.Equal("alert.raised", raised["type"]!.GetValue<string>());
        Assert.Equal(_ledger.Size, pipeline.NextIndex);
        Assert.Equal(_ledger.Size, _store.ReadCursor(DetectionPipeline.Consumer));

        // The alert's own entry went through the feed and was not scored; a restart resumes at the cursor and raises nothing.
        Assert.True(pipeline.Status().SkippedOwn >= 1);
        var restarted = NewPipeline();
        Assert.Equal(_ledger.Size, restarted.Start());
        Assert.Equal(0, await restarted.StepAsync(1000, CancellationToken.None));
        Assert.Single(_alerts.List(new AlertFilter { Limit = 100 }));

        // The restarted pipeline still has the rules (persisted) and the replayed window: ten more failures raise a second alert.
        for (var i = 0; i < 10; i++)
        {
            _clock.Advance(TimeSpan.FromSeconds(5));
            await AppendAsync("auth.failed", "anonymous", "/v1/models", new JsonObject { ["remoteAddress"] = "198.51.100.7", ["reason"] = "unknown-key" });
        }

        await DrainAsync(restarted);
        Assert.Equal(2, _alerts.List(new AlertFilter { Limit = 100 }).Count);
    }

    [Fact]
    public async Task EntriesBeforeTheCursor_ProcessedAgainAfterACrash_RaiseNothingTwice()
    {
        await LoadBundleAsync("imp_rules1", ("enclave_auth_failed.yml", File.ReadAllBytes(Path.Combine(RulesFolder, "enclave_auth_failed.yml"))));
        _store.WriteCursor(DetectionPipeline.Consumer, _ledger.Size, _clock.GetUtcNow());
        var first = _ledger.Size;
        for (var i = 0; i < 10; i++)
        {
            await AppendAsync("auth.failed", "anonymous", "/v1/models", new JsonObject { ["remoteAddress"] = "203.0.113.9" });
        }

        await DrainAsync(NewPipeline());
        Assert.Single(_alerts.List(new AlertFilter { Limit = 100 }));

        // A crash before the cursor was written: the next start begins at the old cursor and sees the same entries.
        _store.WriteCursor(DetectionPipeline.Consumer, first, _clock.GetUtcNow());
        await DrainAsync(NewPipeline(replay: 0));
        Assert.Single(_alerts.List(new AlertFilter { Limit = 100 }));
    }

    [Fact]
    public async Task TheCursor_IsWrittenAtMostOncePerCursorInterval_WhileEntriesFlow_AndWhenTheFeedGoesQuiet()
    {
        _store.WriteCursor(DetectionPipeline.Consumer, _ledger.Size, _clock.GetUtcNow());
        var pipeline = new DetectionPipeline(
            new LedgerFeed(_ledger, capacity: 64), _store, _alerts, new LiveSigmaRules(_store),
            new DetectionOptions { CursorInterval = TimeSpan.FromSeconds(1), Insider = new InsiderDetectionOptions { Enabled = false } }, _clock);
        var start = pipeline.Start();

        // The first step writes the cursor; steps within the interval do not.
        await AppendAsync("request.completed", "alice", "/v1/models", new JsonObject());
        Assert.Equal(1, await pipeline.StepAsync(100, CancellationToken.None));
        Assert.Equal(start + 1, _store.ReadCursor(DetectionPipeline.Consumer));
        _clock.Advance(TimeSpan.FromMilliseconds(400));
        await AppendAsync("request.completed", "alice", "/v1/models", new JsonObject());
        Assert.Equal(1, await pipeline.StepAsync(100, CancellationToken.None));
        Assert.Equal(start + 1, _store.ReadCursor(DetectionPipeline.Consumer));
        Assert.Equal(start + 2, pipeline.NextIndex);

        // Once the interval has passed, the next step writes it.
        _clock.Advance(TimeSpan.FromMilliseconds(600));
        await AppendAsync("request.completed", "alice", "/v1/models", new JsonObject());
        Assert.Equal(1, await pipeline.StepAsync(100, CancellationToken.None));
        Assert.Equal(start + 3, _store.ReadCursor(DetectionPipeline.Consumer));

        // The quiet-feed flush writes where it is, at once.
        await AppendAsync("request.completed", "alice", "/v1/models", new JsonObject());
        Assert.Equal(1, await pipeline.StepAsync(100, CancellationToken.None));
        Assert.Equal(start + 3, _store.ReadCursor(DetectionPipeline.Consumer));
        pipeline.PersistCursor();
        Assert.Equal(start + 4, _store.ReadCursor(DetectionPipeline.Consumer));
    }

    [Fact]
    public async Task RunAsync_WritesTheCursor_WhenTheFeedGoesQuiet()
    {
        var (pipeline, start) = StartedPipeline(poll: TimeSpan.FromMilliseconds(20));
        using var stop = new CancellationTokenSource();
        var run = pipeline.RunAsync(stop.Token);

        // The clock does not move, so only the first step (nothing written since start) and the quiet flush write it.
        for (var i = 0; i < 3; i++)
        {
            await AppendAsync("request.completed", "alice", "/v1/models", new JsonObject());
        }

        await Until(() => _store.ReadCursor(DetectionPipeline.Consumer) == start + 3);
        Assert.Equal(start + 3, _store.ReadCursor(DetectionPipeline.Consumer));
        await stop.CancelAsync();
        await Assert.ThrowsAnyAsync<OperationCanceledException>(() => run);
    }

    [Fact]
    public async Task RunAsync_WritesTheCursor_WhenItStops()
    {
        // A poll interval of a minute: the feed is never quiet for long enough within this test.
        var (pipeline, start) = StartedPipeline(poll: TimeSpan.FromMinutes(1));
        using var stop = new CancellationTokenSource();
        var run = pipeline.RunAsync(stop.Token);
        await AppendAsync("request.completed", "alice", "/v1/models", new JsonObject());
        await Until(() => _store.ReadCursor(DetectionPipeline.Consumer) == start + 1);

        await AppendAsync("request.completed", "alice", "/v1/models", new JsonObject());
        await Until(() => pipeline.NextIndex == start + 2);
        Assert.Equal(start + 1, _store.ReadCursor(DetectionPipeline.Consumer));

        await stop.CancelAsync();
        await Assert.ThrowsAnyAsync<OperationCanceledException>(() => run);
        Assert.Equal(start + 2, _store.ReadCursor(DetectionPipeline.Consumer));
    }

    private (DetectionPipeline Pipeline, long Start) StartedPipeline(TimeSpan poll)
    {
        _store.WriteCursor(DetectionPipeline.Consumer, _ledger.Size, _clock.GetUtcNow());
        var feed = new LedgerFeed(_ledger, capacity: 64);
        _ledger.Subscribe(feed);
        var pipeline = new DetectionPipeline(
            feed, _store, _alerts, new LiveSigmaRules(_store),
            new DetectionOptions { CursorInterval = TimeSpan.FromMinutes(1), PollInterval = poll, Insider = new InsiderDetectionOptions { Enabled = false } }, _clock);
        return (pipeline, pipeline.Start());
    }

    private static async Task Until(Func<bool> condition)
    {
        // Waits for the background loop (bounded); the assertions after it say what was expected.
        var deadline = DateTime.UtcNow.AddSeconds(30);
        while (!condition() && DateTime.UtcNow < deadline)
        {
            await Task.Delay(5);
        }
    }

    [Fact]
    public async Task FirstStart_BeginsAtTheLedgerEnd_HistoryOnlyWarmsTheEngines()
    {
        await LoadBundleAsync("imp_rules1", ("enclave_auth_failed.yml", File.ReadAllBytes(Path.Combine(RulesFolder, "enclave_auth_failed.yml"))));
        for (var i = 0; i < 9; i++)
        {
            await AppendAsync("auth.failed", "anonymous", "/v1/models", new JsonObject { ["remoteAddress"] = "203.0.113.10" });
        }

        var pipeline = NewPipeline();
        Assert.Equal(_ledger.Size, pipeline.Start());
        Assert.Equal(_ledger.Size, pipeline.Status().Replayed);
        Assert.Empty(_alerts.List(new AlertFilter { Limit = 100 }));

        // The replayed nine count toward the window: the tenth failure completes the correlation.
        var tenth = await AppendAsync("auth.failed", "anonymous", "/v1/models", new JsonObject { ["remoteAddress"] = "203.0.113.10" });
        await DrainAsync(pipeline);
        var alert = Assert.Single(_alerts.List(new AlertFilter { Limit = 100 }));
        Assert.Equal(10, alert.Evidence.LedgerIndices.Count);
        Assert.Equal(tenth, alert.Evidence.LedgerIndices[^1]);
    }

    [Fact]
    public async Task InsiderScenario_InGeneratedTraffic_RaisesAnInsiderAlert_NamingFeaturesBaselinesAndEvidence()
    {
        var generator = new ScenarioGenerator(new ScenarioOptions { Seed = 7, Principals = 40, Days = 14, Kinds = [InsiderScenarioKind.BulkLedgerExports], Start = new DateTimeOffset(2027, 3, 8, 0, 0, 0, TimeSpan.Zero) });
        var events = generator.Generate().Select(g => g.Event).ToList();

        var insider = Assert.Single(generator.Scenarios).Principals[0];
        _clock.SetUtcNow(events[^1].Time);
        _store.WriteCursor(DetectionPipeline.Consumer, 0, _clock.GetUtcNow());
        var tasks = events.Select(e => _ledger.AppendAsync(Entry(e.Type, e.Time, e.Actor, e.Subject.Length == 0 ? "-" : e.Subject, Details(e))).AsTask()).ToList();
        await Task.WhenAll(tasks);

        var pipeline = NewPipeline();
        await DrainAsync(pipeline);

        var alerts = _alerts.List(new AlertFilter { Kind = AlertKind.Insider, Limit = 1000 });
        // Raised on the export that crossed the threshold, and again as the day's score kept growing by half.
        var hits = alerts.Where(a => a.Subject == insider && a.Evidence.Facts.ContainsKey("LedgerExports.value")).OrderBy(a => a.RaisedIndex).ToList();
        Assert.NotEmpty(hits);
        var hit = hits[0];
        Assert.Equal(insider, hit.Evidence.Facts["principal"]);
        Assert.True(double.Parse(hit.Evidence.Facts["LedgerExports.value"], CultureInfo.InvariantCulture) >= 2);
        Assert.True(hits.Max(h => double.Parse(h.Evidence.Facts["LedgerExports.value"], CultureInfo.InvariantCulture)) >= 5); // the scenario exports 5 to 12 times
        Assert.True(hit.Evidence.Facts.ContainsKey("LedgerExports.baseline"));
        Assert.True(hit.Evidence.Facts.ContainsKey("LedgerExports.peerBaseline"));
        Assert.All(hit.Evidence.LedgerIndices, i => Assert.Equal("ledger.exported", JsonNode.Parse(_ledger.ReadEntry(i))!["type"]!.GetValue<string>()));
        Assert.Equal(events.Count, pipeline.Status().Processed - pipeline.Status().SkippedOwn);
    }

    private static JsonObject Details(InsiderEvent e)
    {
        var details = new JsonObject();
        foreach (var (key, value) in e.Details.OrderBy(d => d.Key, StringComparer.Ordinal))
        {
            details[key] = value;
        }

        return details;
    }

    private DetectionPipeline NewPipeline(int replay = 200_000, LiveSigmaRules? rules = null) => new(
        new LedgerFeed(_ledger, capacity: 4), _store, _alerts, rules ?? new LiveSigmaRules(_store), new DetectionOptions { Insider = new InsiderDetectionOptions { ReplayEntries = replay } }, _clock);

    private static async Task DrainAsync(DetectionPipeline pipeline)
    {
        // Alerts append entries of their own; step until nothing is left (bounded: each step makes progress).
        for (var i = 0; i < 10_000 && await pipeline.StepAsync(100_000, CancellationToken.None) > 0; i++)
        {
        }

        // What RunAsync does once the feed is quiet.
        pipeline.PersistCursor();
    }

    private async Task<long> AppendAsync(string type, string actor, string subject, JsonObject details) =>
        await _ledger.AppendAsync(Entry(type, _clock.GetUtcNow(), actor, subject, details));

    private static AuditEvent Entry(string type, DateTimeOffset time, string actor, string subject, JsonObject details) =>
        new() { Type = type, Time = time, Actor = actor, Subject = subject, Details = JsonSerializer.SerializeToElement(details) };

    private async Task<long?> LoadBundleAsync(string importId, params (string Path, byte[] Bytes)[] files)
    {
        var folder = Path.Combine(_dir, "artifact-" + importId);
        var list = new List<ArtifactFile>();
        foreach (var (path, bytes) in files)
        {
            var full = Path.Combine(folder, path);
            Directory.CreateDirectory(Path.GetDirectoryName(full)!);
            await File.WriteAllBytesAsync(full, bytes);
            list.Add(new ArtifactFile(path, Sha256Digest.Compute(bytes), bytes.Length));
        }

        var hook = new SigmaRuleHook(_store, _rules, _ledger, _clock);
        return await hook.LoadAsync(
            new ArtifactActivation { Kind = "intel", Name = "intel-rules", Version = "1.0.0", ImportId = importId, Folder = folder, Files = list, ActivatedBy = "user:approver" },
            CancellationToken.None);
    }

    private static readonly byte[] WindowsRule = """
        title: Windows process creation (not the enclave)
        id: 0b0b0b0b-0000-4000-8000-000000000001
        logsource:
            product: windows
            category: process_creation
        detection:
            selection:
                Image|endswith: '\cmd.exe'
            condition: selection
        level: low
        """u8.ToArray();

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
