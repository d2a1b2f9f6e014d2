using System.Formats.Tar;
using System.Globalization;
using System.Security.Cryptography;
using System.Text;
using Enclave.Core;
using Enclave.Core.Artifacts;
using Enclave.Core.Audit;
using Enclave.Intel.Alerts;
using Enclave.Intel.Upgrades;
using Enclave.Intel.Vulnerabilities.Feeds;
using Enclave.Intel.Vulnerabilities.Findings;
using Enclave.Ledger;
using Enclave.State;
using Enclave.State.Alerts;
using Enclave.State.Vulnerabilities;
using Microsoft.Extensions.Time.Testing;

namespace Enclave.Intel.Tests.Upgrades;

/// <summary>
/// <see cref="UpgradeService"/> over a real install root, a real ledger and the real vulnerability view (Log4Shell from
/// <c>../shared/testdata/intel</c>): releases are folders whose <c>enclave</c> is a shell script answering
/// <c>version --json</c> as the real binary does (the end-to-end test uses two real builds). Every refused or failed step
/// leaves <c>current</c> as it was and is an <c>upgrade.failed</c> entry naming the reason.
/// </summary>
public sealed class UpgradeServiceTests : IAsyncLifetime
{
    private const string Log4Shell = "GHSA-jfh8-c2jp-5v3q";
    private readonly FakeTimeProvider _clock = new(DateTimeOffset.Parse("2022-04-01T00:00:00Z", CultureInfo.InvariantCulture));
    private readonly string _dir = Directory.CreateTempSubdirectory("enclave-upgrade-").FullName;
    private readonly List<UpdateArtifact> _updates = [];
    private readonly TestMeterFactory _meters = new();
    private SqliteLedger _ledger = null!;
    private VulnerabilityFindingsService _findings = null!;
    private string? _faultAt;

    private string Root => Path.Combine(_dir, "install");

    public async Task InitializeAsync()
    {
        SqliteLedger.Initialize(_dir, "test.example/upgrade", postQuantum: false, _clock);
        _ledger = SqliteLedger.Open(new LedgerOptions { DataDirectory = _dir, CheckpointInterval = TimeSpan.Zero }, _clock);
        var factory = EnclaveState.Open(_dir, _clock);
        var data = new SqliteVulnerabilityStore(factory);
        var alertStore = new SqliteAlertStore(factory);
        _findings = new VulnerabilityFindingsService(data, new SqliteVulnerabilityFindingsStore(factory), _ledger, new AlertService(_ledger, alertStore, _clock, new AlertMetrics(_meters, alertStore)), _clock, new VulnerabilityOptions());
        var osv = File.ReadAllBytes(SharedTestData.Intel($"osv/github-advisory-database/{Log4Shell}.json"));
        var feed = Artifact("vulndata", "2022.04", new() { ["osv/" + Log4Shell + ".json"] = osv });
        Assert.NotNull(await new VulnerabilityFeedHook(data, _ledger, _clock).LoadAsync(
            new ArtifactActivation { Kind = "intel", Name = feed.Name, Version = feed.Version, ImportId = feed.ImportId, Folder = feed.Folder, Files = feed.Files, ActivatedBy = "user:approver" },
            default));
    }

    public async Task DisposeAsync()
    {
        await _ledger.DisposeAsync();
        _meters.Dispose();
        try
        {
            Directory.Delete(_dir, recursive: true);
        }
        catch (IOException)
        {
            // Pooled SQLite connections may hold the file a moment longer; temp is cleaned by the OS.
        }
    }

    [Fact]
    public async Task Stage_ShowsTheFindingItResolves_ApplySwitchesCurrent_RollbackReturns_EachStepInTheLedger()
    {
        var service = Service();
        _updates.Add(Release("1.0.0", "2.14.1"));
        await service.StageAsync("1.0.0", null, "user:admin");
        var first = await service.ApplyAsync(null, "user:admin");
        Assert.Null(first.From);
        Assert.Equal("1.0.0", Target("current"));
        _updates.Add(Release("1.0.1", "2.17.1"));

        var staged = await service.StageAsync("1.0.1", null, "user:admin");

        var resolved = Assert.Single(staged.Comparison.Resolves!);
        Assert.Equal((Log4Shell, "2.14.1"), (resolved.AdvisoryId, resolved.Version));
        Assert.Empty(staged.Comparison.Introduces!);
        Assert.Equal("1.0.1", Target("staged"));
        Assert.Equal("1.0.0", Target("current"));
        var stagedEntry = Entry(staged.LedgerIndex);
        Assert.Equal(("upgrade.staged", "user:admin", "release:1.0.1"), (stagedEntry.Type, stagedEntry.Actor, stagedEntry.Subject));
        Assert.Equal(Log4Shell, stagedEntry.Details!.Value.GetProperty("resolves")[0].GetString());
        Assert.Equal("1.0.0", stagedEntry.Details!.Value.GetProperty("running").GetString());
        Assert.Equal(Log4Shell, Assert.Single(service.Status().Comparison!.Resolves!).AdvisoryId);

        var applied = await service.ApplyAsync("1.0.1", "user:admin");

        Assert.Equal(("1.0.0", "1.0.1"), (applied.From!.Version, applied.To.Version));
        Assert.Equal(("1.0.1", "1.0.0"), (Target("current"), Target("previous")));
        Assert.False(File.Exists(Path.Combine(Root, "staged")) || new FileInfo(Path.Combine(Root, "staged")).LinkTarget is not null);
        Assert.Equal("{\"version\":\"1.0.1\"}", RunCurrent());
        var appliedEntry = Entry(applied.LedgerIndex);
        Assert.Equal(("upgrade.applied", "1.0.0", "1.0.1"), (appliedEntry.Type, appliedEntry.Details!.Value.GetProperty("from").GetString(), appliedEntry.Details!.Value.GetProperty("to").GetString()));

        var rolledBack = await service.RollbackAsync("user:admin");

        Assert.Equal(("1.0.0", "1.0.1"), (Target("current"), Target("previous")));
        Assert.Equal("{\"version\":\"1.0.0\"}", RunCurrent());
        Assert.Equal("upgrade.rolled_back", Entry(rolledBack.LedgerIndex).Type);
        Assert.True(Directory.Exists(Path.Combine(Root, "releases", "1.0.1")));
    }

    [Fact]
    public async Task Apply_OfAStagedReleaseWithATamperedFile_IsRefused_AndTheCurrentReleaseIsUntouched()
    {
        var service = await InstalledAsync();
        await service.StageAsync("1.0.1", null, "user:admin");
        File.AppendAllText(Path.Combine(Root, "releases", "1.0.1", "lib", "enclave.dll"), "patched");
        File.WriteAllText(Path.Combine(Root, "releases", "1.0.1", "extra.so"), "planted");

        var e = await Assert.ThrowsAsync<UpgradeException>(() => service.ApplyAsync(null, "user:admin"));

        Assert.Equal(UpgradeFailure.Tampered, e.Reason);
        Assert.Contains("lib/enclave.dll changed", e.Message, StringComparison.Ordinal);
        Assert.Contains("extra.so was added", e.Message, StringComparison.Ordinal);
        AssertUntouched("apply", "tampered");
    }

    [Fact]
    public async Task Apply_WithADiskErrorInjected_LeavesTheCurrentReleaseUntouched()
    {
        var service = await InstalledAsync();
        await service.StageAsync("1.0.1", null, "user:admin");
        _faultAt = "switch.rename";

        var e = await Assert.ThrowsAsync<UpgradeException>(() => service.ApplyAsync(null, "user:admin"));

        Assert.Equal(UpgradeFailure.DiskError, e.Reason);
        AssertUntouched("apply", "disk-error");
        Assert.Equal("1.0.1", Target("staged"));
    }

    [Fact]
    public async Task Stage_OfAReleaseThatFailsItsSelfCheck_StagesNothing()
    {
        var service = await InstalledAsync(newVersionPrints: "0.9.9");

        var e = await Assert.ThrowsAsync<UpgradeException>(() => service.StageAsync("1.0.1", null, "user:admin"));

        Assert.Equal(UpgradeFailure.SelfCheckFailed, e.Reason);
        Assert.Contains("printed version '0.9.9', not 1.0.1", e.Message, StringComparison.Ordinal);
        Assert.False(Directory.Exists(Path.Combine(Root, "releases", "1.0.1")));
        Assert.Empty(Directory.GetDirectories(Path.Combine(Root, "releases"), ".staging-*"));
        Assert.Null(new FileInfo(Path.Combine(Root, "staged")).LinkTarget);
        AssertUntouched("stage", "self-check-failed");
    }

    [Fact]
    public async Task Stage_OfAnUpdateWhoseStoredFileNoLongerMatchesTheAirlockDigest_StagesNothing()
    {
        var service = await InstalledAsync();
        var update = _updates.Single(u => u.Version == "1.0.1");
        var blob = Path.Combine(update.Folder, "enclave-1.0.1.tar");
        var bytes = File.ReadAllBytes(blob);
        bytes[700] ^= 0x20; // one flipped bit inside the executable's content
        File.WriteAllBytes(blob, bytes);

        var e = await Assert.ThrowsAsync<UpgradeException>(() => service.StageAsync("1.0.1", null, "user:admin"));

        Assert.Equal(UpgradeFailure.Tampered, e.Reason);
        Assert.False(Directory.Exists(Path.Combine(Root, "releases", "1.0.1")));
        AssertUntouched("stage", "tampered");
    }

    [Fact]
    public async Task Refusals_NameTheReason_AndChangeNothing()
    {
        var service = Service();
        _updates.Add(Release("1.0.0", "2.14.1") with { Files = [.. Release("1.0.0", "2.14.1", "other").Files.Where(f => !f.RelativePath.StartsWith(".attestations/", StringComparison.Ordinal))] });

        Assert.Equal(UpgradeFailure.NotFound, (await Assert.ThrowsAsync<UpgradeException>(() => service.StageAsync("9.9.9", null, "user:admin"))).Reason);
        Assert.Equal(UpgradeFailure.NoSbom, (await Assert.ThrowsAsync<UpgradeException>(() => service.StageAsync("1.0.0", null, "user:admin"))).Reason);
        Assert.Equal(UpgradeFailure.NothingStaged, (await Assert.ThrowsAsync<UpgradeException>(() => service.ApplyAsync(null, "user:admin"))).Reason);
        Assert.Equal(UpgradeFailure.NoPrevious, (await Assert.ThrowsAsync<UpgradeException>(() => service.RollbackAsync("user:admin"))).Reason);
        Assert.False(Directory.Exists(Path.Combine(Root, "releases")) && Directory.GetDirectories(Path.Combine(Root, "releases")).Length > 0);
        Assert.Equal(["not-found", "no-sbom", "nothing-staged", "no-previous"], Entries("upgrade.failed").Select(e => e.Details!.Value.GetProperty("reason").GetString()));
    }

    public static TheoryData<string, byte[]> BadArchives() => new()
    {
        { "climbs out", Tar(("./enclave", "x", UnixFileMode.None), ("../escape", "planted", UnixFileMode.None)) },
        { "absolute", Tar(("/etc/cron.d/x", "planted", UnixFileMode.None)) },
        { "duplicate", Tar(("./enclave", "x", UnixFileMode.None), ("enclave", "y", UnixFileMode.None)) },
        { "reserved", Tar((".enclave-release.json", "{}", UnixFileMode.None)) },
        { "symlink", SymlinkTar() },
        { "truncated", Tar(("./enclave", new string('x', 4000), UnixFileMode.None))[..3000] },
        { "empty", Tar() },
        { "a file under a file", Tar(("./enclave", "x", UnixFileMode.None), ("./lib", "y", UnixFileMode.None), ("./lib/inner", "z", UnixFileMode.None)) },
        { "a file where a folder was", Tar(("./enclave", "x", UnixFileMode.None), ("./runtimes/native", "y", UnixFileMode.None), ("./runtimes", "z", UnixFileMode.None)) },
        { "no executable at its top", Tar(("./publish/enclave", "x", UnixFileMode.None)) },
        { "not a tar", Encoding.UTF8.GetBytes("this is not an archive, just text that is long enough to fill a header block ............................................................................................................................................................................................................................................................................................................................................................................................................................................................................................") },
    };

    [Theory]
    [MemberData(nameof(BadArchives))]
    public async Task Stage_OfAMalformedOrHostileReleaseArchive_IsRefused_AndLeavesNothingBehind(string why, byte[] archive)
    {
        var service = Service();
        _updates.Add(Artifact("enclave", "2.0.0", new() { ["enclave-2.0.0.tar"] = archive, [".attestations/sbom.cdx.json"] = Encoding.UTF8.GetBytes("{\"bomFormat\":\"CycloneDX\",\"specVersion\":\"1.6\",\"version\":1,\"components\":[]}") }));

        var e = await Assert.ThrowsAsync<UpgradeException>(() => service.StageAsync("2.0.0", null, "user:admin"));

        Assert.True(e.Reason == UpgradeFailure.InvalidRelease, $"{why}: {e.Reason} {e.Message}");
        Assert.False(File.Exists(Path.Combine(_dir, "escape")));
        Assert.Empty(Directory.GetDirectories(Path.Combine(Root, "releases")));
        Assert.Equal("invalid-release", Entries("upgrade.failed").Single().Details!.Value.GetProperty("reason").GetString());
    }

    /// <summary>Archives the release-archive fuzz harness found (gzip-compressed tars with malformed PAX headers).</summary>
    [Theory]
    [InlineData("PAX size field beyond its block (TarReader: InvalidOperationException)", "H4sIAAAAAADkA9LTD0is8EhNTEktKtYzNDU3N9HXY6AyMDcwMDAzMWEA0QYGBui0gYGJOYqNBgbm5mamDAoVKKI04pQWlyQWMRgY0Mj4wQ4MDRUKEksybPX0uYwsFHJLMnNTbQ3NLc3MDA2MTC31jExNzQwMjbgGuzdkAEcm0NMnUyMJ2kD53tzUFD3fw/ggaQZDU2MDUxNDE2MjYwYDAzNDE0MGBVMS7CBb6QjP/4Oi/Dc1Q4m+0fKffsDQAlbmp+Yl5ySWpeKoBswMLUxHq4HhB/T0ofFOQ6+BCnhzzHYfovw3NkUr/81NzA0YFOjSJhvh5b+yon5SZp5+cQZXanJGvgI0MSgY6hnoGYy2+oY/GAz1v6GBIUpAg+p/U5PR/h89gLE5rP4vKs0D9f6K9XMy80ordCvMTQPzEksyy1Jx9Qy9jAwMzEbLiKEN9PRxxzu1fAau/0np/xkaG5gaj/b/6AEGR/mPZfzPaLT8pwcwMSZc/udkJukV5+PqGBoZGVmM1gJDFeAr/yHxTrnPQOU/3vp/AxPU/p+hiaGp2Wj/jx6ACkZDYBSMhg==")]
    [InlineData("PAX mtime beyond Int64 (TarReader: OverflowException)", "H4sIAAAAAAAEA9LTD0is8EhNTEktKtYzNDU3N9HXY6AyMDAwMDAzMWEA0QYGBui0gYGJOYqNBgbm5mamDAoVKKI04pQWlyQWMRgY0Mj4wQ4MDRUKEksybPX0uYwsFHJLMnNTbQ3NLc3MDA2MTC31jExNzQwMjbgGuzdG3Ucm0NMnUyMJ2kD53tzUFD3fw/ggaQZDU2MDUxNDE2MjYwYDAzNDE0MGBVMS7CBb6QjP/4Oi/Dc1Q4m+0fKffsDQAlb+p+Yl5ySWpeKoBswMLUxHq4HhB/T0ofFOQ6+BCnhzzHYfovw3NkUr/81NzA0YFOjSJhvh5b+yon5SZp5+cQZXanJGvgI0MSgY6hnoGYy2+oY/GAz1v6GBIUpAg+p/U5PR/h89gLE5rP4vKvcD9f6K9XMy80ordCvMEksyy1Jx9QzNjAwMzEbLiKEN9PRxxzu1fAau/0np/xkaG5gaj/b/6AEGR/mPZfzPaLT8pwcwMSZc/vRkJukV5+PqGBoZGVmM1gJDFeAr/yHxTrnPQOU/gP9/AxPU/p+hiaGp2Wj/jx6AHvaM2jEKRkNgFIyG")]
    public async Task Stage_OfAnArchiveTheFuzzerFound_IsRefused_AndLeavesNothingBehind(string why, string base64)
    {
        var service = Service();
        _updates.Add(Artifact("enclave", "2.0.0", new() { ["enclave-2.0.0.tar.gz"] = Convert.FromBase64String(base64), [".attestations/sbom.cdx.json"] = Encoding.UTF8.GetBytes("{\"bomFormat\":\"CycloneDX\",\"specVersion\":\"1.6\",\"version\":1,\"components\":[]}") }));

        var e = await Assert.ThrowsAsync<UpgradeException>(() => service.StageAsync("2.0.0", null, "user:admin"));

        Assert.True(e.Reason == UpgradeFailure.InvalidRelease, $"{why}: {e.Reason} {e.Message}");
        Assert.Empty(Directory.GetDirectories(Path.Combine(Root, "releases")));
        Assert.Equal("invalid-release", Entries("upgrade.failed").Single().Details!.Value.GetProperty("reason").GetString());
    }

    private static byte[] SymlinkTar()
    {
        using var buffer = new MemoryStream();
        using (var writer = new TarWriter(buffer, TarEntryFormat.Pax, leaveOpen: true))
        {
            writer.WriteEntry(new PaxTarEntry(TarEntryType.SymbolicLink, "enclave") { LinkName = "/bin/sh" });
        }

        return buffer.ToArray();
    }

    [Theory]
    [InlineData("../escape")]
    [InlineData("..")]
    [InlineData("1.0/../../x")]
    [InlineData("")]
    [InlineData(".hidden")]
    public void ReleaseVersions_ThatAreNotPlainFolderNames_AreRefused(string version) =>
        Assert.False(ReleaseInstaller.ValidVersion(version));

    private async Task<UpgradeService> InstalledAsync(string newVersionPrints = "1.0.1")
    {
        var service = Service();
        _updates.Add(Release("1.0.0", "2.14.1"));
        await service.StageAsync("1.0.0", null, "user:admin");
        await service.ApplyAsync(null, "user:admin");
        _updates.Add(Release("1.0.1", "2.17.1", prints: newVersionPrints));
        return service;
    }

    private void AssertUntouched(string step, string reason)
    {
        Assert.Equal("1.0.0", Target("current"));
        Assert.Equal("{\"version\":\"1.0.0\"}", RunCurrent());
        var failed = Entries("upgrade.failed").Last();
        Assert.Equal((step, reason, "1.0.0"), (failed.Details!.Value.GetProperty("step").GetString(), failed.Details!.Value.GetProperty("reason").GetString(), failed.Details!.Value.GetProperty("current").GetString()));
        Assert.Single(Entries("upgrade.applied"));
    }

    private UpgradeService Service() => new(
        new ReleaseInstaller(Root, TimeSpan.FromSeconds(30), point =>
        {
            if (point == _faultAt)
            {
                throw new IOException($"injected disk error at {point}");
            }
        }),
        () => _updates,
        _findings,
        _ledger,
        _clock);

    // A release as an update bundle carries it: a tar of the publish output (an 'enclave' executable that answers
    // 'version --json', a library) and an SBOM attestation naming log4j-core at the given version.
    private UpdateArtifact Release(string version, string log4j, string? prints = null) => Artifact("enclave", version, new()
    {
        [$"enclave-{version}.tar"] = Tar(
            ("./", null, UnixFileMode.None),
            ("./enclave", $"#!/bin/sh\nif [ \"$1 $2\" = \"version --json\" ]; then echo '{{\"version\":\"{prints ?? version}\"}}'; else exit 2; fi\n", (UnixFileMode)0b111_101_101),
            ("./lib/", null, UnixFileMode.None),
            ("./lib/enclave.dll", "release " + version, (UnixFileMode)0b110_100_100)),
        [".attestations/sbom.cdx.json"] = Encoding.UTF8.GetBytes(
            "{\"bomFormat\":\"CycloneDX\",\"specVersion\":\"1.6\",\"version\":1,\"components\":[{\"type\":\"library\",\"name\":\"log4j-core\",\"purl\":\"pkg:maven/org.apache.logging.log4j/log4j-core@" + log4j + "\"}]}"),
    });

    // A tar archive: (name, content or null for a folder, mode).
    private static byte[] Tar(params (string Name, string? Content, UnixFileMode Mode)[] entries)
    {
        using var buffer = new MemoryStream();
        using (var writer = new TarWriter(buffer, TarEntryFormat.Pax, leaveOpen: true))
        {
            foreach (var (name, content, mode) in entries)
            {
                var entry = new PaxTarEntry(content is null ? TarEntryType.Directory : TarEntryType.RegularFile, name) { Mode = mode == UnixFileMode.None ? (UnixFileMode)0b111_101_101 : mode };
                if (content is not null)
                {
                    entry.DataStream = new MemoryStream(Encoding.UTF8.GetBytes(content));
                }

                writer.WriteEntry(entry);
            }
        }

        return buffer.ToArray();
    }

    private UpdateArtifact Artifact(string name, string version, Dictionary<string, byte[]> files)
    {
        var id = $"imp_{name}_{version}";
        var folder = Path.Combine(_dir, "artifacts", id);
        foreach (var (path, bytes) in files)
        {
            var full = Path.Combine(folder, path);
            Directory.CreateDirectory(Path.GetDirectoryName(full)!);
            File.WriteAllBytes(full, bytes);
        }

        return new UpdateArtifact
        {
            Name = name,
            Version = version,
            ImportId = id,
            Folder = folder,
            Files = [.. files.Select(f => new ArtifactFile(f.Key, new Sha256Digest(SHA256.HashData(f.Value)), f.Value.Length))],
            Activated = _clock.GetUtcNow(),
        };
    }

    private string? Target(string link) => new FileInfo(Path.Combine(Root, link)).LinkTarget is { } target ? Path.GetFileName(target) : null;

    private string RunCurrent()
    {
        var start = new System.Diagnostics.ProcessStartInfo(Path.Combine(Root, "current", "enclave")) { RedirectStandardOutput = true };
        start.ArgumentList.Add("version");
        start.ArgumentList.Add("--json");
        using var process = System.Diagnostics.Process.Start(start)!;
        var output = process.StandardOutput.ReadToEnd().Trim();
        process.WaitForExit();
        return output;
    }

    private AuditEvent Entry(long index) => AuditEvent.Parse(_ledger.ReadEntry(index));

    private List<AuditEvent> Entries(string type) =>
        [.. Enumerable.Range(0, (int)_ledger.Size).Select(i => Entry(i)).Where(e => e.Type == type)];
}
