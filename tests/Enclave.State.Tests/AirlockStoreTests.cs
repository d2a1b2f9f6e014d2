using Enclave.State.Airlock;
using Enclave.State.Changes;
using Enclave.State.Migrations;
using Microsoft.Extensions.Time.Testing;

namespace Enclave.State.Tests;

public abstract class AirlockStoreTests : IDisposable
{
    private static readonly DateTimeOffset Now = DateTimeOffset.Parse("2027-01-02T03:04:05Z", System.Globalization.CultureInfo.InvariantCulture);
    private readonly StateTarget _state;
    private readonly SqliteAirlockStore _store;

    protected AirlockStoreTests(StateTarget state)
    {
        _state = state;
        _store = new SqliteAirlockStore(state.Open(new FakeTimeProvider(Now)));
    }

    public void Dispose()
    {
        _state.Dispose();
        GC.SuppressFinalize(this);
    }

    private static ImportRow Import(string id, string version) => new()
    {
        Id = id,
        Kind = "dataset",
        Name = "d",
        Version = version,
        Label = "UNCLASSIFIED",
        State = "verified",
        Importer = "user:importer",
        SignerKeyIdsJson = "[]",
        ManifestSha256 = new string('a', 64),
        ArchiveBytes = 10,
        TufVersionsJson = "{}",
        Quarantine = "/q/" + id,
        ReasonsJson = "[]",
        Received = Now,
        Verified = Now,
    };

    [Fact]
    public void Transaction_NotCommitted_LeavesNothing_Committed_KeepsEverything()
    {
        using (var transaction = _store.Begin())
        {
            transaction.ReplaceTrust([new TrustFileRow("root.json", "root", 1, [1])], Now);
            transaction.InsertImport(Import("imp_1", "1"), [new ImportTargetRow("dataset/d/1/x", "data", new string('b', 64), 3, "targets/x")]);
        }

        Assert.Empty(_store.TrustFiles());
        Assert.Empty(_store.Imports());

        using (var transaction = _store.Begin())
        {
            transaction.ReplaceTrust([new TrustFileRow("root.json", "root", 1, [1]), new TrustFileRow("targets.json", "targets", 4, [2])], Now);
            transaction.RecordPin(new TrustPinRow(new string('c', 64), 1, "user:admin", false, Now));
            transaction.InsertImport(Import("imp_1", "1"), [new ImportTargetRow("dataset/d/1/x", "data", new string('b', 64), 3, "targets/x")]);
            transaction.Commit();
        }

        Assert.Equal(new Dictionary<string, int> { ["root"] = 1, ["targets"] = 4 }, _store.TrustVersions());
        Assert.Equal(new TrustPinRow(new string('c', 64), 1, "user:admin", false, Now), _store.CurrentPin());
        Assert.Equal(Import("imp_1", "1"), Assert.Single(_store.Imports(id: "imp_1")));
        Assert.Equal(("imp_1", "verified"), _store.FindLiveImport("dataset", "d", "1"));
        Assert.Equal("/q/imp_1", _store.Quarantine("imp_1"));
    }

    [Fact]
    public void Activation_WritesTheArtifact_EndsThePromotion_AndFreesTheQuarantine()
    {
        using (var transaction = _store.Begin())
        {
            transaction.InsertImport(Import("imp_1", "1"), [new ImportTargetRow("dataset/d/1/x", "data", new string('b', 64), 3, "targets/x")]);
            transaction.Commit();
        }

        _store.AddApproval("imp_1", "user:first", Now);
        _store.AddApproval("imp_1", "user:first", Now.AddMinutes(1)); // counts once
        _store.StartPromotion(new PromotionRow("imp_1", "/a/d/1", "/a/.staging/imp_1", "[]", Now));
        Assert.Single(_store.Promotions());

        using (var transaction = _store.Begin())
        {
            transaction.AddApproval("imp_1", "user:second", Now.AddMinutes(2));
            transaction.Activate(new ArtifactRow("dataset", "d", "1", "UNCLASSIFIED", null, "imp_1", "/a/d/1", new string('a', 64), Now.AddMinutes(2)), "user:second");
            transaction.Commit();
        }

        var activated = Assert.Single(_store.Imports(state: "activated", kind: "dataset"));
        Assert.Equal(("/a/d/1", (string?)null, "user:second"), (activated.Folder, activated.Quarantine, activated.DecidedBy));
        Assert.Equal(["user:first", "user:second"], _store.Approvers("imp_1"));
        Assert.True(_store.IsActivated("imp_1"));
        Assert.Equal([new string('b', 64)], _store.ActivatedTargetDigests());
        Assert.Empty(_store.Promotions());
        Assert.Empty(_store.Imports(kind: "model"));
    }

    [Fact]
    public void RoleSigners_RoundTripWithTheImport_AndAnImportWithoutThemReadsAsNotRecorded()
    {
        const string roles = """[{"role":"root","version":2,"threshold":1,"key_ids":["r1"]},{"role":"model","version":3,"threshold":2,"key_ids":["m1","m3"]}]""";
        using (var transaction = _store.Begin())
        {
            transaction.InsertImport(Import("imp_1", "1") with { RoleSignersJson = roles }, []);
            transaction.InsertImport(Import("imp_2", "2"), []);
            transaction.Commit();
        }

        Assert.Equal(roles, Assert.Single(_store.Imports(id: "imp_1")).RoleSignersJson);
        Assert.Null(Assert.Single(_store.Imports(id: "imp_2")).RoleSignersJson);
        Assert.Equal(roles, Assert.Single(_store.Imports(state: "verified", kind: "dataset"), r => r.Id == "imp_1").RoleSignersJson);
    }

    [Fact]
    public void Rejected_IsNoLongerLive_SoTheVersionCanBeImportedAgain()
    {
        using (var transaction = _store.Begin())
        {
            transaction.InsertImport(Import("imp_1", "1"), []);
            transaction.Commit();
        }

        _store.MarkRejected("imp_1", "user:approver", "[\"no\"]", Now);

        Assert.Null(_store.FindLiveImport("dataset", "d", "1"));
        var rejected = Assert.Single(_store.Imports(state: "rejected"));
        Assert.Equal(("[\"no\"]", (string?)null), (rejected.ReasonsJson, rejected.Quarantine));
        using var again = _store.Begin();
        again.InsertImport(Import("imp_2", "1"), []);
        again.Commit();
        Assert.Equal(("imp_2", "verified"), _store.FindLiveImport("dataset", "d", "1"));
    }

    [Fact]
    public void EveryChangeOfAnImport_IsAnnouncedToTheOtherReplicas_WhenItCommits_AndOnlyThen()
    {
        var announced = 0;
        using var changes = StateChanges.For(_state.Open(new FakeTimeProvider(Now)));
        changes.Subscribe(StateTopics.Imports, () => Interlocked.Increment(ref announced));
        Assert.True(changes.WaitUntilListening(TimeSpan.FromSeconds(30)), "the change feed did not connect");
        var start = Volatile.Read(ref announced); // the full reload on connect (PostgreSQL)

        using (var uncommitted = _store.Begin())
        {
            uncommitted.InsertImport(Import("imp_0", "0"), []);
        }

        using (var transaction = _store.Begin())
        {
            transaction.InsertImport(Import("imp_1", "1"), []);
            transaction.InsertImport(Import("imp_2", "2"), []);
            transaction.Commit();
        }

        WaitFor(start + 1);
        _store.AddApproval("imp_1", "user:first", Now);
        WaitFor(start + 2);
        using (var transaction = _store.Begin())
        {
            transaction.AddApproval("imp_1", "user:second", Now);
            transaction.Commit();
        }

        WaitFor(start + 3);
        _store.MarkRejected("imp_2", "user:approver", "[\"no\"]", Now);
        WaitFor(start + 4);
        // Notifications arrive in commit order: the uncommitted one would have come before the first.
        Assert.Equal(start + (changes.Shared ? 4 : 0), Volatile.Read(ref announced));
        Assert.Equal(["user:first", "user:second"], _store.Approvers("imp_1"));
        Assert.Equal("rejected", _store.Imports(id: "imp_2").Single().State);

        void WaitFor(int count)
        {
            if (!changes.Shared)
            {
                return; // SQLite: one server, nothing announced
            }

            var deadline = DateTime.UtcNow.AddSeconds(30);
            while (Volatile.Read(ref announced) < count && DateTime.UtcNow < deadline)
            {
                Thread.Sleep(5); // polling the subscriber's counter, with a deadline
            }

            Assert.Equal(count, Volatile.Read(ref announced));
        }
    }
}

/// <summary>The <see cref="AirlockStoreTests"/> contract on a SQLite file.</summary>
public sealed class AirlockStoreOnSqlite() : AirlockStoreTests(new SqliteTarget());

/// <summary>The <see cref="AirlockStoreTests"/> contract on PostgreSQL.</summary>
public sealed class AirlockStoreOnPostgres(PostgresDatabase database) : AirlockStoreTests(database.Target()), IClassFixture<PostgresDatabase>;

/// <summary>
/// Migration 13 on a database of schema 12 that already holds an import: the import still reads, with its per-role
/// signers not recorded (NULL, never invented), and imports written afterwards keep theirs.
/// </summary>
public abstract class AirlockRoleSignersMigrationTests(StateTarget state) : IDisposable
{
    private readonly FakeTimeProvider _clock = new(DateTimeOffset.Parse("2027-01-02T03:04:05Z", System.Globalization.CultureInfo.InvariantCulture));

    public void Dispose()
    {
        state.Dispose();
        GC.SuppressFinalize(this);
    }

    [Fact]
    public void Migration13_KeepsAnImportFromSchema12Readable_WithItsRoleSignersNotRecorded()
    {
        var factory = state.Unmigrated();
        StateMigrator.Migrate(factory, StateDatabase.Enclave, [.. StateDatabase.Enclave.Migrations.Where(m => m.Version <= 12)], _clock);
        // The row exactly as the schema-12 release wrote it (its INSERT named these columns).
        state.Execute("""
            INSERT INTO airlock_imports (id, kind, name, version, label, task, state, importer, signer_key_ids, sbom_sha256,
                provenance_sha256, manifest_sha256, archive_bytes, tuf_versions, quarantine, reasons, received, verified)
            VALUES ('imp_old', 'dataset', 'd', '1', 'UNCLASSIFIED', NULL, 'verified', 'user:importer', '["k1"]', NULL, NULL,
                'aaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaa', 10, '{"root":1,"targets":2}', '/q/imp_old', '[]',
                '2027-01-01T00:00:00.0000000Z', '2027-01-01T00:00:01.0000000Z')
            """);

        var result = StateMigrator.Migrate(factory, StateDatabase.Enclave, _clock);

        Assert.Equal((12, StateDatabase.Enclave.LatestVersion), (result.From, result.To));
        var store = new SqliteAirlockStore(state.Open(_clock));
        var old = Assert.Single(store.Imports(id: "imp_old"));
        Assert.Equal(("[\"k1\"]", "{\"root\":1,\"targets\":2}", "/q/imp_old"), (old.SignerKeyIdsJson, old.TufVersionsJson, old.Quarantine));
        Assert.Null(old.RoleSignersJson);

        const string roles = """[{"role":"targets","version":2,"threshold":1,"key_ids":["t1"]}]""";
        using (var transaction = store.Begin())
        {
            transaction.InsertImport(old with { Id = "imp_new", Version = "2", RoleSignersJson = roles }, []);
            transaction.Commit();
        }

        Assert.Equal(roles, Assert.Single(store.Imports(id: "imp_new")).RoleSignersJson);
        Assert.Null(Assert.Single(store.Imports(id: "imp_old")).RoleSignersJson);
    }
}

/// <summary>The <see cref="AirlockRoleSignersMigrationTests"/> on a SQLite file.</summary>
public sealed class AirlockRoleSignersMigrationOnSqlite() : AirlockRoleSignersMigrationTests(new SqliteTarget());

/// <summary>The <see cref="AirlockRoleSignersMigrationTests"/> on PostgreSQL.</summary>
public sealed class AirlockRoleSignersMigrationOnPostgres(PostgresDatabase database) : AirlockRoleSignersMigrationTests(database.Target()), IClassFixture<PostgresDatabase>;
