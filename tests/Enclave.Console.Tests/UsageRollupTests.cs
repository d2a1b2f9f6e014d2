using Enclave.Core.Audit;
using Enclave.Inference.Backends;
using Enclave.Ledger;
using Enclave.OperatorConsole.Usage;
using Enclave.Server.Audit;
using Enclave.Server.Usage;
using Enclave.State;
using Enclave.State.Usage;
using Microsoft.Extensions.Time.Testing;

namespace Enclave.OperatorConsole.Tests;

/// <summary>
/// The usage rollup over a real ledger and a real <c>enclave.db</c>, fed the entries <see cref="RequestAuditor"/> writes:
/// sums per minute, hour and day bucket, and a restart (a new rollup over the same store) resumes from the cursor
/// without counting anything twice.
/// </summary>
public sealed class UsageRollupTests : IDisposable
{
    private readonly string _dir = Directory.CreateTempSubdirectory("enclave-usage-").FullName;
    private readonly FakeTimeProvider _clock = new(DateTimeOffset.Parse("2026-12-07T10:15:30Z", System.Globalization.CultureInfo.InvariantCulture));

    public void Dispose() => Directory.Delete(_dir, recursive: true);

    [Fact]
    public async Task RequestEntries_AreSummedPerBucketPrincipalModelAndBackend_AndARestartCountsNothingTwice()
    {
        SqliteLedger.Initialize(_dir, "usage.example/ledger", postQuantum: false, _clock);
        var store = new SqliteUsageStore(EnclaveState.Open(_dir, _clock));
        await using (var ledger = SqliteLedger.Open(new LedgerOptions { DataDirectory = _dir }, _clock))
        {
            var auditor = new RequestAuditor(ledger, _clock);
            await CompleteAsync(auditor, "user:uma", "chat", "local", "ok", 120, 10, 5);
            await ledger.AppendAsync(AuditEvent.Create(_clock.GetUtcNow(), "user:admin", "key:k1", new KeyCreatedDetails { Principal = "user:uma", Name = "k1", Expires = null }));
            await CompleteAsync(auditor, "user:uma", "chat", "local", "error", 30, 0, 0);
            await auditor.DenyAsync("user:uma", new RequestDeniedDetails { RequestId = "r-d", Endpoint = "/v1/chat/completions", Model = "chat", Status = 403, Rule = "policy.clearance", PromptSha256 = new string('0', 64) });
            _clock.Advance(TimeSpan.FromMinutes(1));
            await CompleteAsync(auditor, "user:ulf", "chat", "local", "ok", 80, 7, 3);

            var rollup = new UsageRollup(new LedgerFeed(ledger), store, _clock);
            Assert.Equal(5, rollup.Step());
            Assert.Equal(0, rollup.Step());

            var minutes = store.Read(UsageSpan.Minute, DateTimeOffset.MinValue);
            var uma = Assert.Single(minutes, b => b.Principal == "user:uma" && b.Backend == "local");
            Assert.Equal((2L, 1L, 10L, 5L, 150.0, 120.0), (uma.Requests, uma.Errors, uma.PromptTokens, uma.CompletionTokens, uma.LatencyMsSum, uma.LatencyMsMax));
            Assert.Equal(DateTimeOffset.Parse("2026-12-07T10:15:00Z", System.Globalization.CultureInfo.InvariantCulture), uma.Start);
            var denial = Assert.Single(minutes, b => b.Principal == "user:uma" && b.Backend == "");
            Assert.Equal((0L, 1L), (denial.Requests, denial.Denials));
            Assert.Equal(DateTimeOffset.Parse("2026-12-07T10:16:00Z", System.Globalization.CultureInfo.InvariantCulture), Assert.Single(minutes, b => b.Principal == "user:ulf").Start);
            var hours = store.Read(UsageSpan.Hour, DateTimeOffset.MinValue);
            Assert.Equal(3, hours.Count); // uma served, uma denied, ulf: the two minutes fall in one hour
            Assert.Equal(3, hours.Sum(b => b.Requests));
            Assert.Equal(3, store.Read(UsageSpan.Day, DateTimeOffset.MinValue).Sum(b => b.Requests));
            Assert.Equal(5, store.ReadCursor());

            // A restart: a new rollup over the same store starts at the cursor; only the new entry is added.
            await CompleteAsync(auditor, "user:ulf", "chat", "local", "ok", 20, 1, 1);
            var restarted = new UsageRollup(new LedgerFeed(ledger), store, _clock);
            Assert.Equal(1, restarted.Step());
            Assert.Equal(4, store.Read(UsageSpan.Day, DateTimeOffset.MinValue).Sum(b => b.Requests));
            var ulf = Assert.Single(store.Read(UsageSpan.Hour, DateTimeOffset.MinValue), b => b.Principal == "user:ulf");
            Assert.Equal((2L, 8L, 4L, 100.0, 80.0), (ulf.Requests, ulf.PromptTokens, ulf.CompletionTokens, ulf.LatencyMsSum, ulf.LatencyMsMax));

            // Within the flush interval the sums wait in memory; the cursor in the store stays where it was written.
            await CompleteAsync(auditor, "user:ulf", "chat", "local", "ok", 20, 1, 1);
            Assert.Equal(1, restarted.Step());
            Assert.Equal(6, store.ReadCursor());
            Assert.Equal(4, store.Read(UsageSpan.Day, DateTimeOffset.MinValue).Sum(b => b.Requests));
            restarted.Flush();
            Assert.Equal(7, store.ReadCursor());
            Assert.Equal(5, store.Read(UsageSpan.Day, DateTimeOffset.MinValue).Sum(b => b.Requests));
            await CompleteAsync(auditor, "user:ulf", "chat", "local", "ok", 20, 1, 1);
            _clock.Advance(UsageRollup.FlushInterval);
            Assert.Equal(1, restarted.Step());
            Assert.Equal(8, store.ReadCursor());
            Assert.Equal(6, store.Read(UsageSpan.Day, DateTimeOffset.MinValue).Sum(b => b.Requests));

            // Minute buckets older than a day are pruned; day buckets stay.
            _clock.Advance(TimeSpan.FromDays(2));
            Assert.Equal(0, new UsageRollup(new LedgerFeed(ledger), store, _clock).Step());
            Assert.Empty(store.Read(UsageSpan.Minute, DateTimeOffset.MinValue));
            Assert.Equal(6, store.Read(UsageSpan.Day, DateTimeOffset.MinValue).Sum(b => b.Requests));
        }
    }

    [Fact]
    public async Task EntriesOlderThanARetention_AreNotWrittenToThoseBuckets_OnlyToTheBucketsKept()
    {
        SqliteLedger.Initialize(_dir, "usage.example/ledger", postQuantum: false, _clock);
        var store = new SqliteUsageStore(EnclaveState.Open(_dir, _clock));
        await using var ledger = SqliteLedger.Open(new LedgerOptions { DataDirectory = _dir }, _clock);
        var auditor = new RequestAuditor(ledger, _clock);
        await CompleteAsync(auditor, "user:uma", "chat", "local", "ok", 5, 1, 1);
        _clock.Advance(TimeSpan.FromDays(10));
        await CompleteAsync(auditor, "user:uma", "chat", "local", "ok", 6, 1, 1);
        _clock.Advance(TimeSpan.FromDays(30));
        await CompleteAsync(auditor, "user:uma", "chat", "local", "ok", 7, 1, 1);

        // Counted 40 days on (a first start over a long history): minutes only for the last day, hours for 35 days.
        var rollup = new UsageRollup(new LedgerFeed(ledger), store, _clock);
        Assert.Equal(3, rollup.Step());
        rollup.Flush();
        Assert.Equal([7.0], store.Read(UsageSpan.Minute, DateTimeOffset.MinValue).Select(b => b.LatencyMsSum));
        Assert.Equal([6.0, 7.0], store.Read(UsageSpan.Hour, DateTimeOffset.MinValue).Select(b => b.LatencyMsSum));
        Assert.Equal([5.0, 6.0, 7.0], store.Read(UsageSpan.Day, DateTimeOffset.MinValue).Select(b => b.LatencyMsSum));
        Assert.Equal(3, store.ReadCursor());
    }

    [Fact]
    public async Task KnownLatencies_GiveTheirPercentiles_PerPrincipalAndModel_AndTheMinutesHistogramsAddUpToTheHours()
    {
        SqliteLedger.Initialize(_dir, "usage.example/ledger", postQuantum: false, _clock);
        var store = new SqliteUsageStore(EnclaveState.Open(_dir, _clock));
        await using var ledger = SqliteLedger.Open(new LedgerOptions { DataDirectory = _dir }, _clock);
        var auditor = new RequestAuditor(ledger, _clock);

        // uma: 50 requests of 1 ms, 45 of 8 ms and 5 of 64 ms over two minutes of one hour; ulf: 10 of 500 ms.
        async Task ManyAsync(string actor, int count, double latencyMs)
        {
            for (var i = 0; i < count; i++)
            {
                await CompleteAsync(auditor, actor, "chat", "local", "ok", latencyMs, 1, 1);
            }
        }

        await ManyAsync("user:uma", 30, 1);
        await ManyAsync("user:uma", 20, 8);
        _clock.Advance(TimeSpan.FromMinutes(1));
        await ManyAsync("user:uma", 20, 1);
        await ManyAsync("user:uma", 25, 8);
        await ManyAsync("user:uma", 5, 64);
        await ManyAsync("user:ulf", 10, 500);
        var rollup = new UsageRollup(new LedgerFeed(ledger), store, _clock);
        while (rollup.Step() > 0)
        {
        }

        rollup.Flush();

        // The rollups add up: the hour's histogram is the sum of its minutes', bucket by bucket.
        var minutes = store.Read(UsageSpan.Minute, DateTimeOffset.MinValue).Where(b => b.Principal == "user:uma").ToList();
        Assert.Equal(2, minutes.Count);
        var hour = Assert.Single(store.Read(UsageSpan.Hour, DateTimeOffset.MinValue), b => b.Principal == "user:uma");
        Assert.Equal(LatencyHistogram.Add(minutes[0].LatencyCounts, minutes[1].LatencyCounts), hour.LatencyCounts);
        Assert.Equal(50, hour.LatencyCounts[LatencyHistogram.BucketOf(1)]);
        Assert.Equal(45, hour.LatencyCounts[LatencyHistogram.BucketOf(8)]);
        Assert.Equal(5, hour.LatencyCounts[LatencyHistogram.BucketOf(64)]);

        // Per principal over the last 24 hours: latencies on bucket bounds come out exact; p99 inside 64 ms's bucket.
        var byPrincipal = UsageReport.Build(store, UsageRange.Day, UsageDimension.Principal, _clock.GetUtcNow(), _ => []);
        var uma = byPrincipal.Total("user:uma");
        var umaP99 = 45.254833995939 * Math.Pow(Math.Sqrt(2), 0.8);
        Assert.Equal((1.0, 8.0), (uma.LatencyMsP50!.Value, uma.LatencyMsP95!.Value));
        Assert.Equal(umaP99, uma.LatencyMsP99!.Value, 6);
        var ulf = byPrincipal.Total("user:ulf");
        Assert.Equal(500, ulf.LatencyMsP99); // never above the largest latency seen
        Assert.InRange(ulf.LatencyMsP50!.Value, LatencyHistogram.LowerBoundMs(LatencyHistogram.BucketOf(500)), 500);

        // Per model: both principals' requests in one histogram (110 requests; the 105th is one of ulf's).
        var chat = UsageReport.Build(store, UsageRange.Day, UsageDimension.Model, _clock.GetUtcNow(), _ => []).Total("chat");
        Assert.Equal(110, chat.Requests);
        Assert.InRange(chat.LatencyMsP50!.Value, LatencyHistogram.LowerBoundMs(LatencyHistogram.BucketOf(8)), 8);
        Assert.InRange(chat.LatencyMsP95!.Value, LatencyHistogram.LowerBoundMs(LatencyHistogram.BucketOf(500)), 500);

        // The CSV export carries them, per bucket and group.
        var lines = byPrincipal.ToCsv().Split("\r\n", StringSplitOptions.RemoveEmptyEntries);
        Assert.Equal("start,principal,requests,denials,errors,prompt_tokens,completion_tokens,latency_avg_ms,latency_max_ms,latency_p50_ms,latency_p95_ms,latency_p99_ms", lines[0]);
        var umaRow = Assert.Single(lines, l => l.Contains(",user:uma,", StringComparison.Ordinal)).Split(',');
        Assert.Equal(["100", "64", "1", "8", umaP99.ToString("0.###", System.Globalization.CultureInfo.InvariantCulture)], [umaRow[2], umaRow[8], umaRow[9], umaRow[10], umaRow[11]]);
    }

    private static Task<long> CompleteAsync(RequestAuditor auditor, string actor, string model, string backend, string outcome, double latencyMs, int prompt, int completion) =>
        auditor.CompleteAsync(new CompletedRequest
        {
            Endpoint = "/v1/chat/completions",
            RequestId = Guid.NewGuid().ToString("N"),
            Actor = actor,
            Model = model,
            AdmittedIndex = 0,
            Outcome = outcome,
            Status = outcome == "ok" ? 200 : 500,
            Backend = backend,
            Latency = TimeSpan.FromMilliseconds(latencyMs),
            Usage = prompt + completion == 0 ? null : new TokenUsage(prompt, completion),
        });
}
