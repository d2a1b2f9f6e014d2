using Enclave.State.Intel;
using Microsoft.Extensions.Time.Testing;

namespace Enclave.State.Tests;

/// <summary>The threat-intelligence indicator tables (migration 4) on both engines.</summary>
public abstract class IndicatorStoreTests : IDisposable
{
    private static readonly DateTimeOffset Now = DateTimeOffset.Parse("2027-01-02T03:04:05Z", System.Globalization.CultureInfo.InvariantCulture);
    private readonly StateTarget _state;
    private readonly SqliteIndicatorStore _store;

    protected IndicatorStoreTests(StateTarget state)
    {
        _state = state;
        _store = new SqliteIndicatorStore(state.Open(new FakeTimeProvider(Now)));
    }

    public void Dispose()
    {
        _state.Dispose();
        GC.SuppressFinalize(this);
    }

    [Fact]
    public void Apply_KeepsTheNewestModifiedPerId_AndRoundTripsEveryColumn()
    {
        var full = Indicator("indicator--a", Now, "imp_1") with
        {
            Name = "bad digest",
            ValidUntil = Now.AddDays(30),
            Revoked = true,
            Confidence = 85,
            Status = "not-evaluable",
            Reason = "pattern uses a function Enclave does not evaluate",
        };
        var first = _store.Apply(Source("imp_1", 7, 2), [full, Indicator("indicator--b", Now, "imp_1")]);

        var second = _store.Apply(
            Source("imp_2", 9, 3),
            [Indicator("indicator--a", Now.AddDays(-1), "imp_2"), Indicator("indicator--b", Now.AddSeconds(1), "imp_2"), Indicator("indicator--c", Now, "imp_2")]);

        Assert.Equal(new IndicatorApplyResult(2, 0, 0), first);
        Assert.Equal(new IndicatorApplyResult(1, 1, 1), second);
        var stored = _store.Indicators();
        Assert.Equal(["indicator--a", "indicator--b", "indicator--c"], stored.Select(i => i.Id));
        Assert.Equal(full, stored[0]);
        Assert.Equal(("imp_2", Now.AddSeconds(1), false, (int?)null), (stored[1].ImportId, stored[1].Modified, stored[1].Revoked, stored[1].Confidence));
    }

    [Fact]
    public void Sources_AreListedNewestFirst_WithTheirCounts()
    {
        _store.Apply(Source("imp_1", 7, 2), []);
        _store.Apply(Source("imp_2", 9, 3) with { Loaded = Now.AddHours(1), ArrivedIndex = 5_000_000_000 }, []);

        Assert.True(_store.HasSource("imp_1"));
        Assert.False(_store.HasSource("imp_9"));
        Assert.Equal(
            [Source("imp_2", 9, 3) with { Loaded = Now.AddHours(1), ArrivedIndex = 5_000_000_000 }, Source("imp_1", 7, 2)],
            _store.Sources());
    }

    [Fact]
    public void Apply_OfASourceLoadedTwice_FailsAndKeepsTheIndicatorsItBrought()
    {
        _store.Apply(Source("imp_1", 1, 0), [Indicator("indicator--a", Now, "imp_1")]);

        // The same import id again breaks the primary key after the indicator was written: the whole apply is rolled back.
        Assert.ThrowsAny<System.Data.Common.DbException>(() => _store.Apply(Source("imp_1", 1, 0), [Indicator("indicator--a", Now.AddDays(1), "imp_1")]));

        Assert.Equal(Now, Assert.Single(_store.Indicators()).Modified);
    }

    private static IndicatorSourceRow Source(string importId, int indicators, int notEvaluable) =>
        new(importId, "feed", "1.0", Now, 42, indicators, notEvaluable, 1);

    private static IndicatorRow Indicator(string id, DateTimeOffset modified, string importId) => new()
    {
        Id = id,
        Modified = modified,
        ImportId = importId,
        Source = "stix",
        Pattern = "[file:hashes.'SHA-256' = 'aa']",
        PatternType = "stix",
        ValidFrom = Now.AddDays(-1),
        Created = Now.AddDays(-2),
        Status = "live",
    };
}

/// <summary>The <see cref="IndicatorStoreTests"/> contract on a SQLite file.</summary>
public sealed class IndicatorStoreOnSqlite() : IndicatorStoreTests(new SqliteTarget());

/// <summary>The <see cref="IndicatorStoreTests"/> contract on PostgreSQL.</summary>
public sealed class IndicatorStoreOnPostgres(PostgresDatabase database) : IndicatorStoreTests(database.Target()), IClassFixture<PostgresDatabase>;
