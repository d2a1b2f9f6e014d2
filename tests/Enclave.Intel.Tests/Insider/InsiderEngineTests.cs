using Enclave.Intel.Insider;

namespace Enclave.Intel.Tests.Insider;

/// <summary>The engine on hand-built streams: a quiet baseline raises nothing; each injected behaviour raises its
/// feature with the injected entries as evidence; memory stays within the bounds.</summary>
public sealed class InsiderEngineTests
{
    private static readonly DateTimeOffset Monday = new(2026, 3, 2, 0, 0, 0, TimeSpan.Zero);

    private sealed class Stream
    {
        public InsiderEngine Engine { get; } = new();

        public long Next { get; private set; }

        public List<InsiderSignal> Signals { get; } = [];

        public long Add(string type, DateTimeOffset time, string actor, string subject = "", params (string Key, string Value)[] details)
        {
            var index = Next++;
            Signals.AddRange(Engine.Observe(new InsiderEvent { Type = type, Time = time, Actor = actor, Subject = subject, Details = details.ToDictionary(d => d.Key, d => d.Value) }, index));
            return index;
        }
    }

    private static string User(int i) => $"user:p{i:D3}";

    /// <summary>40 analysts (SECRET), 10 auditors (TOP SECRET), 10 operators in two teams, working 09:00-17:00 on
    /// weekdays: requests at SECRET or below, an auditor retention read a day, operators importing and a teammate
    /// approving. Returns the stream after <paramref name="days"/> days.</summary>
    private static Stream Quiet(int days)
    {
        var stream = new Stream();
        for (var i = 0; i < 60; i++)
        {
            var role = i < 40 ? "analyst" : i < 50 ? "auditor" : "operator";
            stream.Add("user.added", Monday, "system", User(i), ("name", $"p{i:D3}"), ("kind", "user"), ("roles.0", role), ("clearance", i < 40 ? "SECRET" : "TOP SECRET"));
            stream.Add("key.created", Monday, "system", $"key:k{i}", ("principal", $"p{i:D3}"), ("name", "first"));
        }

        for (var d = 0; d < days; d++)
        {
            QuietDay(stream, d);
        }

        return stream;
    }

    private static void QuietDay(Stream stream, int d)
    {
        var date = Monday.AddDays(d);
        if (date.DayOfWeek is DayOfWeek.Saturday or DayOfWeek.Sunday)
        {
            return;
        }

        for (var hour = 9; hour < 17; hour++)
        {
            for (var i = 0; i < 60; i++)
            {
                var time = date.AddHours(hour).AddMinutes(i % 50);
                if (i < 40 || hour % 2 == 0)
                {
                    stream.Add("request.admitted", time, User(i), "model:m", ("requestId", "r"), ("policy.label", (i + hour) % 3 == 0 ? "SECRET" : "UNCLASSIFIED"), ("policy.clearance", i < 40 ? "SECRET" : "TOP SECRET"));
                    stream.Add("request.completed", time.AddSeconds(2), User(i), "model:m", ("promptTokens", "300"), ("completionTokens", (200 + (i * 7 % 50)).ToString(System.Globalization.CultureInfo.InvariantCulture)));
                }

                if (i is >= 40 and < 50 && hour == 11)
                {
                    stream.Add("retention.read", time, User(i), "ledger:7", ("requestId", "r"));
                }

                if (i >= 50 && hour == 14 && (i + d) % 5 == 0)
                {
                    var team = i < 55 ? 50 : 55;
                    Import(stream, User(i), User(team + ((i - team + 1 + (d % 4)) % 5)), time, $"import:q{d}-{i}");
                }
            }
        }
    }

    private static List<long> Import(Stream stream, string importer, string approver, DateTimeOffset time, string id) =>
    [
        stream.Add("import.received", time, importer, id, ("source", "stream")),
        stream.Add("import.verified", time.AddMinutes(1), importer, id, ("kind", "model")),
        stream.Add("import.approved", time.AddMinutes(5), approver, id, ("approvals", "1")),
        stream.Add("import.activated", time.AddMinutes(6), approver, id, ("kind", "model")),
    ];

    [Fact]
    public void QuietBaseline_RaisesNoSignal()
    {
        var stream = Quiet(28);
        Assert.True(stream.Next > 10_000);
        Assert.Empty(stream.Signals);
    }

    [Fact]
    public void BulkRetentionReads_RaiseRetentionReads_WithTheReadsAsEvidence()
    {
        var stream = Quiet(21);
        var day = Monday.AddDays(21);
        var injected = Enumerable.Range(0, 40).Select(i => stream.Add("retention.read", day.AddHours(10).AddMinutes(i), User(3), $"ledger:{i}", ("requestId", "r"))).ToHashSet();
        var signal = Assert.Single(stream.Signals.Where(s => s.Features[0].Feature == InsiderFeature.RetentionReads).Take(1));
        Assert.Equal(User(3), signal.Principal);
        Assert.Equal("analyst", signal.Role);
        var feature = signal.Features[0];
        Assert.Equal(0, feature.PrincipalBaseline);
        Assert.Equal(0, feature.PeerBaseline);
        Assert.NotEmpty(feature.Evidence);
        Assert.All(feature.Evidence, i => Assert.Contains(i, injected));
        Assert.All(stream.Signals, s => Assert.Equal(User(3), s.Principal));
        Assert.Contains(stream.Signals, s => s.Features.Any(f => f.Feature == InsiderFeature.SensitiveReadsOverWindow));
    }

    [Fact]
    public void KeySprawl_RaisesKeysCreated_AndFailedAuthWithTheKeysIsAttributed()
    {
        var stream = Quiet(14);
        var day = Monday.AddDays(14);
        var injected = Enumerable.Range(0, 8).Select(i => stream.Add("key.created", day.AddHours(10).AddMinutes(i), User(5), $"key:extra{i}", ("principal", "p005"), ("name", "x"))).ToHashSet();
        var signal = stream.Signals.First(s => s.Features[0].Feature == InsiderFeature.KeysCreated);
        Assert.Equal(User(5), signal.Principal);
        Assert.All(signal.Features[0].Evidence, i => Assert.Contains(i, injected));

        stream.Signals.Clear();
        var failures = Enumerable.Range(0, 12).Select(i => stream.Add("auth.failed", day.AddHours(12).AddMinutes(i), "anonymous", "/v1/chat/completions", ("scheme", "ApiKey"), ("reason", "revoked_key"), ("keyId", "extra3"))).ToHashSet();
        var auth = stream.Signals.First(s => s.Features[0].Feature == InsiderFeature.AuthFailures);
        Assert.Equal(User(5), auth.Principal);
        Assert.All(auth.Features[0].Evidence, i => Assert.Contains(i, failures));
    }

    [Fact]
    public void ProbingAboveClearance_RaisesLabelAboveUsual_AndPolicyDenials()
    {
        var stream = Quiet(14);
        var day = Monday.AddDays(14);
        var injected = Enumerable.Range(0, 6).Select(i => stream.Add("request.denied", day.AddHours(10).AddMinutes(i * 7), User(7), "model:m", ("status", "403"), ("rule", "policy.clearance"), ("policy.label", "TOP SECRET//NOFORN"), ("policy.clearance", "SECRET"))).ToHashSet();
        var label = stream.Signals.First(s => s.Features[0].Feature == InsiderFeature.LabelAboveUsual);
        Assert.Equal(User(7), label.Principal);
        Assert.Equal(3, label.Features[0].Value);
        Assert.Equal(2, label.Features[0].PrincipalBaseline);
        Assert.Equal(injected.First(), label.LedgerIndex);
        Assert.Contains(stream.Signals, s => s.Features.Any(f => f.Feature == InsiderFeature.PolicyDenials && f.Evidence.All(injected.Contains)));
        Assert.All(stream.Signals, s => Assert.Equal(User(7), s.Principal));
    }

    [Fact]
    public void AfterHoursBulkGeneration_RaisesOffHoursAndTokenFeatures()
    {
        var stream = Quiet(14);
        var night = Monday.AddDays(14).AddHours(23);
        var injected = new HashSet<long>();
        for (var i = 0; i < 50; i++)
        {
            injected.Add(stream.Add("request.admitted", night.AddSeconds(i * 40), User(9), "model:m", ("policy.label", "UNCLASSIFIED")));
            injected.Add(stream.Add("request.completed", night.AddSeconds((i * 40) + 30), User(9), "model:m", ("promptTokens", "400"), ("completionTokens", "3500")));
        }

        Assert.NotEmpty(stream.Signals);
        Assert.All(stream.Signals, s => Assert.Equal(User(9), s.Principal));
        var features = stream.Signals.SelectMany(s => s.Features).ToList();
        Assert.Contains(features, f => f.Feature == InsiderFeature.OffHoursRequests);
        Assert.Contains(features, f => f.Feature == InsiderFeature.TokensPerHour);
        Assert.All(features, f => Assert.All(f.Evidence, i => Assert.Contains(i, injected)));
    }

    [Fact]
    public void ApprovalCollusion_RaisesApprovalPair_NamingBothAndTheirApprovals()
    {
        var stream = Quiet(14);
        var injected = new HashSet<long>();
        for (var d = 14; d < 24; d++)
        {
            var date = Monday.AddDays(d).AddHours(15);
            injected.UnionWith(Import(stream, User(51), User(57), date, $"import:c{d}a"));
            injected.UnionWith(Import(stream, User(57), User(51), date.AddMinutes(30), $"import:c{d}b"));
            QuietDay(stream, d);
        }

        var pairs = stream.Signals.Where(s => s.Features[0].Feature == InsiderFeature.ApprovalPair).ToList();
        Assert.NotEmpty(pairs);
        Assert.All(pairs, s => Assert.Contains(s.Principal, new[] { User(51), User(57) }));
        Assert.All(pairs, s => Assert.Equal(s.Principal == User(51) ? User(57) : User(51), s.Counterpart));
        Assert.All(pairs, s => Assert.All(s.Features[0].Evidence, i => Assert.Contains(i, injected)));
        Assert.DoesNotContain(stream.Signals, s => s.Principal != User(51) && s.Principal != User(57));
    }

    [Fact]
    public void Principals_AreBounded_LeastRecentlySeenForgotten()
    {
        var engine = new InsiderEngine(new InsiderOptions { MaxPrincipals = 100, MaxApprovalPairs = 10 });
        for (var i = 0; i < 5000; i++)
        {
            engine.Observe(new InsiderEvent { Type = "request.admitted", Time = Monday.AddSeconds(i), Actor = $"user:n{i}" }, i);
            Assert.True(engine.TrackedPrincipals <= 100);
        }

        for (var i = 0; i < 200; i++)
        {
            engine.Observe(new InsiderEvent { Type = "import.received", Time = Monday.AddDays(1), Actor = $"user:a{i}", Subject = $"import:{i}" }, i);
            engine.Observe(new InsiderEvent { Type = "import.approved", Time = Monday.AddDays(1), Actor = $"user:b{i % 7}", Subject = $"import:{i}" }, i);
            Assert.True(engine.TrackedApprovalPairs <= 10);
        }

        Assert.True(engine.TrackedPrincipals <= 100);
    }

    [Fact]
    public void Evidence_IsBoundedPerFeature_HoweverManyEventsADay()
    {
        var stream = Quiet(14);
        var day = Monday.AddDays(14).AddHours(10);
        for (var i = 0; i < 3000; i++)
        {
            stream.Add("retention.read", day.AddSeconds(i), User(1), "ledger:1");
        }

        Assert.NotEmpty(stream.Signals);
        Assert.All(stream.Signals.SelectMany(s => s.Features), f => Assert.True(f.Evidence.Count <= new InsiderOptions().MaxEvidence));
        Assert.True(stream.Signals.Count < 60, $"a feature raises again only when its score grew by half (logarithmically many): {stream.Signals.Count} signals for 3,000 reads");
    }

    [Fact]
    public void SystemAndAnonymousActors_AreNotScored()
    {
        var engine = new InsiderEngine();
        for (var i = 0; i < 500; i++)
        {
            Assert.Empty(engine.Observe(new InsiderEvent { Type = "retention.read", Time = Monday.AddSeconds(i), Actor = i % 2 == 0 ? "system" : "anonymous" }, i));
        }

        Assert.Equal(0, engine.TrackedPrincipals);
    }

    [Fact]
    public void Options_OutOfRange_AreRejected()
    {
        Assert.Throws<ArgumentOutOfRangeException>(() => new InsiderEngine(new InsiderOptions { WindowDays = 1 }));
        Assert.Throws<ArgumentOutOfRangeException>(() => new InsiderEngine(new InsiderOptions { MaxEvidence = 0 }));
        Assert.Throws<ArgumentOutOfRangeException>(() => new InsiderEngine(new InsiderOptions { MinHistoryDays = 40, WindowDays = 28 }));
    }

    [Fact]
    public void MedianAndScale_KnownAnswer()
    {
        var values = new float[] { 100, 2, 4, 1, 3 };
        var (median, scale) = InsiderEngine.MedianAndScale(values, new float[5]);
        Assert.Equal(3f, median);
        Assert.Equal(1.4826f, scale, 4);
    }

    [Fact]
    public void PeerBuckets_AreExactBelow32_AndWithinAnEighthAbove()
    {
        for (long v = 0; v < 32; v++)
        {
            Assert.Equal(v, PeerGroup.Value(PeerGroup.Bucket(v)));
        }

        foreach (var v in new long[] { 32, 33, 100, 1000, 4095, 4096, 123_456, 10_000_000, int.MaxValue, long.MaxValue })
        {
            var lower = PeerGroup.Value(PeerGroup.Bucket(v));
            Assert.InRange(lower, Math.Min(v, int.MaxValue) * 7 / 8, Math.Min(v, int.MaxValue));
            Assert.InRange(PeerGroup.Bucket(v), 32, PeerGroup.Buckets - 1);
        }
    }
}
