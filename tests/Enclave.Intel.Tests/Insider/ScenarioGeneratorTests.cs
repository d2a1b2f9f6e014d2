using Enclave.Intel.Insider;

namespace Enclave.Intel.Tests.Insider;

/// <summary>The scenario generator is deterministic, its ground truth matches its events, and the engine finds every
/// injected scenario kind on generated traffic (seed 2, one of the tuning seeds).</summary>
public sealed class ScenarioGeneratorTests
{
    private static readonly ScenarioOptions Small = new() { Seed = 2, Principals = 300, Days = 35 };

    private static readonly Lazy<(ScenarioGenerator Generator, List<GeneratedEvent> Events, List<InsiderSignal> Signals)> Run = new(() =>
    {
        var generator = new ScenarioGenerator(Small);
        var engine = new InsiderEngine();
        var events = new List<GeneratedEvent>();
        var signals = new List<InsiderSignal>();
        foreach (var e in generator.Generate())
        {
            events.Add(e);
            signals.AddRange(engine.Observe(e.Event, e.LedgerIndex));
        }

        return (generator, events, signals);
    });

    private static string Fingerprint(GeneratedEvent e) =>
        $"{e.LedgerIndex}|{e.Scenario}|{e.Event.Type}|{e.Event.Time:O}|{e.Event.Actor}|{e.Event.Subject}|{string.Join(',', e.Event.Details.OrderBy(d => d.Key, StringComparer.Ordinal).Select(d => d.Key + "=" + d.Value))}";

    [Fact]
    public void SameSeed_GivesTheSameStream_AnotherSeedAnother()
    {
        var options = new ScenarioOptions { Seed = 7, Principals = 40, Days = 14 };
        var first = new ScenarioGenerator(options).Generate().Select(Fingerprint).ToList();
        var second = new ScenarioGenerator(options).Generate().Select(Fingerprint).ToList();
        var other = new ScenarioGenerator(options with { Seed = 8 }).Generate().Select(Fingerprint).ToList();
        Assert.True(first.Count > 5000);
        Assert.Equal(first, second);
        Assert.NotEqual(first, other);
        Assert.Equal(
            new ScenarioGenerator(options).Scenarios.Select(s => $"{s.Kind} {string.Join(',', s.Principals)} {s.FirstDay}-{s.LastDay}"),
            new ScenarioGenerator(options).Scenarios.Select(s => $"{s.Kind} {string.Join(',', s.Principals)} {s.FirstDay}-{s.LastDay}"));
    }

    [Fact]
    public void Stream_IsInTimeOrder_WithConsecutiveIndices_AndGroundTruthMatchesTheInjectedEvents()
    {
        var (generator, events, _) = Run.Value;
        Assert.Equal(Enumerable.Range(0, events.Count).Select(i => (long)i), events.Select(e => e.LedgerIndex));
        var disorder = events.Zip(events.Skip(1)).FirstOrDefault(p => p.First.Event.Time > p.Second.Event.Time);
        if (disorder != default)
        {
            Assert.Fail($"out of time order: {Fingerprint(disorder.First)} before {Fingerprint(disorder.Second)}");
        }
        Assert.Equal(Enum.GetValues<InsiderScenarioKind>(), generator.Scenarios.Select(s => s.Kind).Distinct().Order());
        var start = Small.Start;
        foreach (var scenario in generator.Scenarios)
        {
            var own = events.Where(e => e.Scenario == scenario.Id).ToList();
            Assert.NotEmpty(own);
            Assert.All(own, e => Assert.InRange((int)(e.Event.Time - start).TotalDays, scenario.FirstDay, scenario.LastDay));
            Assert.All(own, e => Assert.Contains(e.Event.Actor, scenario.Principals));
        }
    }

    [Theory]
    [InlineData(InsiderScenarioKind.BulkRetentionReads, new[] { InsiderFeature.RetentionReads, InsiderFeature.SensitiveReadsOverWindow })]
    [InlineData(InsiderScenarioKind.BulkLedgerExports, new[] { InsiderFeature.LedgerExports })]
    [InlineData(InsiderScenarioKind.ProbingAboveClearance, new[] { InsiderFeature.PolicyDenials, InsiderFeature.LabelAboveUsual })]
    [InlineData(InsiderScenarioKind.AfterHoursBulkGeneration, new[] { InsiderFeature.OffHoursRequests, InsiderFeature.TokensPerHour, InsiderFeature.RequestsPerHour })]
    [InlineData(InsiderScenarioKind.KeySprawl, new[] { InsiderFeature.KeysCreated })]
    [InlineData(InsiderScenarioKind.ApprovalCollusion, new[] { InsiderFeature.ApprovalPair })]
    [InlineData(InsiderScenarioKind.SlowAndLow, new[] { InsiderFeature.SensitiveReadsOverWindow })]
    public void EachScenario_RaisesItsFeature_OnItsInsider_WithInjectedEvidence(InsiderScenarioKind kind, InsiderFeature[] expected)
    {
        var (generator, events, signals) = Run.Value;
        var injected = events.Where(e => e.Scenario >= 0).ToDictionary(e => e.LedgerIndex, e => e.Scenario);
        foreach (var scenario in generator.Scenarios.Where(s => s.Kind == kind))
        {
            var first = Small.Start.AddDays(scenario.FirstDay);
            var last = Small.Start.AddDays(scenario.LastDay + 1);
            var hits = signals.Where(s => scenario.Principals.Contains(s.Principal) && s.Time >= first && s.Time < last && expected.Contains(s.Features[0].Feature)).ToList();
            Assert.True(hits.Count > 0, $"{kind} on {string.Join(',', scenario.Principals)} days {scenario.FirstDay}-{scenario.LastDay}: no {string.Join('/', expected)} signal");
            var evidence = hits.SelectMany(s => s.Features[0].Evidence).ToList();
            Assert.Contains(evidence, i => injected.TryGetValue(i, out var id) && id == scenario.Id);
            Assert.True(evidence.Count(i => injected.TryGetValue(i, out var id) && id == scenario.Id) * 2 >= evidence.Count, $"{kind}: most evidence must be the injected entries");
        }
    }

    [Fact]
    public void NormalTraffic_RaisesSignalsOnFewPrincipalDays()
    {
        var (_, events, signals) = Run.Value;
        var principalDays = 300 * 35;
        var candidates = signals.Select(s => (s.Principal, s.Time.UtcDateTime.Date)).Distinct().Count();
        Assert.True(candidates < principalDays / 20, $"{candidates} principal-days raised a signal out of {principalDays}");
        Assert.True(events.Count > 100_000);
    }

    [Fact]
    public void Evaluation_IsDeterministic_AndStaysWithinTheBudget()
    {
        var options = new ScenarioOptions { Seed = 3, Principals = 200, Days = 30 };
        var first = InsiderEvaluator.Run(options, budget: 5);
        var second = InsiderEvaluator.Run(options, budget: 5);
        Assert.Equal(first.Alerts, second.Alerts);
        Assert.Equal(first.TruePositives, second.TruePositives);
        Assert.Equal(first.Scenarios.Select(s => s.Detected), second.Scenarios.Select(s => s.Detected));
        Assert.InRange(first.Alerts, 1, (int)Math.Floor(5.0 * 200 / 1000 * 30));
        Assert.InRange(first.Recall, 0, 1);
        Assert.Equal(7, first.Scenarios.Count);
        Assert.All(first.Scenarios, s => Assert.Equal(1, s.Injected));
        Assert.True(first.EvidenceOnInjected >= 0.5);
        Assert.Throws<ArgumentOutOfRangeException>(() => InsiderEvaluator.Run(options, budget: 0));
        Assert.Throws<ArgumentOutOfRangeException>(() => InsiderEvaluator.Run(options with { Principals = 5 }));
    }
}
