using System.Diagnostics;
using System.Text.Json.Nodes;
using Enclave.Airlock.Repository;
using Enclave.Intel.Vulnerabilities.Findings;
using Enclave.Ledger;
using Enclave.Policy.Identity;
using Enclave.Server.Hosting;
using Enclave.Signing.Keys;
using Microsoft.AspNetCore.Builder;
using Microsoft.Extensions.Configuration;
using Microsoft.Extensions.DependencyInjection;

namespace Enclave.EndToEnd.Tests.Upgrade;

/// <summary>
/// Patches through the airlock, end to end, with two real builds of Enclave (<see cref="EnclaveReleaseBuilds"/>): the
/// server runs release 1.0.0 (its SBOM is the one the 1.0.0 build wrote); an <c>intel</c> bundle brings an OSV advisory
/// (crafted here) against the Google.Protobuf version that SBOM really lists, fixed in the version 1.0.1 ships; both
/// releases arrive as <c>update</c> bundles (a tar of the publish folder, its SBOM as the attestation) written with the
/// repository tools, are imported and approved by two people;
/// <c>enclave upgrade</c> installs 1.0.0, stages 1.0.1 showing the finding it resolves, applies it (<c>current</c> points
/// at it and <c>current/enclave version</c> prints 1.0.1), refuses a tampered re-staging without touching the current
/// release, and rolls back. Every step is in the ledger.
/// </summary>
public sealed class UpgradeEndToEndTests(EnclaveReleaseBuilds builds) : IClassFixture<EnclaveReleaseBuilds>, IAsyncLifetime
{
    private const string Secret = "upgrade end-to-end passphrase";
    private const string Advisory = "ENCLAVE-TEST-2026-0001";
    private readonly string _root = Directory.CreateTempSubdirectory("enclave-upgrade-e2e-").FullName;
    private WebApplication? _app;
    private AdminSteps _steps = null!;
    private string _adminKey = "";

    private string DataDirectory => Path.Combine(_root, "data");

    private string InstallRoot => Path.Combine(_root, "install");

    public async Task InitializeAsync()
    {
        Directory.CreateDirectory(DataDirectory);
        SqliteLedger.Initialize(DataDirectory, "e2e.example/upgrade", postQuantum: false, TimeProvider.System);
        _adminKey = new ApiKeyStore(DataDirectory, TimeProvider.System).Create("e2e admin", "admin").Key;
        var configuration = new ConfigurationBuilder().AddInMemoryCollection(new Dictionary<string, string?>
        {
            ["Server:DataDirectory"] = DataDirectory,
            ["Server:Urls:0"] = "http://127.0.0.1:0",
            ["Upgrade:InstallRoot"] = InstallRoot,
        }).Build();
        // The server runs release 1.0.0: its own SBOM (the vulnerability inventory's "enclave") is the one that build wrote.
        var running = new EnclaveSbom(EnclaveReleaseBuilds.OldVersion, await File.ReadAllBytesAsync(Path.Combine(builds.Old, "enclave.cdx.json")));
        _app = EnclaveHost.Create(configuration, services => services.AddSingleton(running));
        await _app.StartAsync();
        _steps = new AdminSteps(_app.Urls.First(), _adminKey, _root);
    }

    public async Task DisposeAsync()
    {
        if (_app is not null)
        {
            await _app.StopAsync();
            await _app.DisposeAsync();
        }

        AuditVocabulary.AssertDeclared(DataDirectory);
        Directory.Delete(_root, recursive: true);
    }

    [Fact]
    public async Task UpdateBundles_ApprovedTwice_StageShowsTheResolvedFinding_ApplySwitchesToTheNewBuild_TamperIsRefused_RollbackReturns()
    {
        using var passphrase = Passphrase.FromString(Secret);
        var trust = TrustRepository.Initialize(new TrustInitOptions { Directory = Path.Combine(_root, "repo"), RootKeys = 1, RootThreshold = 1 }, passphrase, TimeProvider.System);
        var repo = TrustRepository.Open(trust.Directory);
        var admin = _steps.KeyFile("admin", _adminKey);
        var approvers = new[] { await _steps.ApproverAsync("uma"), await _steps.ApproverAsync("ulf") };
        Assert.Equal(0, (await _steps.CliAsync(admin, "airlock", "trust", trust.RootPath)).Code);

        // Vulnerability data: an advisory against the Google.Protobuf the 1.0.0 SBOM really lists, fixed in 1.0.1's.
        var oldSbom = await File.ReadAllTextAsync(Path.Combine(builds.Old, "enclave.cdx.json"));
        Assert.Contains($"pkg:nuget/Google.Protobuf@{EnclaveReleaseBuilds.OldProtobuf}", oldSbom, StringComparison.Ordinal);
        Assert.Contains($"pkg:nuget/Google.Protobuf@{builds.NewProtobuf}", await File.ReadAllTextAsync(Path.Combine(builds.New, "enclave.cdx.json")), StringComparison.Ordinal);
        var data = Path.Combine(_root, "vulndata", "osv");
        Directory.CreateDirectory(data);
        await File.WriteAllTextAsync(Path.Combine(data, Advisory + ".json"), $$"""
            {"schema_version":"1.7.0","id":"{{Advisory}}","modified":"2026-12-01T00:00:00Z","published":"2026-12-01T00:00:00Z",
             "aliases":["CVE-2099-0001"],"summary":"crafted for the upgrade test: Google.Protobuf before {{builds.NewProtobuf}}",
             "severity":[{"type":"CVSS_V3","score":"CVSS:3.1/AV:N/AC:L/PR:N/UI:N/S:U/C:H/I:H/A:H"}],
             "affected":[{"package":{"ecosystem":"NuGet","name":"Google.Protobuf","purl":"pkg:nuget/Google.Protobuf"},
                          "ranges":[{"type":"ECOSYSTEM","events":[{"introduced":"0"},{"fixed":"{{builds.NewProtobuf}}"}]}]}]}
            """);
        var intel = Bundle(repo, passphrase, "intel", "vulndata", "2026.12.01", Path.GetDirectoryName(data)!, sbom: null);
        await _steps.ApproveUntilActivatedAsync(approvers, await _steps.ImportAsync(admin, intel));
        var open = JsonNode.Parse((await _steps.CliAsync(admin, "vulns", "list", "--artifact", "enclave", "--json")).Out)!["findings"]!.AsArray();
        Assert.Contains(open, f => f!["id"]!.GetValue<string>() == Advisory && f["component"]!.GetValue<string>() == $"pkg:nuget/Google.Protobuf@{EnclaveReleaseBuilds.OldProtobuf}");

        // Both releases as update bundles (the publish output, its SBOM as the attestation), each approved by two people.
        foreach (var (version, folder) in new[] { (EnclaveReleaseBuilds.OldVersion, builds.Old), (EnclaveReleaseBuilds.NewVersion, builds.New) })
        {
            // The release travels as one tar of the publish folder (deeper than a bundle's two target levels).
            var archive = Path.Combine(_root, $"enclave-{version}.tar");
            await System.Formats.Tar.TarFile.CreateFromDirectoryAsync(folder, archive, includeBaseDirectory: false);
            var bundle = Bundle(repo, passphrase, "update", "enclave", version, archive, sbom: Path.Combine(folder, "enclave.cdx.json"));
            var id = await _steps.ImportAsync(admin, bundle);
            var first = await _steps.CliAsync(approvers[0], "airlock", "approve", id, "--json");
            Assert.True(first.Code == 0, first.Error);
            Assert.Equal("verified", JsonNode.Parse(first.Out)!["state"]!.GetValue<string>()); // one approval is not enough for an update
            await _steps.ApproveUntilActivatedAsync([approvers[1]], id);
        }

        // Install 1.0.0 through the airlock (the first install), then stage 1.0.1: it resolves the finding.
        Assert.Equal(0, (await _steps.CliAsync(admin, "upgrade", "stage", EnclaveReleaseBuilds.OldVersion)).Code);
        var installed = await _steps.CliAsync(admin, "upgrade", "apply", "--json");
        Assert.True(installed.Code == 0, installed.Error);
        Assert.StartsWith($"enclave {EnclaveReleaseBuilds.OldVersion} ", RunCurrent("version"), StringComparison.Ordinal);

        var staged = await _steps.CliAsync(admin, "upgrade", "stage", EnclaveReleaseBuilds.NewVersion, "--json");
        Assert.True(staged.Code == 0, staged.Error);
        var resolves = JsonNode.Parse(staged.Out)!["comparison"]!["resolves"]!.AsArray();
        var resolved = Assert.Single(resolves, f => f!["id"]!.GetValue<string>() == Advisory)!;
        Assert.Equal(EnclaveReleaseBuilds.OldProtobuf, resolved["version"]!.GetValue<string>());
        Assert.Equal("critical", resolved["severity"]!["rating"]!.GetValue<string>());
        var status = await _steps.CliAsync(admin, "upgrade", "status");
        Assert.True(status.Code == 0, status.Error);
        Assert.Contains($"staged        {EnclaveReleaseBuilds.NewVersion} ", status.Out, StringComparison.Ordinal);
        Assert.Contains($"  {Advisory}  pkg:nuget/Google.Protobuf@{EnclaveReleaseBuilds.OldProtobuf}  critical", status.Out, StringComparison.Ordinal);
        Assert.StartsWith($"enclave {EnclaveReleaseBuilds.OldVersion} ", RunCurrent("version"), StringComparison.Ordinal);

        var applied = await _steps.CliAsync(admin, "upgrade", "apply", EnclaveReleaseBuilds.NewVersion, "--json");
        Assert.True(applied.Code == 0, applied.Error);
        Assert.Equal(Path.Combine("releases", EnclaveReleaseBuilds.NewVersion), new FileInfo(Path.Combine(InstallRoot, "current")).LinkTarget);
        Assert.Equal(Path.Combine("releases", EnclaveReleaseBuilds.OldVersion), new FileInfo(Path.Combine(InstallRoot, "previous")).LinkTarget);
        Assert.StartsWith($"enclave {EnclaveReleaseBuilds.NewVersion} ", RunCurrent("version"), StringComparison.Ordinal);

        // Back to 1.0.0; then a re-staged 1.0.1 whose library is altered on disk is refused and 1.0.0 stays current.
        var rolledBack = await _steps.CliAsync(admin, "upgrade", "rollback");
        Assert.True(rolledBack.Code == 0, rolledBack.Error);
        Assert.StartsWith($"enclave {EnclaveReleaseBuilds.OldVersion} ", RunCurrent("version"), StringComparison.Ordinal);
        Assert.Equal(0, (await _steps.CliAsync(admin, "upgrade", "stage", EnclaveReleaseBuilds.NewVersion)).Code);
        await File.AppendAllTextAsync(Path.Combine(InstallRoot, "releases", EnclaveReleaseBuilds.NewVersion, "Enclave.Server.dll"), "tampered");
        var refused = await _steps.CliAsync(admin, "upgrade", "apply");
        Assert.NotEqual(0, refused.Code);
        Assert.Contains("Enclave.Server.dll changed", refused.Error, StringComparison.Ordinal);
        Assert.Equal(Path.Combine("releases", EnclaveReleaseBuilds.OldVersion), new FileInfo(Path.Combine(InstallRoot, "current")).LinkTarget);
        Assert.StartsWith($"enclave {EnclaveReleaseBuilds.OldVersion} ", RunCurrent("version"), StringComparison.Ordinal);

        var upgrades = Entries().Where(e => e.Type.StartsWith("upgrade.", StringComparison.Ordinal)).ToList();
        Assert.Equal(
            ["upgrade.staged", "upgrade.applied", "upgrade.staged", "upgrade.applied", "upgrade.rolled_back", "upgrade.staged", "upgrade.failed"],
            upgrades.Select(e => e.Type));
        Assert.Equal(Advisory, upgrades[2].Details!.Value.GetProperty("resolves")[0].GetString());
        Assert.Equal(("1.0.0", "1.0.1"), (upgrades[3].Details!.Value.GetProperty("from").GetString(), upgrades[3].Details!.Value.GetProperty("to").GetString()));
        Assert.Equal(("apply", "tampered", "1.0.0"), (upgrades[6].Details!.Value.GetProperty("step").GetString(), upgrades[6].Details!.Value.GetProperty("reason").GetString(), upgrades[6].Details!.Value.GetProperty("current").GetString()));
        Assert.All(upgrades, e => Assert.Equal("user:admin", e.Actor));
    }

    private string Bundle(TrustRepository repo, Passphrase passphrase, string kind, string name, string version, string source, string? sbom)
    {
        var output = Path.Combine(_root, $"{kind}-{name}-{version}.tar");
        Assert.True(repo.CreateBundle(
            new BundleCreateOptions { Kind = kind, Name = name, Version = version, Label = "UNCLASSIFIED", Sources = [source], Output = output, Sbom = sbom },
            passphrase,
            TimeProvider.System).IsComplete);
        return output;
    }

    private string RunCurrent(params string[] args)
    {
        var start = new ProcessStartInfo(Path.Combine(InstallRoot, "current", "enclave")) { RedirectStandardOutput = true, RedirectStandardError = true, UseShellExecute = false };
        foreach (var arg in args)
        {
            start.ArgumentList.Add(arg);
        }

        using var process = Process.Start(start)!;
        var output = process.StandardOutput.ReadToEnd();
        var error = process.StandardError.ReadToEnd();
        Assert.True(process.WaitForExit(TimeSpan.FromMinutes(1)), "current/enclave did not finish within a minute");
        Assert.True(process.ExitCode == 0, $"current/enclave {string.Join(' ', args)} exited {process.ExitCode}: {error}");
        return output;
    }

    private List<Enclave.Core.Audit.AuditEvent> Entries()
    {
        using var reader = LedgerReader.Open(DataDirectory);
        var size = reader.TreeSize();
        return [.. Enumerable.Range(0, (int)size).Select(i => Enclave.Core.Audit.AuditEvent.Parse(reader.ReadEntry(i)))];
    }
}
