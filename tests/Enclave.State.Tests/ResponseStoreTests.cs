using Enclave.State.Responses;
using Microsoft.Extensions.Time.Testing;

namespace Enclave.State.Tests;

/// <summary>The stored Responses API responses (migration 10) on both engines (a real SQLite file, a real PostgreSQL server).</summary>
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
}

/// <summary>The <see cref="ResponseStoreTests"/> contract on a SQLite file.</summary>
public sealed class ResponseStoreOnSqlite() : ResponseStoreTests(new SqliteTarget());

/// <summary>The <see cref="ResponseStoreTests"/> contract on PostgreSQL.</summary>
public sealed class ResponseStoreOnPostgres(PostgresDatabase database) : ResponseStoreTests(database.Target()), IClassFixture<PostgresDatabase>;
