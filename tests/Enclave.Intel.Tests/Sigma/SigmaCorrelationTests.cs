using System.Text;
using Enclave.Intel.Sigma;
using static Enclave.Intel.Tests.Sigma.SigmaTestSupport;

namespace Enclave.Intel.Tests.Sigma;

/// <summary>The example Enclave rules and correlation semantics over synthetic audit streams.</summary>
public sealed class SigmaCorrelationTests
{
    private static readonly SigmaRuleSet Examples = SigmaRuleSet.Load([ExampleRules()]);

    private static SigmaEvent AuthFailed(int second, string address, long position) =>
        Audit(T0.AddSeconds(second), "auth.failed", "anonymous", "/v1/chat/completions", $"{{\"method\":\"POST\",\"reason\":\"unknown_key\",\"remoteAddress\":\"{address}\",\"scheme\":\"ApiKey\"}}", position);

    [Fact]
    public void ExampleRules_AllLoad()
    {
        Assert.Empty(Examples.Skipped);
        Assert.Equal(4, Examples.Rules.Count);
        Assert.Equal(3, Examples.Correlations.Count);
    }

    [Fact]
    public void TenFailedLoginsFromOneAddressInFiveMinutes_RaiseOneCorrelation_NamingTheEvidence()
    {
        var engine = new SigmaEngine(Examples);
        var matches = new List<SigmaMatch>();
        for (var i = 0; i < 10; i++)
        {
            matches.AddRange(engine.Observe(AuthFailed(i * 20, "203.0.113.7", i)));
            if (i < 9)
            {
                matches.AddRange(engine.Observe(AuthFailed((i * 20) + 1, "198.51.100.1", 100 + i)));
            }
        }

        var hit = Assert.Single(matches);
        Assert.Equal(SigmaMatchKind.Correlation, hit.Kind);
        Assert.Equal("203.0.113.7", hit.Group["details.remoteAddress"]);
        Assert.Equal(Enumerable.Range(0, 10).Select(i => (long)i), hit.Evidence);
        Assert.Equal(10m, hit.Value);
    }

    [Fact]
    public void FailedLoginsSpreadBeyondTheWindow_DoNotCorrelate_AndWindowsExpire()
    {
        var engine = new SigmaEngine(Examples);
        var matches = new List<SigmaMatch>();
        for (var i = 0; i < 30; i++)
        {
            matches.AddRange(engine.Observe(AuthFailed(i * 60, "203.0.113.7", i)));
        }

        Assert.Empty(matches);
        Assert.Empty(engine.Advance(T0.AddHours(2)));
        Assert.Equal(0, engine.OpenGroups);
    }

    [Fact]
    public void RetentionReadBurst_CountsDistinctRequests_PerActor()
    {
        var engine = new SigmaEngine(Examples);
        var matches = new List<SigmaMatch>();
        for (var i = 0; i < 40; i++)
        {
            // the same five requests read over and over: no burst of distinct content
            matches.AddRange(engine.Observe(Audit(T0.AddSeconds(i), "retention.read", "user:bob", $"ledger:{i % 5}", $"{{\"requestId\":\"req-{i % 5}\"}}", i)));
        }

        Assert.Empty(matches);
        for (var i = 0; i < 20; i++)
        {
            matches.AddRange(engine.Observe(Audit(T0.AddSeconds(100 + i), "retention.read", "user:eve", $"ledger:{i}", $"{{\"requestId\":\"req-{i}\"}}", 100 + i)));
        }

        var hit = Assert.Single(matches);
        Assert.Equal("user:eve", hit.Group["actor"]);
        Assert.Equal(20m, hit.Value);
    }

    [Fact]
    public void DeniedForClearanceThenAdmitted_IsAProbe_ButTheReverseOrderIsNot()
    {
        static SigmaEvent Denied(int minute, string actor, long p) => Audit(T0.AddMinutes(minute), "request.denied", actor, "model:secret", "{\"endpoint\":\"chat.completions\",\"rule\":\"policy.clearance\",\"status\":403}", p);
        static SigmaEvent Admitted(int minute, string actor, long p) => Audit(T0.AddMinutes(minute), "request.admitted", actor, "model:open", "{\"endpoint\":\"chat.completions\",\"policy\":{\"allowed\":true,\"label\":\"UNCLASSIFIED\"}}", p);

        var engine = new SigmaEngine(Examples);
        var matches = new List<SigmaMatch>();
        matches.AddRange(engine.Observe(Admitted(0, "user:alice", 1)));
        matches.AddRange(engine.Observe(Denied(1, "user:alice", 2)));
        matches.AddRange(engine.Observe(Denied(2, "user:mallory", 3)));
        matches.AddRange(engine.Observe(Admitted(5, "user:mallory", 4)));

        var hit = Assert.Single(matches);
        Assert.Equal("user:mallory", hit.Group["actor"]);
        Assert.Equal([3L, 4L], hit.Evidence);
    }

    [Fact]
    public void Generate_False_HidesTheBaseRule_True_ShowsIt()
    {
        const string Base = "title: b\nid: b\nlogsource:\n    product: test\ndetection:\n    sel:\n        a: x\n    condition: sel\n";
        static string Correlation(bool generate) => $"title: c\nid: c\ngenerate: {(generate ? "true" : "false")}\ncorrelation:\n    type: event_count\n    rules:\n        - b\n    timespan: 1m\n    condition:\n        gte: 2\n";
        foreach (var generate in new[] { false, true })
        {
            var engine = new SigmaEngine(Rules(Base, Correlation(generate)));
            var first = engine.Observe(Event(("a", "x")));
            Assert.Equal(generate ? 1 : 0, first.Count(m => m.Kind == SigmaMatchKind.Detection));
        }
    }

    [Fact]
    public void LessThanCondition_IsDecidedWhenTheWindowCloses()
    {
        const string Base = "title: b\nid: b\nlogsource:\n    product: test\ndetection:\n    sel:\n        a: x\n    condition: sel\n";
        const string Correlation = "title: few\nid: few\ncorrelation:\n    type: event_count\n    rules:\n        - b\n    group-by:\n        - u\n    timespan: 10m\n    condition:\n        lt: 3\n";
        var engine = new SigmaEngine(Rules(Base, Correlation));
        SigmaEvent At(int minute, string user) => SigmaEvent.FromFields(T0.AddMinutes(minute), new SigmaLogSource { Product = "test" }, new Dictionary<string, string?> { ["a"] = "x", ["u"] = user });
        Assert.Empty(engine.Observe(At(0, "quiet")));
        Assert.Empty(engine.Observe(At(1, "busy")));
        Assert.Empty(engine.Observe(At(2, "busy")));
        Assert.Empty(engine.Observe(At(3, "busy")));
        var closed = engine.Advance(T0.AddMinutes(20));
        var hit = Assert.Single(closed);
        Assert.Equal("quiet", hit.Group["u"]);
        Assert.Equal(T0.AddMinutes(10), hit.Time);
        Assert.Equal(0, engine.OpenGroups);
    }

    [Fact]
    public void GroupsAreBounded_OldestDropped()
    {
        const string Base = "title: b\nid: b\nlogsource:\n    product: test\ndetection:\n    sel:\n        a: x\n    condition: sel\n";
        const string Correlation = "title: c\nid: c\ncorrelation:\n    type: event_count\n    rules:\n        - b\n    group-by:\n        - u\n    timespan: 1h\n    condition:\n        gte: 100\n";
        var engine = new SigmaEngine(Rules(Base, Correlation), new SigmaEngineOptions { MaxGroupsPerCorrelation = 10 });
        for (var i = 0; i < 50; i++)
        {
            engine.Observe(SigmaEvent.FromFields(T0.AddSeconds(i), new SigmaLogSource { Product = "test" }, new Dictionary<string, string?> { ["a"] = "x", ["u"] = $"u{i}" }));
        }

        Assert.Equal(10, engine.OpenGroups);
        Assert.Equal(40, engine.DroppedGroups);
    }

    [Fact]
    public void AuditFlattening_GivesTypeActorSubjectAndDottedDetails_ArraysAsSeveralValues()
    {
        var e = SigmaEvent.FromAuditJson(Encoding.UTF8.GetBytes("{\"actor\":\"user:admin\",\"details\":{\"clearance\":null,\"kind\":\"user\",\"name\":\"bob\",\"roles\":[\"user\",\"auditor\"]},\"subject\":\"user:bob\",\"time\":\"2026-03-01T09:00:00.000Z\",\"type\":\"user.added\"}"), 7);
        Assert.Equal("identity", e.LogSource.Category);
        Assert.Equal("enclave", e.LogSource.Product);
        Assert.Equal(["user", "auditor"], e.Fields["details.roles"]);
        Assert.Null(Assert.Single(e.Fields["details.clearance"]));
        Assert.Equal("user:admin", Assert.Single(e.Fields["actor"]));
        Assert.Equal(7, e.Position);
        Assert.Throws<FormatException>(() => SigmaEvent.FromAuditJson("{\"type\":\"x\"}"u8));
        Assert.Throws<FormatException>(() => SigmaEvent.FromAuditJson("{\"type\":"u8));
    }

    [Fact]
    public void CorrelationOfCorrelations_FiresWhenTheInnerOneRepeats_AndCyclesAreListed()
    {
        const string Base = "title: b\nid: b\nlogsource:\n    product: test\ndetection:\n    sel:\n        a: x\n    condition: sel\n";
        const string Inner = "title: burst\nid: burst\nname: burst\ncorrelation:\n    type: event_count\n    rules:\n        - b\n    group-by:\n        - u\n    timespan: 1m\n    condition:\n        gte: 3\n";
        const string Outer = "title: bursts\nid: bursts\ncorrelation:\n    type: event_count\n    rules:\n        - burst\n    group-by:\n        - u\n    timespan: 1h\n    condition:\n        gte: 2\n";
        var engine = new SigmaEngine(Rules(Base, Inner, Outer));
        var matches = new List<SigmaMatch>();
        for (var i = 0; i < 6; i++)
        {
            matches.AddRange(engine.Observe(SigmaEvent.FromFields(T0.AddMinutes(i * 10).AddSeconds(i % 3), new SigmaLogSource { Product = "test" }, new Dictionary<string, string?> { ["a"] = "x", ["u"] = "bob" }, i)));
        }

        Assert.Empty(matches); // three events never fall in one minute
        for (var i = 0; i < 6; i++)
        {
            matches.AddRange(engine.Observe(SigmaEvent.FromFields(T0.AddMinutes(100 + (i / 3 * 5)).AddSeconds(i), new SigmaLogSource { Product = "test" }, new Dictionary<string, string?> { ["a"] = "x", ["u"] = "bob" }, 10 + i)));
        }

        var hit = Assert.Single(matches);
        Assert.Equal("bursts", hit.RuleId);
        Assert.Equal([10L, 11, 12, 13, 14, 15], hit.Evidence);

        const string A = "title: ca\nid: ca\ncorrelation:\n    type: event_count\n    rules:\n        - cb\n    timespan: 1m\n    condition:\n        gte: 1\n";
        const string B = "title: cb\nid: cb\ncorrelation:\n    type: event_count\n    rules:\n        - ca\n    timespan: 1m\n    condition:\n        gte: 1\n";
        var cyclic = Rules(Base, A, B);
        Assert.Empty(cyclic.Correlations);
        Assert.All(cyclic.Skipped, s => Assert.Equal(SigmaRejection.Unsupported, s.Reason));
    }
}
