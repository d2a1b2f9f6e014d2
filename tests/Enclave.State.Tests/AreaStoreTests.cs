using Enclave.State.Models;
using Enclave.State.Principals;
using Enclave.State.Quotas;
using Enclave.State.Retention;
using Microsoft.Extensions.Time.Testing;

namespace Enclave.State.Tests;

/// <summary>The stores of quotas, principals and keys, the model registry and retention, on both engines (real SQLite files, a real PostgreSQL server).</summary>
public abstract class AreaStoreTests : IDisposable
{
    private static readonly DateTimeOffset Now = DateTimeOffset.Parse("2027-01-02T03:04:05Z", System.Globalization.CultureInfo.InvariantCulture);
    private readonly StateTarget _state;
    private readonly StateConnectionFactory _factory;

    protected AreaStoreTests(StateTarget state)
    {
        _state = state;
        _factory = state.Open(new FakeTimeProvider(Now));
    }

    public void Dispose()
    {
        _state.Dispose();
        GC.SuppressFinalize(this);
    }

    [Fact]
    public void Quotas_AddAccumulates_PerPrincipalAndPeriod()
    {
        var store = new SqliteQuotaStore(_factory);
        store.Add([new QuotaCounter("user:a", "d:2027-01-02", 1, 10), new QuotaCounter("user:b", "d:2027-01-02", 2, 20)]);
        store.Add([new QuotaCounter("user:a", "d:2027-01-02", 3, 30), new QuotaCounter("user:a", "m:2027-01", 3, 30)]);

        Assert.Equal(
            [new QuotaCounter("user:a", "d:2027-01-02", 4, 40), new QuotaCounter("user:b", "d:2027-01-02", 2, 20)],
            store.Load(["d:2027-01-02"]).OrderBy(c => c.Principal, StringComparer.Ordinal));
        Assert.Equal([new QuotaCounter("user:a", "m:2027-01", 3, 30)], store.Load(["m:2027-01"]));
    }

    [Fact]
    public void Quotas_AFailingAdd_ChangesNothing()
    {
        var store = new SqliteQuotaStore(_factory);
        store.Add([new QuotaCounter("user:a", "d:2027-01-02", 1, 10)]);

        // The second increment breaks the CHECK (requests >= 0): the first must not be kept either.
        Assert.ThrowsAny<System.Data.Common.DbException>(() =>
            store.Add([new QuotaCounter("user:a", "d:2027-01-02", 5, 50), new QuotaCounter("user:b", "d:2027-01-02", -1, 0)]));

        Assert.Equal([new QuotaCounter("user:a", "d:2027-01-02", 1, 10)], store.Load(["d:2027-01-02"]));
    }

    [Fact]
    public void Principals_AddFindDisableRevoke_RoundTrip()
    {
        var store = new SqlitePrincipalStore(_factory);
        var alice = new PrincipalRow("user:alice", "alice", "user", "user analyst", "SECRET", Now, null);
        store.AddPrincipal(alice);
        var key = new ApiKeyRow("0123456789ab", [1, 2, 3], "laptop", "user:alice", Now, Now.AddDays(30), null);
        store.AddKey(key);

        var found = store.FindKey("0123456789ab");
        Assert.NotNull(found);
        Assert.Equal(alice, found.Value.Principal);
        Assert.Equal(key.SecretHash, found.Value.Key.SecretHash);
        Assert.Equal(key with { SecretHash = found.Value.Key.SecretHash }, found.Value.Key);
        Assert.Null(store.FindKey("ffffffffffff"));

        store.DisablePrincipal("user:alice", Now.AddHours(1));
        store.RevokeKey("0123456789ab", Now.AddHours(2));
        store.RevokeKey("0123456789ab", Now.AddHours(3)); // already revoked: unchanged

        Assert.Equal(Now.AddHours(1), Assert.Single(store.ListPrincipals()).Disabled);
        Assert.Equal(Now.AddHours(2), Assert.Single(store.ListKeys()).Revoked);
        Assert.ThrowsAny<System.Data.Common.DbException>(() => store.AddPrincipal(alice with { Id = "user:alice2" }));
    }

    [Fact]
    public void Principals_KeysFromBeforePrincipals_AreAttachedToTheirRolesPrincipal()
    {
        _state.Execute($"""
            INSERT INTO api_keys (id, secret_hash, name, role, created) VALUES ('aaaaaaaaaaaa', {_state.BlobLiteral("01")}, 'old admin', 'admin', '2025-01-01T00:00:00.0000000+00:00');
            INSERT INTO api_keys (id, secret_hash, name, role, created) VALUES ('bbbbbbbbbbbb', {_state.BlobLiteral("02")}, 'old admin 2', 'admin', '2025-01-01T00:00:00.0000000+00:00');
            """);
        var store = new SqlitePrincipalStore(_factory);

        var attached = store.AttachUnownedKeys(role => new PrincipalRow("user:" + role, role, "user", role, null, Now, null));

        Assert.Equal(2, attached);
        Assert.Equal("user:admin", Assert.Single(store.ListPrincipals()).Id);
        Assert.All(store.ListKeys(), k => Assert.Equal("user:admin", k.PrincipalId));
        Assert.Equal(0, store.AttachUnownedKeys(_ => throw new InvalidOperationException("nothing is left to attach")));
    }

    [Fact]
    public void Models_UpsertReplaces_RemoveSaysWhetherThereWasOne()
    {
        var store = new SqliteModelRegistryStore(_factory);
        store.Upsert(new LocalModelRow("b", "chat", "/m/b", "sha256:01", "dev", Now, null));
        store.Upsert(new LocalModelRow("a", "embedding", "/m/a", "sha256:02", "dev", Now, "SECRET"));
        store.Upsert(new LocalModelRow("b", "chat", "/m/b2", "sha256:03", "dev", Now.AddDays(1), "CONFIDENTIAL"));

        Assert.Equal(
            [new LocalModelRow("a", "embedding", "/m/a", "sha256:02", "dev", Now, "SECRET"), new LocalModelRow("b", "chat", "/m/b2", "sha256:03", "dev", Now.AddDays(1), "CONFIDENTIAL")],
            store.List());
        Assert.True(store.Remove("a"));
        Assert.False(store.Remove("a"));
        Assert.ThrowsAny<System.Data.Common.DbException>(() => store.Upsert(new LocalModelRow("c", "vision", "/m/c", "sha256:04", "dev", Now, null)));
    }

    [Fact]
    public void Retention_PutFindPurge_KeepsOnlyUnexpiredRecords()
    {
        Migrations.StateMigrator.Migrate(_factory, StateDatabase.Retention, new FakeTimeProvider(Now));
        var store = new SqliteRetentionStore(_factory);
        store.Put([
            new RetainedRow(1, "req-1", "user:a", Now, Now.AddDays(1), "k1", [1], [2]),
            new RetainedRow(2, "req-2", "user:a", Now, Now.AddDays(3), "k1", [3], null),
        ]);
        store.Put([new RetainedRow(2, "req-2b", "user:b", Now, Now.AddDays(3), "k1", [4], [5])]);

        Assert.Equal(2, store.Count());
        var second = store.Find(2, Now)!;
        Assert.Equal(("req-2b", "user:b", Now.AddDays(3)), (second.RequestId, second.Actor, second.Expires));
        Assert.Equal([4], second.Prompt);
        Assert.Null(store.Find(1, Now.AddDays(2)));
        Assert.Equal(1, store.Purge(Now.AddDays(2)));
        Assert.Equal(1, store.Count());
        Assert.Equal(0, store.Purge(Now.AddDays(2)));
    }
}

/// <summary>The <see cref="AreaStoreTests"/> contract on SQLite files.</summary>
public sealed class AreaStoreOnSqlite() : AreaStoreTests(new SqliteTarget());

/// <summary>The <see cref="AreaStoreTests"/> contract on PostgreSQL.</summary>
public sealed class AreaStoreOnPostgres(PostgresDatabase database) : AreaStoreTests(database.Target()), IClassFixture<PostgresDatabase>;
