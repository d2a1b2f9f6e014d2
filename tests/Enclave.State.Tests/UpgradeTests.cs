using System.Text.Json;
using Enclave.Airlock.Import;
using Enclave.Core;
using Enclave.Ledger;
using Enclave.Ledger.Checkpoints;
using Enclave.Policy.Identity;
using Enclave.Policy.Quotas;
using Enclave.State.Migrations;
using Microsoft.Extensions.Time.Testing;

namespace Enclave.State.Tests;

/// <summary>
/// A data directory made by commit 9ad0591 (before versioned migrations; see Fixtures/upgrade-9ad0591/README.md)
/// opens with this code and is upgraded in place: nothing it held is lost, and the upgrade is in the ledger.
/// </summary>
public sealed class UpgradeTests : IDisposable
{
    private static readonly string Fixture = Path.Combine(AppContext.BaseDirectory, "Fixtures", "upgrade-9ad0591");
    private readonly TempDataDirectory _dir = new();
    private readonly FakeTimeProvider _clock = new(DateTimeOffset.Parse("2027-01-02T03:04:05Z", System.Globalization.CultureInfo.InvariantCulture));
    private readonly JsonElement _expected;

    public UpgradeTests()
    {
        foreach (var file in Directory.EnumerateFiles(Path.Combine(Fixture, "data"), "*", SearchOption.AllDirectories))
        {
            var target = Path.Combine(_dir.Path, Path.GetRelativePath(Path.Combine(Fixture, "data"), file));
            Directory.CreateDirectory(Path.GetDirectoryName(target)!);
            File.Copy(file, target);
        }

        if (!OperatingSystem.IsWindows())
        {
            // Git does not keep the key file's 0600; the ledger refuses a key file others can read.
            File.SetUnixFileMode(Path.Combine(_dir.Path, "keys", "ledger-ed25519.key"), UnixFileMode.UserRead | UnixFileMode.UserWrite);
        }

        _expected = JsonDocument.Parse(File.ReadAllText(Path.Combine(Fixture, "expected.json"))).RootElement;
    }

    public void Dispose() => _dir.Dispose();

    private string Expected(string name) => _expected.GetProperty(name).GetString()!;

    [Fact]
    public async Task DirectoryFrom9ad0591_UpgradesInPlace_KeepingLedgerAirlockKeysAndQuotas_AndTheUpgradeIsInTheLedger()
    {
        var verifierKeys = new[] { Expected("verifierKey") };
        var oldSize = _expected.GetProperty("treeSize").GetInt64();
        Assert.Equal(0, StateMigrator.ReadVersion(new SqliteConnectionFactory(_dir.Path), StateDatabase.Enclave));
        Checkpoint before;
        using (var reader = LedgerReader.Open(_dir.Path))
        {
            before = LedgerAuditor.VerifyCheckpoint(System.Text.Encoding.UTF8.GetBytes(reader.LatestCheckpoint()!.Note), verifierKeys, Expected("origin"));
        }

        Assert.Equal(oldSize, before.Size);
        Assert.Equal(Expected("rootHash"), Convert.ToBase64String(before.RootHash.ToArray()));

        await using (var ledger = SqliteLedger.Open(new LedgerOptions { DataDirectory = _dir.Path, Purpose = "upgrade test" }, _clock))
        {
            // The upgrade is the next entry: state.migrated, enclave.db from unversioned (0) to the latest version.
            Assert.Equal(oldSize + 1, ledger.Size);
            using var upgrade = JsonDocument.Parse(ledger.ReadEntry(oldSize));
            Assert.Equal("state.migrated", upgrade.RootElement.GetProperty("type").GetString());
            Assert.Equal("system", upgrade.RootElement.GetProperty("actor").GetString());
            var details = upgrade.RootElement.GetProperty("details");
            Assert.Equal("enclave", details.GetProperty("database").GetString());
            Assert.Equal(0, details.GetProperty("from_version").GetInt32());
            Assert.Equal(StateDatabase.Enclave.LatestVersion, details.GetProperty("to_version").GetInt32());

            // Same log: the old tree is a prefix of the new one, and the new checkpoint verifies with the old key.
            var after = LedgerAuditor.VerifyCheckpoint(System.Text.Encoding.UTF8.GetBytes((await ledger.CheckpointAsync()).Note), verifierKeys, Expected("origin"));
            LedgerAuditor.VerifyConsistency(before, after, ledger.ProveConsistency(oldSize, after.Size));
            using var reader = LedgerReader.Open(_dir.Path);
            Assert.Equal(before.RootHash, reader.RootHash(oldSize));
            LedgerAuditor.VerifyTiles(reader.OpenTileReader(), after);

            // Airlock: the activated import and the trusted TUF versions.
            var importer = new AirlockImporter(new AirlockImportOptions { DataDirectory = _dir.Path }, ledger, _clock);
            var import = importer.Get(Expected("importId"))!;
            Assert.Equal(ImportState.Activated, import.State);
            Assert.Null(import.RoleSigners); // imported before per-role signers were recorded: not known, not invented
            var versions = importer.TrustStore.Versions();
            Assert.Equal(
                _expected.GetProperty("trustVersions").EnumerateObject().ToDictionary(p => p.Name, p => p.Value.GetInt32()),
                versions.ToDictionary(p => p.Key, p => p.Value));
            Assert.NotNull(importer.TrustStore.Load());
        }

        // Users and keys.
        var keys = new ApiKeyStore(_dir.Path, _clock);
        var key = keys.Validate(Expected("apiKey"));
        Assert.NotNull(key);
        Assert.Equal(Expected("apiKeyId"), key.Id);
        Assert.Equal(keys.GetPrincipal("alice")!.Id, key.PrincipalId);

        // Quotas.
        var usage = Assert.Single(new QuotaStore(_dir.Path).Load(["d:2026-12-06"]));
        Assert.Equal((key.PrincipalId, 3L, 120L), (usage.Principal, usage.Requests, usage.Tokens));

        // Recorded once: opening again writes no second upgrade entry.
        Assert.Equal(StateDatabase.Enclave.LatestVersion, StateMigrator.ReadVersion(new SqliteConnectionFactory(_dir.Path), StateDatabase.Enclave));
        await using (var again = SqliteLedger.Open(new LedgerOptions { DataDirectory = _dir.Path, Purpose = "upgrade test" }, _clock))
        {
            Assert.Equal(oldSize + 1, again.Size);
        }
    }
}
