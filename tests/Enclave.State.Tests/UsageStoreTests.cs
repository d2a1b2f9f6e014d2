using Enclave.State.Migrations;
using Enclave.State.Usage;
using Microsoft.Extensions.Time.Testing;

namespace Enclave.State.Tests;

/// <summary>The usage rollup's store (migrations 8 and 11) with its latency histogram, on both engines (a real SQLite file, a real PostgreSQL server).</summary>
public abstract class UsageStoreTests : IDisposable
{
    private static readonly DateTimeOffset Now = DateTimeOffset.Parse("2027-01-02T03:04:05Z", System.Globalization.CultureInfo.InvariantCulture);
    private readonly StateTarget _state;
    private readonly SqliteUsageStore _store;

    protected UsageStoreTests(StateTarget state)
    {
        _state = state;
        _store = new SqliteUsageStore(state.Open(new FakeTimeProvider(Now)));
    }

    public void Dispose()
    {
        _state.Dispose();
        GC.SuppressFinalize(this);
    }

    private static UsageBucket Bucket(double latencyMs, params (int Bucket, long Count)[] counts)
    {
        var histogram = new long[LatencyHistogram.Count];
        foreach (var (bucket, count) in counts)
        {
            histogram[bucket] = count;
        }

        return new UsageBucket
        {
            Span = UsageSpan.Hour,
            Start = UsageBucket.StartOf(UsageSpan.Hour, Now),
            Principal = "user:uma",
            Model = "chat",
            Backend = "local",
            Requests = counts.Sum(c => c.Count),
            LatencyMsSum = latencyMs,
            LatencyMsMax = latencyMs,
            LatencyCounts = histogram,
        };
    }

    [Fact]
    public void Apply_AddsTheLatencyHistogramsBucketByBucket_AndReadReturnsThemAfterReopening()
    {
        _store.Apply([Bucket(10, (0, 1), (10, 2), (LatencyHistogram.Count - 1, 1))], 4, Now);
        _store.Apply([Bucket(30, (10, 3), (20, 5))], 9, Now);
        // A bucket without completed requests (a refusal) has no histogram: its counts stay as they are.
        _store.Apply([new UsageBucket { Span = UsageSpan.Hour, Start = UsageBucket.StartOf(UsageSpan.Hour, Now), Principal = "user:uma", Model = "chat", Backend = "local", Denials = 1 }], 10, Now);

        var reopened = new SqliteUsageStore(_state.Open(new FakeTimeProvider(Now)));
        var row = Assert.Single(reopened.Read(UsageSpan.Hour, DateTimeOffset.MinValue));
        var expected = new long[LatencyHistogram.Count];
        (expected[0], expected[10], expected[20], expected[^1]) = (1, 5, 5, 1);
        Assert.Equal(expected, row.LatencyCounts);
        Assert.Equal((12L, 1L, 40.0, 30.0), (row.Requests, row.Denials, row.LatencyMsSum, row.LatencyMsMax));
        Assert.Equal(10, reopened.ReadCursor());
    }

    [Fact]
    public void Read_OfARowWithoutCompletedRequests_GivesAnEmptyHistogram()
    {
        _store.Apply([new UsageBucket { Span = UsageSpan.Day, Start = UsageBucket.StartOf(UsageSpan.Day, Now), Principal = "user:uma", Model = "chat", Backend = "", Denials = 2 }], 1, Now);

        Assert.Empty(Assert.Single(_store.Read(UsageSpan.Day, DateTimeOffset.MinValue)).LatencyCounts);
    }

    [Fact]
    public void Apply_OfAHistogramOfTheWrongLength_IsRefused_AndChangesNothing()
    {
        var wrong = Bucket(1, (1, 1)) with { LatencyCounts = [1, 2, 3] };

        Assert.Throws<ArgumentException>(() => _store.Apply([Bucket(1, (1, 1)), wrong], 7, Now));

        Assert.Empty(_store.Read(UsageSpan.Hour, DateTimeOffset.MinValue));
        Assert.Null(_store.ReadCursor());
    }
}

public sealed class UsageStoreOnSqlite() : UsageStoreTests(new SqliteTarget());

public sealed class UsageStoreOnPostgres(PostgresDatabase database) : UsageStoreTests(database.Target()), IClassFixture<PostgresDatabase>;

/// <summary>Migration 11 on a database the rollup had already filled (version 10).</summary>
public sealed class UsageMigrationTests : IDisposable
{
    private readonly TempDataDirectory _dir = new();
    private readonly FakeTimeProvider _clock = new(DateTimeOffset.Parse("2027-01-02T03:04:05Z", System.Globalization.CultureInfo.InvariantCulture));

    public void Dispose() => _dir.Dispose();

    [Fact]
    public void Migration11_AddsTheHistogramColumns_AndEmptiesTheRollupAndItsCursor_SoThatTheLedgerIsCountedAgainWithLatencies()
    {
        var factory = new SqliteConnectionFactory(_dir.Path);
        StateMigrator.Migrate(factory, StateDatabase.Enclave, [.. StateDatabase.Enclave.Migrations.Where(m => m.Version <= 10)], _clock);
        Raw.Execute(_dir.EnclaveDb, """
            INSERT INTO usage_buckets VALUES ('day', 1798848000, 'user:uma', 'chat', 'local', 3, 0, 0, 10, 20, 300.5, 200);
            INSERT INTO usage_cursor VALUES (1, 42, '2027-01-02T03:00:00Z');
            """);

        var result = StateMigrator.Migrate(factory, StateDatabase.Enclave, [.. StateDatabase.Enclave.Migrations.Where(m => m.Version <= 11)], _clock);

        Assert.Equal((10, 11), (result.From, result.To));
        Assert.Equal(0L, Raw.Scalar(_dir.EnclaveDb, "SELECT count(*) FROM usage_buckets"));
        Assert.Equal(0L, Raw.Scalar(_dir.EnclaveDb, "SELECT count(*) FROM usage_cursor"));
        var store = new SqliteUsageStore(EnclaveState.Open(_dir.Path, _clock));
        Assert.Null(store.ReadCursor());
        Assert.All(Enumerable.Range(0, LatencyHistogram.Count), i => Assert.Contains(
            Raw.Schema(_dir.EnclaveDb),
            s => s.StartsWith("table usage_buckets", StringComparison.Ordinal) && s.Contains($"latency_h{i:00} INTEGER NOT NULL DEFAULT 0", StringComparison.Ordinal)));
    }
}
