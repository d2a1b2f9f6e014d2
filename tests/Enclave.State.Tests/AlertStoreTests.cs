using Enclave.State.Alerts;
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
