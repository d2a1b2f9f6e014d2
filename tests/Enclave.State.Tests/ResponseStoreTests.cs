using Enclave.State.Migrations;
using Enclave.State.Responses;
using Microsoft.Extensions.Time.Testing;

namespace Enclave.State.Tests;

/// <summary>The stored Responses API responses (migrations 10 and 12) on both engines (a real SQLite file, a real PostgreSQL server).</summary>
public abstract class ResponseStoreTests : IDisposable
{
    private static readonly DateTimeOffset Now = DateTimeOffset.Parse("2027-01-02T03:04:05Z", System.Globalization.CultureInfo.InvariantCulture);
    private readonly StateTarget _state;
    private readonly SqliteResponseStore _store;

    protected ResponseStoreTests(StateTarget state)
    {
        _state = state;
        _store = new SqliteResponseStore(state.Open(new FakeTimeProvider(Now)));
    }

    public void Dispose()
    {
        _state.Dispose();
        GC.SuppressFinalize(this);
    }

    private static StoredResponse Response(string id, string? previous = null, string owner = "user:alice") => new()
    {
        Id = id,
        Owner = owner,
        Label = "SECRET//REL TO GBR",
        Model = "chat-model",
        Created = Now,
        PreviousId = previous,
        RequestId = "req_" + id,
        AdmittedIndex = 42,
        Conversation = """[{"role":"user","content":"héllo ✓"}]""",
        Response = """{"id":"%ID%","object":"response"}""".Replace("%ID%", id, StringComparison.Ordinal),
    };

    [Fact]
    public void Put_ThenGet_ReturnsEveryField_AfterReopening()
    {
        _store.Put(Response("resp_1"));
        _store.Put(Response("resp_2", previous: "resp_1", owner: "user:bob"));

        var reopened = new SqliteResponseStore(_state.Open(new FakeTimeProvider(Now)));
        Assert.Equal(Response("resp_1"), reopened.Get("resp_1"));
        Assert.Equal(Response("resp_2", previous: "resp_1", owner: "user:bob"), reopened.Get("resp_2"));
        Assert.Null(reopened.Get("resp_3"));
    }

    [Fact]
    public void Put_OfAnIdAlreadyStored_IsRefused_AndKeepsTheFirst()
    {
        _store.Put(Response("resp_1"));

        Assert.Throws<ArgumentException>(() => _store.Put(Response("resp_1", owner: "user:mallory")));

        Assert.Equal("user:alice", _store.Get("resp_1")!.Owner);
    }

    [Fact]
    public void Delete_RemovesOnlyThatResponse_AndSaysWhetherThereWasOne()
    {
        _store.Put(Response("resp_1"));
        _store.Put(Response("resp_2", previous: "resp_1"));

        Assert.True(_store.Delete("resp_1"));
        Assert.False(_store.Delete("resp_1"));
        Assert.False(_store.Delete("resp_unknown"));

        Assert.Null(_store.Get("resp_1"));
        Assert.Equal("resp_1", _store.Get("resp_2")!.PreviousId);
    }

    [Fact]
    public void Put_KeepsStatusAndInputItems_AndDefaultsToCompletedWithNone()
    {
        _store.Put(Response("resp_1") with { Status = "queued", InputItems = """[{"id":"msg_1","type":"message"}]""" });
        _store.Put(Response("resp_2"));

        Assert.Equal(("queued", """[{"id":"msg_1","type":"message"}]"""), (_store.Get("resp_1")!.Status, _store.Get("resp_1")!.InputItems));
        Assert.Equal(("completed", "[]"), (_store.Get("resp_2")!.Status, _store.Get("resp_2")!.InputItems));
    }

    [Fact]
    public void Transition_MovesOnlyARunningResponse_OnceItHasEnded_NothingChanges()
    {
        _store.Put(Response("resp_1") with { Status = "queued" });
        _store.Put(Response("resp_2"));

        Assert.True(_store.Transition("resp_1", "in_progress", """{"status":"in_progress"}"""));
        Assert.Equal(("in_progress", """{"status":"in_progress"}""", Response("resp_1").Conversation), Row("resp_1"));
        Assert.True(_store.Transition("resp_1", "cancelled", """{"status":"cancelled"}"""));
        // The worker finishing after a cancellation (on this replica or another) changes nothing.
        Assert.False(_store.Transition("resp_1", "completed", """{"status":"completed"}""", "[]"));
        Assert.Equal(("cancelled", """{"status":"cancelled"}""", Response("resp_1").Conversation), Row("resp_1"));

        Assert.False(_store.Transition("resp_2", "cancelled", "{}"));
        Assert.Equal("completed", _store.Get("resp_2")!.Status);
        Assert.False(_store.Transition("resp_unknown", "cancelled", "{}"));

        _store.Put(Response("resp_3") with { Status = "in_progress" });
        Assert.True(_store.Transition("resp_3", "completed", """{"status":"completed"}""", """[{"role":"assistant","content":"done"}]"""));
        Assert.Equal(("completed", """{"status":"completed"}""", """[{"role":"assistant","content":"done"}]"""), Row("resp_3"));

        (string, string, string) Row(string id) => _store.Get(id) is { } r ? (r.Status, r.Response, r.Conversation) : default;
    }

    [Fact]
    public void DeleteCreatedBefore_DeletesOnlyOlderResponses_AndCountsThem()
    {
        _store.Put(Response("resp_old") with { Created = Now - TimeSpan.FromDays(31) });
        _store.Put(Response("resp_edge") with { Created = Now - TimeSpan.FromDays(30) });
        _store.Put(Response("resp_new") with { Created = Now - TimeSpan.FromSeconds(1), Status = "in_progress" });

        Assert.Equal(1, _store.DeleteCreatedBefore(Now - TimeSpan.FromDays(30)));
        Assert.Equal(0, _store.DeleteCreatedBefore(Now - TimeSpan.FromDays(30)));

        Assert.Null(_store.Get("resp_old"));
        Assert.NotNull(_store.Get("resp_edge"));
        Assert.Equal(2, _store.DeleteCreatedBefore(Now));
        Assert.Null(_store.Get("resp_new"));
    }
}

/// <summary>The <see cref="ResponseStoreTests"/> contract on a SQLite file.</summary>
public sealed class ResponseStoreOnSqlite() : ResponseStoreTests(new SqliteTarget());

/// <summary>The <see cref="ResponseStoreTests"/> contract on PostgreSQL.</summary>
public sealed class ResponseStoreOnPostgres(PostgresDatabase database) : ResponseStoreTests(database.Target()), IClassFixture<PostgresDatabase>;

/// <summary>Migration 12 on a database that already held stored responses (version 11).</summary>
public sealed class ResponsesMigrationTests : IDisposable
{
    private readonly TempDataDirectory _dir = new();
    private readonly FakeTimeProvider _clock = new(DateTimeOffset.Parse("2027-01-02T03:04:05Z", System.Globalization.CultureInfo.InvariantCulture));

    public void Dispose() => _dir.Dispose();

    [Fact]
    public void Migration12_KeepsEarlierResponses_AsCompleted_WithNoInputItems()
    {
        var factory = new SqliteConnectionFactory(_dir.Path);
        StateMigrator.Migrate(factory, StateDatabase.Enclave, [.. StateDatabase.Enclave.Migrations.Where(m => m.Version <= 11)], _clock);
        Raw.Execute(_dir.EnclaveDb, """
            INSERT INTO responses VALUES ('resp_old', 'user:alice', 'UNCLASSIFIED', 'chat', '2027-01-01T00:00:00.0000000Z', NULL, 'req_1', 7, '[]', '{"id":"resp_old"}');
            """);

        var result = StateMigrator.Migrate(factory, StateDatabase.Enclave, [.. StateDatabase.Enclave.Migrations.Where(m => m.Version <= 12)], _clock);

        Assert.Equal((11, 12), (result.From, result.To));
        var row = new SqliteResponseStore(EnclaveState.Open(_dir.Path, _clock)).Get("resp_old")!;
        Assert.Equal(("completed", "[]", "user:alice"), (row.Status, row.InputItems, row.Owner));
        Assert.Contains(Raw.Schema(_dir.EnclaveDb), line => line.Contains("responses_by_created", StringComparison.Ordinal));
    }
}
