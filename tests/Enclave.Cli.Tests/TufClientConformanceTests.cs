using System.Text;
using Enclave.Airlock.Tests.Tuf;
using Enclave.Core;

namespace Enclave.Cli.Tests;

/// <summary>
/// <c>enclave tuf-client</c> driven exactly as the tuf-conformance suite drives a client under test (its argument
/// order, its metadata and target directories), against a real HTTP repository on loopback. Each test replays one
/// of the suite's scenarios (named after it) and checks what the suite checks: exit code, the metadata the client
/// trusts on disk, the artifacts it stored, and the requests it made.
/// </summary>
public sealed class TufClientConformanceTests : IAsyncLifetime, IDisposable
{
    private readonly string _temp = Directory.CreateTempSubdirectory("enclave-tuf-client-").FullName;
    private TufTestRepository _repo = null!;
    private HttpRepositoryServer _server = null!;

    private string MetadataDir => Path.Combine(_temp, "metadata");

    private string TargetDir => Path.Combine(_temp, "targets");

    public async Task InitializeAsync()
    {
        Directory.CreateDirectory(MetadataDir);
        Directory.CreateDirectory(TargetDir);
        // The simulator's repositories use consistent snapshots unless a test turns them off.
        _repo = new TufTestRepository { ConsistentSnapshot = true };
        _repo.PublishRoot();
        _repo.Publish();
        _server = await HttpRepositoryServer.StartAsync(_repo);
    }

    public async Task DisposeAsync() => await _server.DisposeAsync();

    public void Dispose() => Directory.Delete(_temp, recursive: true);

    private async Task<CliResult> RunAsync(params string[] args)
    {
        var output = new StringWriter();
        var error = new StringWriter();
        var context = new CliContext
        {
            Out = output,
            Error = error,
            In = new StringReader(string.Empty),
            OpenStandardOutput = () => new MemoryStream(),
            Clock = _repo.Clock,
        };
        var code = await EnclaveCli.RunAsync(["tuf-client", .. args], context);
        return new CliResult(code, output.ToString(), error.ToString(), []);
    }

    private async Task<int> InitAsync(byte[]? root = null)
    {
        var path = Path.Combine(_temp, "initial_root.json");
        await File.WriteAllBytesAsync(path, root ?? _repo.RootV1);
        return (await RunAsync("--metadata-dir", MetadataDir, "init", path)).ExitCode;
    }

    private async Task<int> RefreshAsync() =>
        (await RunAsync("--metadata-url", _server.MetadataUrl, "--metadata-dir", MetadataDir, "refresh")).ExitCode;

    private Task<CliResult> DownloadAsync(string targetName) =>
        RunAsync("--metadata-url", _server.MetadataUrl, "--metadata-dir", MetadataDir, "--target-name", targetName, "--target-dir", TargetDir, "--target-base-url", _server.TargetsUrl, "download");

    private static int Version(byte[] metadata) => (int)(long)TufTestRepository.Parse(metadata)["version"]!;

    private int? Version(string role)
    {
        var path = Path.Combine(MetadataDir, role + ".json");
        return File.Exists(path) ? Version(File.ReadAllBytes(path)) : null;
    }

    /// <summary>As the suite's <c>trusted_roles()</c>: every *.json in the metadata directory with its version.</summary>
    private List<(string Role, int Version)> TrustedRoles() =>
        Directory.GetFiles(MetadataDir, "*.json").Order(StringComparer.Ordinal)
            .Select(f => (Path.GetFileName(f)[..^5], Version(File.ReadAllBytes(f)))).ToList();

    /// <summary>As the suite's <c>get_downloaded_target_bytes()</c> (every file under the target directory).</summary>
    private List<string> Downloaded() =>
        Directory.GetFiles(TargetDir, "*", SearchOption.AllDirectories).OrderBy(File.GetLastWriteTimeUtc)
            .Select(f => Encoding.UTF8.GetString(File.ReadAllBytes(f))).ToList();

    private void AddArtifact(string path, string content, TestDelegation? role = null) =>
        (role?.Targets ?? _repo.Targets)[path] = Encoding.UTF8.GetBytes(content);

    private void BumpRoot()
    {
        _repo.Versions["root"]++;
        _repo.PublishRoot();
    }

    [Fact]
    public async Task BasicInitAndRefresh_MakesTheSpecRequests_AndStoresUnversionedFiles()
    {
        Assert.Equal(0, await InitAsync());
        Assert.Empty(_server.Requests);

        Assert.Equal(0, await RefreshAsync());

        Assert.Equal(["2.root.json", "timestamp.json", "1.snapshot.json", "1.targets.json"], _server.MetadataRequests);
        Assert.Equal([("root", 1), ("snapshot", 1), ("targets", 1), ("timestamp", 1)], TrustedRoles());
        Assert.Equal(_repo.Source.Files["timestamp.json"], await File.ReadAllBytesAsync(Path.Combine(MetadataDir, "timestamp.json")));
    }

    [Fact]
    public async Task InvalidInitialRoot_FailsInit_AndRefreshMakesNoRequest()
    {
        var root = TufTestRepository.Parse(_repo.RootV1);
        root.Remove("version");
        var broken = TufTestRepository.Envelope(root, _repo.Keys["root"]);

        Assert.Equal(1, await InitAsync(broken));
        Assert.Equal(1, await RefreshAsync());
        Assert.Empty(_server.Requests);
        Assert.Empty(TrustedRoles());
    }

    [Fact]
    public async Task UnsignedInitialRoot_FailsInit_AndRefreshMakesNoRequest()
    {
        var unsigned = TufTestRepository.Envelope(_repo.RootSigned(), [TestKey.Ecdsa()]);

        Assert.Equal(1, await InitAsync(unsigned));
        Assert.Equal(1, await RefreshAsync());
        Assert.Empty(_server.Requests);
    }

    [Fact]
    public async Task ImplicitRefresh_DownloadOfAnUnknownTarget_FailsButUpdatesMetadata()
    {
        Assert.Equal(0, await InitAsync());

        var result = await DownloadAsync("nonexistent artifact");

        Assert.Equal(1, result.ExitCode);
        Assert.Contains("UnknownTarget", result.Error, StringComparison.Ordinal);
        Assert.Equal(["2.root.json", "timestamp.json", "1.snapshot.json", "1.targets.json"], _server.MetadataRequests);
        Assert.Equal([("root", 1), ("snapshot", 1), ("targets", 1), ("timestamp", 1)], TrustedRoles());
        Assert.Empty(_server.TargetRequests);
    }

    [Theory]
    [InlineData("target_file.txt")]
    [InlineData("path/to/a/target_file.txt")]
    public async Task ClientDownloadsExpectedFile_UnderAHashPrefixedUrl(string targetPath)
    {
        Assert.Equal(0, await InitAsync());
        AddArtifact(targetPath, "target file contents");
        _repo.Versions["targets"]++;
        _repo.Versions["snapshot"]++;
        _repo.Versions["timestamp"]++;
        _repo.Publish();
        Assert.Equal(0, await RefreshAsync());
        Assert.Empty(Downloaded());

        var result = await DownloadAsync(targetPath);

        Assert.Equal(0, result.ExitCode);
        Assert.Equal(["target file contents"], Downloaded());
        Assert.True(File.Exists(Path.Combine(TargetDir, Uri.EscapeDataString(targetPath))));
        var hash = Sha256Digest.Compute(_repo.Targets[targetPath]).ToHex();
        var slash = targetPath.LastIndexOf('/');
        Assert.Equal([targetPath[..(slash + 1)] + hash + "." + targetPath[(slash + 1)..]], _server.TargetRequests);
    }

    [Fact]
    public async Task RepositorySubstitutesTargetFile_NothingMaliciousIsStored()
    {
        Assert.Equal(0, await InitAsync());
        AddArtifact("target_file.txt", "target file contents");
        AddArtifact("another_target_file.txt", "content");
        _repo.Publish();
        Assert.Equal(0, (await DownloadAsync("target_file.txt")).ExitCode);

        _server.ArtifactOverrides["target_file.txt"] = Encoding.UTF8.GetBytes("malicious data - should not download");
        _server.ArtifactOverrides["another_target_file.txt"] = Encoding.UTF8.GetBytes("malicious data - should not download");

        // Already downloaded with matching hashes: kept, not fetched again.
        var requests = _server.TargetRequests.Count;
        Assert.Equal(0, (await DownloadAsync("target_file.txt")).ExitCode);
        Assert.Equal(requests, _server.TargetRequests.Count);
        var second = await DownloadAsync("another_target_file.txt");

        Assert.Equal(1, second.ExitCode);
        Assert.Contains("LengthMismatch", second.Error, StringComparison.Ordinal);
        Assert.Equal(["target file contents"], Downloaded());
        Assert.Single(Directory.GetFiles(TargetDir)); // no partial file either
    }

    [Fact]
    public async Task MultipleChangesToTarget_TheNewVersionReplacesTheOld_AndATamperedOneNever()
    {
        Assert.Equal(0, await InitAsync());
        AddArtifact("target_file.txt", "target file contents");
        _repo.Publish();
        Assert.Equal(0, (await DownloadAsync("target_file.txt")).ExitCode);

        AddArtifact("target_file.txt", "modified file contents 0");
        _repo.Versions["targets"]++;
        _repo.Versions["snapshot"]++;
        _repo.Versions["timestamp"]++;
        _repo.Publish();
        Assert.Equal(0, (await DownloadAsync("target_file.txt")).ExitCode);
        Assert.Equal(["modified file contents 0"], Downloaded());

        _server.ArtifactOverrides["target_file.txt"] = Encoding.UTF8.GetBytes("malicious contents 0 ----");
        File.Delete(Path.Combine(TargetDir, "target_file.txt"));
        Assert.Equal(1, (await DownloadAsync("target_file.txt")).ExitCode);
        Assert.Empty(Downloaded());
    }

    [Fact]
    public async Task RootRotation_OneOfOneKeyRotation_StoresTheNewRoot()
    {
        Assert.Equal(0, await InitAsync());
        _repo.RotateRoot("root");
        var newKeyOnly = _repo.Keys["root"];
        _repo.Versions["root"]++;
        _repo.PublishRoot(newKeyOnly);

        Assert.Equal(0, await RefreshAsync());

        Assert.Equal(_repo.Source.Files["3.root.json"], await File.ReadAllBytesAsync(Path.Combine(MetadataDir, "root.json")));
        Assert.Equal(["2.root.json", "3.root.json", "4.root.json", "timestamp.json", "1.snapshot.json", "1.targets.json"], _server.MetadataRequests);
    }

    [Fact]
    public async Task RootRotation_NotSignedWithTheOldKey_Fails_AndKeepsTheOldRoot()
    {
        Assert.Equal(0, await InitAsync());
        _repo.Keys["root"] = [TestKey.Ed25519()];
        BumpRoot(); // signed by the new key only

        Assert.Equal(1, await RefreshAsync());

        Assert.Equal(_repo.RootV1, await File.ReadAllBytesAsync(Path.Combine(MetadataDir, "root.json")));
        Assert.Equal([("root", 1)], TrustedRoles());
    }

    [Fact]
    public async Task DuplicateSigKeyids_ARootListingOneKeyIdTwice_IsRefused_AndTheOldRootKept()
    {
        // The suite's duplicate-signature case: root 2 lists the same key's signature twice (key IDs must be unique).
        Assert.Equal(0, await InitAsync());
        var key = _repo.Keys["root"][0];
        _repo.Versions["root"]++;
        _repo.PublishRoot([key, key]);

        Assert.Equal(1, await RefreshAsync());

        Assert.Equal(_repo.RootV1, await File.ReadAllBytesAsync(Path.Combine(MetadataDir, "root.json")));
        Assert.Equal([("root", 1)], TrustedRoles());
    }

    [Fact]
    public async Task DuplicateSigKeyids_ATimestampListingOneKeyIdTwice_IsRefused_AndNotStored()
    {
        Assert.Equal(0, await InitAsync());
        Assert.Equal(0, await RefreshAsync());
        var before = await File.ReadAllBytesAsync(Path.Combine(MetadataDir, "timestamp.json"));
        _repo.Versions["timestamp"]++;
        var timestamp = TufTestRepository.Parse(_repo.Source.Files["timestamp.json"]);
        timestamp["version"] = (long)_repo.Versions["timestamp"];
        var key = _repo.Keys["timestamp"][0];
        _repo.Source.Files["timestamp.json"] = TufTestRepository.Envelope(timestamp, [key, key]);

        Assert.Equal(1, await RefreshAsync());

        Assert.Equal(before, await File.ReadAllBytesAsync(Path.Combine(MetadataDir, "timestamp.json")));
    }

    [Fact]
    public async Task NonRootKeyRotation_NewTimestampKeysInRoot2_AreUsed()
    {
        Assert.Equal(0, await InitAsync());
        Assert.Equal(0, await RefreshAsync());
        _repo.RotateRoot("timestamp");
        _repo.Versions["timestamp"]++;
        _repo.PublishTimestamp();

        Assert.Equal(0, await RefreshAsync());

        Assert.Equal(_repo.Source.Files["timestamp.json"], await File.ReadAllBytesAsync(Path.Combine(MetadataDir, "timestamp.json")));
        Assert.Equal(2, Version("root"));
    }

    [Fact]
    public async Task NewTimestampVersionRollback_IsRefused_AndTheNewerTimestampKept()
    {
        Assert.Equal(0, await InitAsync());
        _repo.Versions["timestamp"] = 2;
        _repo.PublishTimestamp();
        Assert.Equal(0, await RefreshAsync());
        Assert.Equal(2, Version("timestamp"));

        _repo.Versions["timestamp"] = 1;
        _repo.PublishTimestamp();
        var result = await RunAsync("--metadata-url", _server.MetadataUrl, "--metadata-dir", MetadataDir, "refresh");

        Assert.Equal(1, result.ExitCode);
        Assert.Contains("rollback: timestamp version 1 < trusted 2", result.Error, StringComparison.Ordinal);
        Assert.Equal(2, Version("timestamp"));
        Assert.Equal("timestamp.json", _server.MetadataRequests[^1]);
    }

    [Fact]
    public async Task SnapshotRollback_TimestampListingAnOlderSnapshot_IsRefused()
    {
        Assert.Equal(0, await InitAsync());
        _repo.Versions["snapshot"] = 2;
        _repo.Versions["timestamp"] = 2;
        _repo.Publish();
        Assert.Equal(0, await RefreshAsync());

        _repo.Versions["timestamp"] = 3;
        _repo.PublishTimestamp(_repo.Source.Files["1.snapshot.json"], snapshotVersion: 1);

        Assert.Equal(1, await RefreshAsync());
        Assert.Equal(2, Version("timestamp"));
        Assert.Equal(2, Version("snapshot"));
        Assert.Equal("timestamp.json", _server.MetadataRequests[^1]);
    }

    [Fact]
    public async Task TargetsRollback_IsRefused()
    {
        Assert.Equal(0, await InitAsync());
        _repo.Versions["targets"] = 3;
        _repo.Versions["snapshot"] = 2;
        _repo.Versions["timestamp"] = 2;
        _repo.Publish();
        Assert.Equal(0, await RefreshAsync());

        _repo.Versions["targets"] = 2;
        _repo.Versions["snapshot"] = 3;
        _repo.Versions["timestamp"] = 3;
        _repo.Publish();

        Assert.Equal(1, await RefreshAsync());
        Assert.Equal(3, Version("targets"));
    }

    [Fact]
    public async Task TimestampExpired_Freeze_IsRefused_AndTheOldTimestampKept()
    {
        Assert.Equal(0, await InitAsync());
        Assert.Equal(0, await RefreshAsync());
        _repo.Expires["timestamp"] = _repo.Clock.Now.AddDays(-5);
        _repo.Versions["timestamp"] = 2;
        _repo.PublishTimestamp();

        var result = await RunAsync("--metadata-url", _server.MetadataUrl, "--metadata-dir", MetadataDir, "refresh");

        Assert.Equal(1, result.ExitCode);
        Assert.Contains("Freeze", result.Error, StringComparison.Ordinal);
        Assert.Equal(1, Version("timestamp"));
    }

    [Fact]
    public async Task RootExpired_TheNewRootIsStored_ButNothingElseUpdates()
    {
        Assert.Equal(0, await InitAsync());
        Assert.Equal(0, await RefreshAsync());
        BumpRoot(); // v2
        Assert.Equal(0, await RefreshAsync());
        _repo.Expires["root"] = _repo.Clock.Now.AddDays(-1);
        BumpRoot(); // v3, expired
        _repo.Versions["targets"]++;
        _repo.Versions["snapshot"]++;
        _repo.Versions["timestamp"]++;
        _repo.Publish();

        Assert.Equal(1, await RefreshAsync());

        Assert.Equal(3, Version("root"));
        Assert.Equal(1, Version("timestamp"));
        Assert.Equal(1, Version("snapshot"));
    }

    [Fact]
    public async Task SnapshotExpired_IsNotStored()
    {
        Assert.Equal(0, await InitAsync());
        Assert.Equal(0, await RefreshAsync());
        _repo.Expires["snapshot"] = _repo.Clock.Now.AddDays(-5);
        _repo.Versions["snapshot"]++;
        _repo.Versions["timestamp"]++;
        _repo.Publish();

        Assert.Equal(1, await RefreshAsync());

        Assert.Equal(2, Version("timestamp"));
        Assert.Equal(1, Version("snapshot"));
    }

    [Fact]
    public async Task ExpiredLocalMetadata_IsStillUsableToUpdateFrom()
    {
        _repo.Expires["timestamp"] = _repo.Clock.Now.AddDays(7);
        _repo.PublishTimestamp();
        Assert.Equal(0, await InitAsync());
        Assert.Equal(0, await RefreshAsync());
        _repo.Versions["targets"]++;
        _repo.Versions["snapshot"]++;
        _repo.Versions["timestamp"]++;
        _repo.Expires["timestamp"] = _repo.Clock.Now.AddDays(21);
        _repo.Publish();
        _repo.Clock.Now = _repo.Clock.Now.AddDays(18);

        Assert.Equal(0, await RefreshAsync());

        Assert.Equal(2, Version("targets"));
        Assert.Equal(2, Version("snapshot"));
        Assert.Equal(2, Version("timestamp"));
    }

    [Fact]
    public async Task NewSnapshotVersionMismatch_MixAndMatch_KeepsOnlyTheVerifiedTimestamp()
    {
        Assert.Equal(0, await InitAsync());
        _repo.Versions["snapshot"] = 2;
        _repo.Versions["timestamp"] = 2;
        _repo.Publish();
        // The repository serves an old snapshot where the timestamp says version 2 (and its hashes are not listed).
        _repo.PublishTimestamp(_repo.Source.Files["2.snapshot.json"]);
        var timestamp = TufTestRepository.Parse(_repo.Source.Files["timestamp.json"]);
        ((Dictionary<string, object?>)((Dictionary<string, object?>)timestamp["meta"]!)["snapshot.json"]!).Remove("hashes");
        ((Dictionary<string, object?>)((Dictionary<string, object?>)timestamp["meta"]!)["snapshot.json"]!).Remove("length");
        _repo.Source.Files["timestamp.json"] = TufTestRepository.Envelope(timestamp, _repo.Keys["timestamp"]);
        _repo.Source.Files["2.snapshot.json"] = _repo.Source.Files["1.snapshot.json"];

        var result = await RunAsync("--metadata-url", _server.MetadataUrl, "--metadata-dir", MetadataDir, "refresh");

        Assert.Equal(1, result.ExitCode);
        Assert.Contains("MixAndMatch", result.Error, StringComparison.Ordinal);
        Assert.Equal([("root", 1), ("timestamp", 2)], TrustedRoles());
        Assert.Equal("2.snapshot.json", _server.MetadataRequests[^1]);
    }

    [Fact]
    public async Task NewTimestampFastForwardRecovery_AfterTimestampKeyRotation()
    {
        Assert.Equal(0, await InitAsync());
        _repo.Versions["timestamp"] = 100;
        _repo.PublishTimestamp();
        Assert.Equal(0, await RefreshAsync());
        Assert.Equal(100, Version("timestamp"));

        _repo.RotateRoot("timestamp");
        _repo.Versions["timestamp"] = 1;
        _repo.PublishTimestamp();

        Assert.Equal(0, await RefreshAsync());
        Assert.Equal(1, Version("timestamp"));
    }

    [Fact]
    public async Task ConsistentSnapshotOff_FetchesUnversionedFiles_AndPlainTargetUrls()
    {
        _repo.ConsistentSnapshot = false;
        _repo.PublishRoot();
        AddArtifact("dir/file.bin", "plain");
        _repo.Publish();
        Assert.Equal(0, await InitAsync());

        Assert.Equal(0, (await DownloadAsync("dir/file.bin")).ExitCode);

        Assert.Equal(["2.root.json", "timestamp.json", "snapshot.json", "targets.json"], _server.MetadataRequests);
        Assert.Equal(["dir/file.bin"], _server.TargetRequests);
        Assert.Equal(["plain"], Downloaded());
    }

    [Theory]
    [InlineData("?", "%3F")]
    [InlineData("#", "%23")]
    [InlineData("/delegatedrole", "%2Fdelegatedrole")]
    [InlineData("../delegatedrole", "..%2Fdelegatedrole")]
    public async Task UnusualRoleNames_AreQuotedInRequestsAndFileNames(string role, string quoted)
    {
        _repo.Delegations.Add(new TestDelegation { Name = role, Paths = ["*"] });
        _repo.Versions["targets"]++;
        _repo.Publish();
        Assert.Equal(0, await InitAsync());

        Assert.Equal(1, (await DownloadAsync("nonexistent target")).ExitCode);

        Assert.Contains($"1.{quoted}.json", _server.MetadataRequests);
        Assert.Equal(5, TrustedRoles().Count);
        Assert.Contains((quoted, 1), TrustedRoles());
        Assert.Equal(["metadata", "targets"], Directory.GetDirectories(_temp).Select(d => Path.GetFileName(d)!).Order(StringComparer.Ordinal).ToArray());
    }

    [Fact]
    public async Task DelegatedTargets_AreFoundThroughTheDelegationGraph_AndCachedRolesReused()
    {
        var a = new TestDelegation { Name = "a", Paths = ["models/*"] };
        var b = new TestDelegation { Name = "b", Parent = "a", Paths = ["models/*.onnx"] };
        AddArtifact("models/deep.onnx", "deep", b);
        _repo.Delegations.Add(a);
        _repo.Delegations.Add(b);
        _repo.Publish();
        Assert.Equal(0, await InitAsync());

        Assert.Equal(0, (await DownloadAsync("models/deep.onnx")).ExitCode);
        Assert.Equal(["deep"], Downloaded());
        Assert.Equal([("a", 1), ("b", 1), ("root", 1), ("snapshot", 1), ("targets", 1), ("timestamp", 1)], TrustedRoles());

        // A second run loads a and b from the metadata directory instead of fetching them again.
        var before = _server.MetadataRequests.Count;
        Assert.Equal(0, (await DownloadAsync("models/deep.onnx")).ExitCode);
        Assert.Equal(["2.root.json", "timestamp.json"], _server.MetadataRequests.Skip(before).ToArray());
    }

    [Fact]
    public async Task TerminatingDelegation_HidesLaterRoles()
    {
        var first = new TestDelegation { Name = "first", Paths = ["models/*"], Terminating = true };
        var second = new TestDelegation { Name = "second", Paths = ["models/*"] };
        AddArtifact("models/x", "from second", second);
        _repo.Delegations.Add(first);
        _repo.Delegations.Add(second);
        _repo.Publish();
        Assert.Equal(0, await InitAsync());

        Assert.Equal(1, (await DownloadAsync("models/x")).ExitCode);
        Assert.DoesNotContain("1.second.json", _server.MetadataRequests);
    }

    [Fact]
    public async Task HashedBinDelegation_PathHashPrefixes_FindsTheTarget()
    {
        const string path = "bins/artifact.txt";
        var prefix = Sha256Digest.Compute(Encoding.UTF8.GetBytes(path)).ToHex()[..2];
        var other = prefix == "00" ? "01" : "00";
        var wrongBin = new TestDelegation { Name = "bin-" + other, PathHashPrefixes = [other] };
        var rightBin = new TestDelegation { Name = "bin-" + prefix, PathHashPrefixes = [prefix] };
        AddArtifact(path, "binned", rightBin);
        _repo.Delegations.Add(wrongBin);
        _repo.Delegations.Add(rightBin);
        _repo.Publish();
        Assert.Equal(0, await InitAsync());

        Assert.Equal(0, (await DownloadAsync(path)).ExitCode);

        Assert.Equal(["binned"], Downloaded());
        Assert.DoesNotContain($"1.bin-{other}.json", _server.MetadataRequests);
    }

    [Fact]
    public async Task MetadataTooLarge_TimestampBeyondTheLimit_IsRefused()
    {
        var padded = TufTestRepository.Parse(_repo.Source.Files["timestamp.json"]);
        padded["padding"] = new string('x', 20_000);
        _repo.Source.Files["timestamp.json"] = TufTestRepository.Envelope(padded, _repo.Keys["timestamp"]);
        Assert.Equal(0, await InitAsync());

        var result = await RunAsync("--metadata-url", _server.MetadataUrl, "--metadata-dir", MetadataDir, "refresh");

        Assert.Equal(1, result.ExitCode);
        Assert.Contains("Oversized", result.Error, StringComparison.Ordinal);
        Assert.Equal([("root", 1)], TrustedRoles());
    }

    [Fact]
    public async Task SeveralTargetNames_AreAllDownloaded()
    {
        AddArtifact("one", "1");
        AddArtifact("two", "2");
        _repo.Publish();
        Assert.Equal(0, await InitAsync());

        var result = await RunAsync("--metadata-url", _server.MetadataUrl, "--metadata-dir", MetadataDir, "--target-name", "one", "--target-name", "two", "--target-dir", TargetDir, "--target-base-url", _server.TargetsUrl, "download");

        Assert.Equal(0, result.ExitCode);
        Assert.Equal(["1", "2"], Downloaded().Order(StringComparer.Ordinal));
    }

    [Fact]
    public async Task MissingArguments_ExitWithOne()
    {
        Assert.Equal(1, (await RunAsync("--metadata-dir", MetadataDir, "refresh")).ExitCode);
        Assert.Equal(1, (await RunAsync("--metadata-url", _server.MetadataUrl, "--metadata-dir", MetadataDir, "--target-dir", TargetDir, "--target-base-url", _server.TargetsUrl, "download")).ExitCode);
        Assert.Equal(1, (await RunAsync("--metadata-url", "not a url", "--metadata-dir", MetadataDir, "refresh")).ExitCode);
    }

    [Fact]
    public async Task RealProcess_InitRefreshDownload_ExitCodesAsTheSuiteSeesThem()
    {
        // The child process reads the real clock: give every role a month from now.
        foreach (var role in new[] { "root", "timestamp", "snapshot", "targets" })
        {
            _repo.Expires[role] = DateTimeOffset.UtcNow.AddDays(30);
        }

        _repo.PublishRoot();
        AddArtifact("artifact.txt", "real process");
        _repo.Publish();
        var root = Path.Combine(_temp, "initial_root.json");
        await File.WriteAllBytesAsync(root, _repo.RootV1);

        Assert.Equal(0, await RunProcessAsync("--metadata-dir", MetadataDir, "init", root));
        Assert.Equal(0, await RunProcessAsync("--metadata-url", _server.MetadataUrl, "--metadata-dir", MetadataDir, "refresh"));
        Assert.Equal(0, await RunProcessAsync("--metadata-url", _server.MetadataUrl, "--metadata-dir", MetadataDir, "--target-name", "artifact.txt", "--target-dir", TargetDir, "--target-base-url", _server.TargetsUrl, "download"));
        Assert.Equal(1, await RunProcessAsync("--metadata-url", _server.MetadataUrl, "--metadata-dir", MetadataDir, "--target-name", "absent.txt", "--target-dir", TargetDir, "--target-base-url", _server.TargetsUrl, "download"));
        Assert.Equal(["real process"], Downloaded());
    }

    private static async Task<int> RunProcessAsync(params string[] args)
    {
        using var process = CliRunner.Start(["tuf-client", .. args]);
        process.StandardInput.Close();
        var stderr = process.StandardError.ReadToEndAsync();
        await process.StandardOutput.ReadToEndAsync();
        using var deadline = new CancellationTokenSource(TimeSpan.FromMinutes(2));
        await process.WaitForExitAsync(deadline.Token);
        _ = await stderr;
        return process.ExitCode;
    }
}
