using System.Globalization;
using Enclave.Policy.Identity;
using Microsoft.Data.Sqlite;
using Microsoft.Extensions.Time.Testing;

namespace Enclave.EndToEnd.Tests.Identity;

/// <summary>The identity store over a real SQLite file: keys, principals, the in-memory index, migration.</summary>
public sealed class ApiKeyStoreTests : IDisposable
{
    private readonly string _dir = Directory.CreateTempSubdirectory("enclave-store-").FullName;
    private readonly FakeTimeProvider _clock = new(new DateTimeOffset(2026, 11, 22, 12, 0, 0, TimeSpan.Zero));

    private ApiKeyStore Open() => new(_dir, _clock);

    [Fact]
    public async Task CreatedKey_Validates_AsItsPrincipal_AndSurvivesReopening()
    {
        var store = Open();
        await store.AddPrincipalAsync("alice", PrincipalKind.User, [Roles.User, Roles.Analyst], "SECRET//SI/TK//REL TO USA, GBR");
        var (key, record) = await store.CreateKeyAsync("alice", "laptop", expires: null);

        foreach (var s in new[] { store, Open() })
        {
            Assert.True(s.TryValidate(key, out var valid, out var rejection));
            Assert.Equal(KeyRejection.None, rejection);
            Assert.Equal(record, valid.Key);
            Assert.Equal("user:alice", valid.Principal.Id);
            Assert.Equal([Roles.Analyst, Roles.User], valid.Principal.Roles);
            Assert.Equal("SECRET//SI/TK//REL TO USA, GBR", valid.Principal.Clearance);
        }
    }

    [Fact]
    public async Task Clearance_IsStoredInCanonicalBannerForm()
    {
        var store = Open();

        var added = await store.AddPrincipalAsync("bob", PrincipalKind.User, [Roles.User], "SECRET//TK/SI//REL TO GBR, USA");

        Assert.Equal("SECRET//SI/TK//REL TO USA, GBR", added.Clearance);
        var info = store.Find("user:bob")!;
        Assert.Equal(("user:bob", "bob", "SECRET//SI/TK//REL TO USA, GBR", false), (info.Id, info.Name, info.Clearance, info.Disabled));
        Assert.Equal([Roles.User], info.Roles);
        Assert.Equal(info.Id, store.Find("bob")!.Id);
        Assert.Null(store.Find("service:bob"));
        Assert.Null(store.Find("nobody"));
    }

    [Fact]
    public async Task RevokedKey_IsRefusedAtOnce_ThroughTheSameStore_AndAfterReopening()
    {
        var store = Open();
        await store.AddPrincipalAsync("carol", PrincipalKind.User, [Roles.User], null);
        var (key, record) = await store.CreateKeyAsync("carol", null, null);
        Assert.True(store.TryValidate(key, out _, out _));

        await store.RevokeKeyAsync("ek_" + record.Id);

        Assert.False(store.TryValidate(key, out _, out var rejection));
        Assert.Equal(KeyRejection.Revoked, rejection);
        Assert.False(Open().TryValidate(key, out _, out rejection));
        Assert.Equal(KeyRejection.Revoked, rejection);
    }

    [Fact]
    public async Task DisabledPrincipal_AllItsKeysAreRefusedAtOnce()
    {
        var store = Open();
        await store.AddPrincipalAsync("dave", PrincipalKind.Service, [Roles.AirlockImporter], null);
        var (one, _) = await store.CreateKeyAsync("dave", null, null);
        var (two, _) = await store.CreateKeyAsync("service:dave", null, null);

        var disabled = await store.DisablePrincipalAsync("dave");

        Assert.Equal(_clock.GetUtcNow(), disabled.Disabled);
        foreach (var key in new[] { one, two })
        {
            Assert.False(store.TryValidate(key, out _, out var rejection));
            Assert.Equal(KeyRejection.PrincipalDisabled, rejection);
        }

        Assert.True(Open().Find("dave")!.Disabled);
        var refused = await Assert.ThrowsAsync<IdentityException>(() => store.CreateKeyAsync("dave", null, null));
        Assert.Equal(IdentityError.Conflict, refused.Error);
    }

    [Fact]
    public async Task ExpiredKey_IsRefusedFromItsExpiryOn()
    {
        var store = Open();
        await store.AddPrincipalAsync("erin", PrincipalKind.User, [Roles.User], null);
        var (key, _) = await store.CreateKeyAsync("erin", null, _clock.GetUtcNow().AddHours(1));

        _clock.Advance(TimeSpan.FromMinutes(59));
        Assert.True(store.TryValidate(key, out _, out _));
        _clock.Advance(TimeSpan.FromMinutes(1));

        Assert.False(store.TryValidate(key, out _, out var rejection));
        Assert.Equal(KeyRejection.Expired, rejection);
        Assert.Equal(0, store.CountActive());
    }

    [Fact]
    public async Task KeyCreatedByAnotherStoreInstance_IsFoundOnFirstUse()
    {
        var server = Open();
        var tool = Open();
        await tool.AddPrincipalAsync("frank", PrincipalKind.User, [Roles.Auditor], null);
        var (key, _) = await tool.CreateKeyAsync("frank", null, null);

        Assert.True(server.TryValidate(key, out var valid, out _));
        Assert.Equal("user:frank", valid.Principal.Id);
        Assert.Equal("frank", server.Find("frank")!.Name);
    }

    [Fact]
    public async Task TamperedTruncatedOrOversizedKeys_AreRefused_WithoutThrowing()
    {
        var store = Open();
        await store.AddPrincipalAsync("gus", PrincipalKind.User, [Roles.User], null);
        var (key, record) = await store.CreateKeyAsync("gus", null, null);

        for (var i = 0; i < key.Length; i++)
        {
            var chars = key.ToCharArray();
            chars[i] = chars[i] == 'A' ? 'B' : 'A';
            var tampered = new string(chars);
            Assert.False(store.TryValidate(tampered, out _, out var rejection), $"flipped character {i} was accepted");
            Assert.NotEqual(KeyRejection.None, rejection);
        }

        for (var length = 0; length < key.Length; length++)
        {
            Assert.False(store.TryValidate(key.AsSpan(0, length), out _, out var rejection));
            Assert.Equal(KeyRejection.Malformed, rejection);
        }

        foreach (var bad in new[] { key + "A", key + new string('A', 100_000), key.ToUpperInvariant(), " " + key[1..], key.Replace('_', '='), "ek_" + record.Id + "_" + new string('=', 43) })
        {
            Assert.False(store.TryValidate(bad, out _, out _));
        }

        Assert.False(store.TryValidate("ek_" + record.Id + "_" + new string('A', 43), out _, out var wrong));
        Assert.Equal(KeyRejection.WrongSecret, wrong);
        Assert.False(store.TryValidate("ek_000000000000_" + new string('A', 43), out _, out var unknown));
        Assert.Equal(KeyRejection.UnknownKey, unknown);
        Assert.Equal(record.Id, ApiKeyStore.PresentedKeyId("ek_" + record.Id + "_" + new string('A', 43)));
        Assert.Null(ApiKeyStore.PresentedKeyId("ek_NOTHEX000000_" + new string('A', 43)));
    }

    [Theory]
    [InlineData("Alice", new[] { "user" }, null, IdentityError.Invalid, "not a valid name")]
    [InlineData("-alice", new[] { "user" }, null, IdentityError.Invalid, "not a valid name")]
    [InlineData("al ice", new[] { "user" }, null, IdentityError.Invalid, "not a valid name")]
    [InlineData("user:alice", new[] { "user" }, null, IdentityError.Invalid, "not a valid name")]
    [InlineData("alice", new[] { "root" }, null, IdentityError.Invalid, "unknown role 'root'")]
    [InlineData("alice", new[] { "Admin" }, null, IdentityError.Invalid, "unknown role 'Admin'")]
    [InlineData("alice", new[] { "user" }, "SECRET//NOFORN//REL TO GBR", IdentityError.Invalid, "clearance")]
    [InlineData("alice", new[] { "user" }, "(S)", IdentityError.Invalid, "clearance")]
    [InlineData("alice", new[] { "user" }, "", IdentityError.Invalid, "clearance")]
    public async Task AddPrincipal_RefusesBadInput_ReportingEveryProblem_AndChangesNothing(string name, string[] roles, string? clearance, IdentityError error, string expected)
    {
        var store = Open();
        var recorded = false;

        var refused = await Assert.ThrowsAsync<IdentityException>(() => store.AddPrincipalAsync(name, PrincipalKind.User, roles, clearance, _ =>
        {
            recorded = true;
            return ValueTask.CompletedTask;
        }));

        Assert.Equal(error, refused.Error);
        Assert.Contains(expected, refused.Message, StringComparison.Ordinal);
        Assert.False(recorded);
        Assert.Empty(Open().ListPrincipals());
    }

    [Fact]
    public async Task AddPrincipal_ReportsAllProblemsAtOnce()
    {
        var refused = await Assert.ThrowsAsync<IdentityException>(() => Open().AddPrincipalAsync("Bad Name", PrincipalKind.User, ["root", "god"], "PUBLIC"));

        Assert.Contains("not a valid name", refused.Message, StringComparison.Ordinal);
        Assert.Contains("'root'", refused.Message, StringComparison.Ordinal);
        Assert.Contains("'god'", refused.Message, StringComparison.Ordinal);
        Assert.Contains("'PUBLIC'", refused.Message, StringComparison.Ordinal);
    }

    [Fact]
    public async Task WhenRecordingFails_NothingChanges_InMemoryOrOnDisk()
    {
        var store = Open();
        await store.AddPrincipalAsync("hal", PrincipalKind.User, [Roles.Admin], null);
        await store.AddPrincipalAsync("ida", PrincipalKind.User, [Roles.Admin], null);
        var (key, record) = await store.CreateKeyAsync("hal", null, null);
        static ValueTask Fail<T>(T _) => throw new InvalidOperationException("ledger down");

        await Assert.ThrowsAsync<InvalidOperationException>(() => store.AddPrincipalAsync("jan", PrincipalKind.User, [Roles.User], null, Fail));
        await Assert.ThrowsAsync<InvalidOperationException>(() => store.CreateKeyAsync("hal", null, null, Fail));
        await Assert.ThrowsAsync<InvalidOperationException>(() => store.RevokeKeyAsync(record.Id, Fail));
        await Assert.ThrowsAsync<InvalidOperationException>(() => store.DisablePrincipalAsync("hal", Fail));

        foreach (var s in new[] { store, Open() })
        {
            Assert.Null(s.Find("jan"));
            Assert.False(s.Find("hal")!.Disabled);
            Assert.Single(s.ListKeys("user:hal"));
            Assert.True(s.TryValidate(key, out _, out _));
        }
    }

    [Fact]
    public async Task RevokeAndDisable_TwiceAreConflicts_UnknownAreNotFound()
    {
        var store = Open();
        await store.AddPrincipalAsync("kai", PrincipalKind.User, [Roles.User], null);
        var (_, record) = await store.CreateKeyAsync("kai", null, null);
        await store.RevokeKeyAsync(record.Id);
        await store.DisablePrincipalAsync("kai");

        Assert.Equal(IdentityError.Conflict, (await Assert.ThrowsAsync<IdentityException>(() => store.RevokeKeyAsync(record.Id))).Error);
        Assert.Equal(IdentityError.Conflict, (await Assert.ThrowsAsync<IdentityException>(() => store.DisablePrincipalAsync("kai"))).Error);
        Assert.Equal(IdentityError.NotFound, (await Assert.ThrowsAsync<IdentityException>(() => store.RevokeKeyAsync("0123456789ab"))).Error);
        Assert.Equal(IdentityError.NotFound, (await Assert.ThrowsAsync<IdentityException>(() => store.RevokeKeyAsync("'; DROP TABLE api_keys; --"))).Error);
        Assert.Equal(IdentityError.NotFound, (await Assert.ThrowsAsync<IdentityException>(() => store.DisablePrincipalAsync("nobody"))).Error);
        Assert.Equal(IdentityError.NotFound, (await Assert.ThrowsAsync<IdentityException>(() => store.CreateKeyAsync("nobody", null, null))).Error);
    }

    [Fact]
    public async Task LegacyRoleKeys_KeepWorking_AttachedToTheirRolesPrincipal()
    {
        // The schema and rows of the version before principals: keys carried a role.
        var secret = new byte[32];
        secret[0] = 7;
        var legacyKey = "ek_aaaaaaaaaaaa_" + TestTokens.B64(secret);
        var auditorKey = "ek_bbbbbbbbbbbb_" + TestTokens.B64(secret);
        var oddKey = "ek_cccccccccccc_" + TestTokens.B64(secret);
        using (var connection = new SqliteConnection($"Data Source={Path.Combine(_dir, "enclave.db")}"))
        {
            connection.Open();
            using var command = connection.CreateCommand();
            command.CommandText = """
                CREATE TABLE api_keys (
                    id TEXT PRIMARY KEY, secret_hash BLOB NOT NULL, name TEXT NOT NULL, role TEXT NOT NULL,
                    created TEXT NOT NULL, expires TEXT, revoked TEXT) WITHOUT ROWID;
                INSERT INTO api_keys VALUES ('aaaaaaaaaaaa', $h, 'initial admin', 'admin', '2026-01-01T00:00:00.0000000+00:00', NULL, NULL);
                INSERT INTO api_keys VALUES ('bbbbbbbbbbbb', $h, 'grafana', 'auditor', '2026-01-01T00:00:00.0000000+00:00', NULL, NULL);
                INSERT INTO api_keys VALUES ('cccccccccccc', $h, 'old tool', 'Power User!', '2026-01-01T00:00:00.0000000+00:00', NULL, NULL);
                INSERT INTO api_keys VALUES ('dddddddddddd', $h, 'gone', 'admin', '2026-01-01T00:00:00.0000000+00:00', NULL, '2026-02-01T00:00:00.0000000+00:00');
                """;
            command.Parameters.AddWithValue("$h", System.Security.Cryptography.SHA256.HashData(secret));
            command.ExecuteNonQuery();
        }

        SqliteConnection.ClearAllPools();
        var store = Open();

        Assert.True(store.TryValidate(legacyKey, out var admin, out _));
        Assert.Equal("user:admin", admin.Principal.Id);
        Assert.Equal([Roles.Admin], admin.Principal.Roles);
        Assert.Equal("initial admin", admin.Key.Name);
        Assert.True(store.TryValidate(auditorKey, out var auditor, out _));
        Assert.Equal("user:auditor", auditor.Principal.Id);
        Assert.Equal([Roles.Auditor], auditor.Principal.Roles);
        Assert.True(store.TryValidate(oddKey, out var odd, out _));
        Assert.Equal("user:legacy-power-user", odd.Principal.Id);
        Assert.Empty(odd.Principal.Roles);
        Assert.False(store.TryValidate("ek_dddddddddddd_" + TestTokens.B64(secret), out _, out var revoked));
        Assert.Equal(KeyRejection.Revoked, revoked);
        Assert.Equal(2, store.ListKeys("user:admin").Count);
        Assert.True(store.HasUsableAdminKey());

        // Opening again migrates nothing twice.
        var again = Open();
        Assert.Equal(store.ListPrincipals().Select(p => p.Id), again.ListPrincipals().Select(p => p.Id));
        Assert.Equal(4, again.ListKeys().Count);
    }

    [Fact]
    public void LegacyCreate_GivesAKeyOfTheRolesPrincipal()
    {
        var store = Open();

        var (key, record) = store.Create("e2e admin", Roles.Admin, _clock.GetUtcNow().AddDays(1));

        Assert.Equal("user:admin", record.PrincipalId);
        Assert.Equal("e2e admin", record.Name);
        Assert.Equal(record.Id, store.Validate(key)!.Id);
        Assert.Equal(1, store.CountActive());
    }

    [Fact]
    public async Task ListKeys_NewestFirst_IncludesRevokedAndExpired()
    {
        var store = Open();
        await store.AddPrincipalAsync("lou", PrincipalKind.User, [Roles.User], null);
        var (_, first) = await store.CreateKeyAsync("lou", "first", _clock.GetUtcNow().AddMinutes(1));
        _clock.Advance(TimeSpan.FromMinutes(2));
        var (_, second) = await store.CreateKeyAsync("lou", "second", null);
        await store.RevokeKeyAsync(second.Id);

        var keys = store.ListKeys("user:lou");

        Assert.Equal([second.Id, first.Id], keys.Select(k => k.Id));
        Assert.NotNull(keys[0].Revoked);
        Assert.Empty(store.ListKeys("user:nobody"));
        Assert.Equal(keys, Open().ListKeys("user:lou"));
        Assert.Equal(first.Created.ToString("O", CultureInfo.InvariantCulture), Open().GetKey(first.Id)!.Created.ToString("O", CultureInfo.InvariantCulture));
    }

    public void Dispose()
    {
        SqliteConnection.ClearAllPools();
        Directory.Delete(_dir, recursive: true);
    }
}
