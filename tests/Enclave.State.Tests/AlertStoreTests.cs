using Enclave.State.Alerts;
using Enclave.State.Changes;
using Microsoft.Extensions.Time.Testing;

namespace Enclave.State.Tests;

/// <summary>The alerts table (migration 2) on both engines (a real SQLite file, a real PostgreSQL server).</summary>
public abstract class AlertStoreTests : IDisposable
{
    private static readonly DateTimeOffset Now = DateTimeOffset.Parse("2027-01-02T03:04:05Z", System.Globalization.CultureInfo.InvariantCulture);
    private readonly StateTarget _state;
    private readonly SqliteAlertStore _store;

    protected AlertStoreTests(StateTarget state)
    {
        _state = state;
        _store = new SqliteAlertStore(state.Open(new FakeTimeProvider(Now)));
    }

    public void Dispose()
    {
        _state.Dispose();
        GC.SuppressFinalize(this);
    }

    [Fact]
    public void Add_ThenFind_RoundTripsEveryField()
    {
        var alert = Row("alert_1", "intel", "high", Now, 7) with { DedupKey = "k1" };

        Assert.True(_store.Add(alert));

        Assert.Equal(alert, _store.Find("alert_1"));
        Assert.Equal(alert, _store.FindByDedupKey("k1"));
        Assert.Null(_store.Find("alert_2"));
        Assert.Null(_store.FindByDedupKey("k2"));
    }

    [Fact]
    public void Add_WithADedupKeyAlreadyRaised_AddsNothing()
    {
        Assert.True(_store.Add(Row("alert_1", "vulnerability", "critical", Now, 1) with { DedupKey = "finding:x" }));

        Assert.False(_store.Add(Row("alert_2", "vulnerability", "critical", Now, 2) with { DedupKey = "finding:x" }));

        Assert.Null(_store.Find("alert_2"));
        // Alerts without a key never collide.
        Assert.True(_store.Add(Row("alert_3", "intel", "low", Now, 3)));
        Assert.True(_store.Add(Row("alert_4", "intel", "low", Now, 4)));
    }

    [Fact]
    public void ChangeState_OnlyFromTheExpectedState()
    {
        _store.Add(Row("alert_1", "insider", "medium", Now, 1));
        var ack = new AlertStateChange("acknowledged", Now.AddMinutes(1), "user:alice", 2, "looking");

        Assert.False(_store.ChangeState("alert_1", "acknowledged", ack));
        Assert.False(_store.ChangeState("alert_missing", "open", ack));
        Assert.True(_store.ChangeState("alert_1", "open", ack));
        Assert.False(_store.ChangeState("alert_1", "open", ack));

        var row = _store.Find("alert_1")!;
        Assert.Equal(("acknowledged", Now.AddMinutes(1), "user:alice", 2L, "looking"), (row.State, row.Updated, row.UpdatedBy, row.UpdatedIndex, row.Reason));
    }

    [Fact]
    public void List_FiltersByStateKindSeverityAndTime_NewestFirst_WithinTheLimit()
    {
        _store.Add(Row("a1", "intel", "high", Now, 1));
        _store.Add(Row("a2", "detection", "low", Now.AddMinutes(1), 2));
        _store.Add(Row("a3", "intel", "critical", Now.AddMinutes(2), 3));
        _store.ChangeState("a3", "open", new AlertStateChange("resolved", Now.AddMinutes(3), "user:a", 4, "fixed"));

        Assert.Equal(["a3", "a2", "a1"], Ids(new AlertQuery()));
        Assert.Equal(["a2", "a1"], Ids(new AlertQuery { States = ["open"] }));
        Assert.Equal(["a3", "a1"], Ids(new AlertQuery { Kind = "intel" }));
        Assert.Equal(["a3", "a1"], Ids(new AlertQuery { Severities = ["critical", "high"] }));
        Assert.Equal(["a3", "a2"], Ids(new AlertQuery { Since = Now.AddMinutes(1) }));
        Assert.Equal(["a3"], Ids(new AlertQuery { Limit = 1 }));
        Assert.Empty(Ids(new AlertQuery { States = [] }));
    }

    [Fact]
    public void Count_GroupsByKindSeverityAndState()
    {
        _store.Add(Row("a1", "intel", "high", Now, 1));
        _store.Add(Row("a2", "intel", "high", Now, 2));
        _store.Add(Row("a3", "vulnerability", "critical", Now, 3));

        Assert.Equal([new AlertCount("intel", "high", "open", 2), new AlertCount("vulnerability", "critical", "open", 1)], _store.Count());
    }

    [Fact]
    public void EveryChangeOfAnAlert_IsAnnouncedToTheOtherReplicas_WhenItCommits_AndNothingThatChangedNothing()
    {
        var announced = 0;
        var barriers = 0;
        using var changes = StateChanges.For(_state.Open(new FakeTimeProvider(Now)));
        changes.Subscribe(StateTopics.Alerts, () => Interlocked.Increment(ref announced));
        changes.Subscribe(StateTopics.Imports, () => Interlocked.Increment(ref barriers));
        Assert.True(changes.WaitUntilListening(TimeSpan.FromSeconds(30)), "the change feed did not connect");
        var start = Volatile.Read(ref announced); // the full reload on connect (PostgreSQL)
        var barrierStart = Volatile.Read(ref barriers);
        var airlock = new Airlock.SqliteAirlockStore(_state.Open(new FakeTimeProvider(Now)));

        Assert.True(_store.Add(Row("alert_1", "detection", "high", Now, 1) with { DedupKey = "d1" }));
        WaitFor(ref announced, start + 1);

        // A duplicate raise and a change from a state the alert is not in change nothing, and announce nothing: an
        // airlock change committed after them is announced on the same channel, in commit order, so once it arrives any
        // announcement of theirs would have too.
        Assert.False(_store.Add(Row("alert_2", "detection", "high", Now, 2) with { DedupKey = "d1" }));
        Assert.False(_store.ChangeState("alert_1", "acknowledged", new AlertStateChange("resolved", Now, "user:a", 3, "no")));
        airlock.MarkRejected("imp_barrier", "user:a", "[]", Now);
        WaitFor(ref barriers, barrierStart + 1);
        Assert.Equal(start + (changes.Shared ? 1 : 0), Volatile.Read(ref announced));

        Assert.True(_store.ChangeState("alert_1", "open", new AlertStateChange("acknowledged", Now, "user:a", 4, "on it")));
        WaitFor(ref announced, start + 2);
        Assert.Equal("acknowledged", _store.Find("alert_1")!.State);

        void WaitFor(ref int counter, int count)
        {
            if (!changes.Shared)
            {
                return; // SQLite: one server, nothing announced
            }

            var deadline = DateTime.UtcNow.AddSeconds(30);
            while (Volatile.Read(ref counter) < count && DateTime.UtcNow < deadline)
            {
                Thread.Sleep(5); // polling the subscriber's counter, with a deadline
            }

            Assert.Equal(count, Volatile.Read(ref counter));
        }
    }

    private string[] Ids(AlertQuery query) => [.. _store.List(query).Select(a => a.Id)];

    private static AlertRow Row(string id, string kind, string severity, DateTimeOffset raised, long index) => new()
    {
        Id = id,
        Kind = kind,
        Severity = severity,
        Title = "title of " + id,
        Subject = "import:x",
        Evidence = """{"summary":"s"}""",
        State = "open",
        Raised = raised,
        RaisedBy = "system",
        RaisedIndex = index,
    };
}

/// <summary>The <see cref="AlertStoreTests"/> contract on a SQLite file.</summary>
public sealed class AlertStoreOnSqlite() : AlertStoreTests(new SqliteTarget());

/// <summary>The <see cref="AlertStoreTests"/> contract on PostgreSQL.</summary>
public sealed class AlertStoreOnPostgres(PostgresDatabase database) : AlertStoreTests(database.Target()), IClassFixture<PostgresDatabase>;
