using Enclave.Core.Audit;
using Enclave.Ledger;
using Enclave.Policy.Identity;
using Enclave.Server.Auth;
using Microsoft.Data.Sqlite;

namespace Enclave.EndToEnd.Tests.Identity;

/// <summary>Start-up's admin key: created once, recorded with actor system, never for a disabled admin.</summary>
public sealed class IdentityBootstrapTests : IAsyncLifetime
{
    private readonly string _dir = Directory.CreateTempSubdirectory("enclave-bootstrap-").FullName;
    private SqliteLedger _ledger = null!;

    public Task InitializeAsync()
    {
        SqliteLedger.Initialize(_dir, "bootstrap.example/ledger", postQuantum: false, TimeProvider.System);
        _ledger = SqliteLedger.Open(new LedgerOptions { DataDirectory = _dir, Purpose = "bootstrap test" }, TimeProvider.System);
        return Task.CompletedTask;
    }

    [Fact]
    public async Task FreshEnclave_GetsUserAdminWithOneKey_RecordedAsSystem_AndOnlyOnce()
    {
        var store = new ApiKeyStore(_dir, TimeProvider.System);

        var first = await IdentityBootstrap.EnsureAdminKeyAsync(store, _ledger, TimeProvider.System);
        var second = await IdentityBootstrap.EnsureAdminKeyAsync(new ApiKeyStore(_dir, TimeProvider.System), _ledger, TimeProvider.System);

        Assert.NotNull(first.Created);
        Assert.True(store.TryValidate(first.Key!, out var valid, out _));
        Assert.Equal("user:admin", valid.Principal.Id);
        Assert.Equal([Roles.Admin], valid.Principal.Roles);
        Assert.Null(second.Key);
        Assert.Null(second.Problem);
        var events = Events();
        Assert.Equal(["user.added", "key.created"], events.Select(e => e.Type));
        Assert.All(events, e => Assert.Equal("system", e.Actor));
        Assert.Equal("key:" + first.Created!.Id, events[1].Subject);
    }

    [Fact]
    public async Task KeyFile_IsReusedWhileValid_OwnerOnly_AndReplacedOnceRevoked()
    {
        var store = new ApiKeyStore(_dir, TimeProvider.System);
        var file = Path.Combine(_dir, "keys", "demo-api-key");

        var first = await IdentityBootstrap.EnsureAdminKeyAsync(store, _ledger, TimeProvider.System, file);
        var again = await IdentityBootstrap.EnsureAdminKeyAsync(store, _ledger, TimeProvider.System, file);

        Assert.Equal(first.Key, again.Key);
        Assert.Null(again.Created);
        Assert.Equal(first.Key, File.ReadAllText(file).Trim());
        if (!OperatingSystem.IsWindows())
        {
            Assert.Equal(UnixFileMode.UserRead | UnixFileMode.UserWrite, File.GetUnixFileMode(file));
        }

        await store.RevokeKeyAsync(first.Created!.Id);
        var replaced = await IdentityBootstrap.EnsureAdminKeyAsync(store, _ledger, TimeProvider.System, file);

        Assert.NotEqual(first.Key, replaced.Key);
        Assert.NotNull(replaced.Created);
        Assert.Equal(replaced.Key, File.ReadAllText(file).Trim());
    }

    [Fact]
    public async Task DisabledAdmin_WithNoOtherUsableAdminKey_GetsNoNewKey_AndAProblem()
    {
        var store = new ApiKeyStore(_dir, TimeProvider.System);
        await IdentityBootstrap.EnsureAdminKeyAsync(store, _ledger, TimeProvider.System);
        await store.AddPrincipalAsync("backup-admin", PrincipalKind.User, [Roles.Admin], null);
        await store.DisablePrincipalAsync("admin");
        var before = Events().Count;

        var result = await IdentityBootstrap.EnsureAdminKeyAsync(store, _ledger, TimeProvider.System);

        Assert.Null(result.Key);
        Assert.Contains("'admin' is disabled", result.Problem, StringComparison.Ordinal);
        Assert.Equal(before, Events().Count);
        Assert.Single(store.ListKeys("user:admin"));
    }

    private List<AuditEvent> Events()
    {
        using var reader = LedgerReader.Open(_dir);
        return [.. Enumerable.Range(0, (int)reader.TreeSize()).Select(i => AuditEvent.Parse(reader.ReadEntry(i)))];
    }

    public async Task DisposeAsync()
    {
        await _ledger.DisposeAsync();
        SqliteConnection.ClearAllPools();
        Directory.Delete(_dir, recursive: true);
    }
}
