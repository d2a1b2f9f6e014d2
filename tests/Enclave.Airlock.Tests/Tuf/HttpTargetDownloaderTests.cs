using System.Text;
using Enclave.Airlock.Tuf;
using Enclave.Core;

namespace Enclave.Airlock.Tests.Tuf;

/// <summary><see cref="HttpTargetDownloader"/> against Kestrel on loopback: verified, streamed, atomic.</summary>
public sealed class HttpTargetDownloaderTests : IAsyncLifetime, IDisposable
{
    private readonly TufTestRepository _repo = new();
    private readonly string _dir = Directory.CreateTempSubdirectory("enclave-tuf-download-").FullName;
    private HttpRepositoryServer _server = null!;

    public async Task InitializeAsync() => _server = await HttpRepositoryServer.StartAsync(_repo);

    public async Task DisposeAsync() => await _server.DisposeAsync();

    public void Dispose() => Directory.Delete(_dir, recursive: true);

    private HttpTargetDownloader Downloader() => new(new Uri(_server.TargetsUrl), idleTimeout: TimeSpan.FromSeconds(5));

    private TargetFile Listed(string path)
    {
        var updater = _repo.NewUpdater();
        updater.Refresh();
        return updater.RequireTarget(path);
    }

    private string[] LeftInDirectory() => Directory.GetFiles(_dir).Select(Path.GetFileName).Order(StringComparer.Ordinal).ToArray()!;

    [Fact]
    public async Task Download_WritesTheVerifiedBytes_UnderThePercentEncodedPath()
    {
        using var downloader = Downloader();
        var target = Listed("models/demo.onnx");
        var path = Path.Combine(_dir, HttpTargetDownloader.LocalFileName(target.Path));

        await downloader.DownloadAsync(target, consistentSnapshot: false, path);

        Assert.Equal(_repo.Targets["models/demo.onnx"], await File.ReadAllBytesAsync(path));
        Assert.Equal(["models%2Fdemo.onnx"], LeftInDirectory());
        Assert.Equal(["models/demo.onnx"], _server.TargetRequests);
        Assert.True(HttpTargetDownloader.IsCached(target, path));
    }

    [Fact]
    public async Task Download_PrefixesTheFileNameWithItsHash_UnderConsistentSnapshots()
    {
        _repo.ConsistentSnapshot = true;
        _repo.PublishRoot();
        _repo.Publish();
        using var downloader = Downloader();
        var target = Listed("models/demo.onnx");

        await downloader.DownloadAsync(target, consistentSnapshot: true, Path.Combine(_dir, "t"));

        var hash = Sha256Digest.Compute(_repo.Targets["models/demo.onnx"]).ToHex();
        Assert.Equal([$"models/{hash}.demo.onnx"], _server.TargetRequests);
    }

    [Fact]
    public async Task Download_RejectsTamperedContent_AndLeavesTheOldFileAndNoTemporaryFile()
    {
        using var downloader = Downloader();
        var target = Listed("models/demo.onnx");
        var path = Path.Combine(_dir, "demo");
        await File.WriteAllTextAsync(path, "previous version");
        var original = _repo.Targets["models/demo.onnx"];
        var tampered = (byte[])original.Clone();
        tampered[0] ^= 1;
        _server.ArtifactOverrides["models/demo.onnx"] = tampered;

        var e = await Assert.ThrowsAsync<AirlockRejectedException>(() => downloader.DownloadAsync(target, false, path));

        Assert.Equal(AirlockRejection.HashMismatch, e.Reason);
        Assert.Equal("previous version", await File.ReadAllTextAsync(path));
        Assert.Equal(["demo"], LeftInDirectory());
    }

    [Theory]
    [InlineData(-1)]
    [InlineData(1)]
    [InlineData(8 * 1024 * 1024)]
    public async Task Download_RejectsContentOfAnotherLength(int delta)
    {
        using var downloader = Downloader();
        var target = Listed("models/demo.onnx");
        var original = _repo.Targets["models/demo.onnx"];
        _server.ArtifactOverrides["models/demo.onnx"] = delta < 0 ? original[..^1] : [.. original, .. new byte[delta]];

        var e = await Assert.ThrowsAsync<AirlockRejectedException>(() => downloader.DownloadAsync(target, false, Path.Combine(_dir, "demo")));

        Assert.Equal(AirlockRejection.LengthMismatch, e.Reason);
        Assert.Empty(LeftInDirectory());
    }

    [Fact]
    public async Task Download_MissingOnTheServer_IsAFetchFailure()
    {
        using var downloader = Downloader();
        var target = Listed("models/demo.onnx") with { Path = "models/absent.onnx" };

        var e = await Assert.ThrowsAsync<TufFetchException>(() => downloader.DownloadAsync(target, false, Path.Combine(_dir, "x")));

        Assert.Contains("404", e.Message, StringComparison.Ordinal);
        Assert.Empty(LeftInDirectory());
    }

    [Fact]
    public async Task Download_RefusesATargetListingNoSupportedHash()
    {
        using var downloader = Downloader();
        var target = Listed("models/demo.onnx") with { Hashes = new Dictionary<string, string> { ["md5"] = "00" } };

        var e = await Assert.ThrowsAsync<AirlockRejectedException>(() => downloader.DownloadAsync(target, false, Path.Combine(_dir, "x")));

        Assert.Equal(AirlockRejection.HashMismatch, e.Reason);
        Assert.Empty(_server.TargetRequests);
    }

    [Fact]
    public async Task Download_ChecksEveryListedHash()
    {
        using var downloader = Downloader();
        var target = Listed("models/demo.onnx");
        var wrongSha512 = new Dictionary<string, string>(target.Hashes) { ["sha512"] = new string('0', 128) };

        var e = await Assert.ThrowsAsync<AirlockRejectedException>(() => downloader.DownloadAsync(target with { Hashes = wrongSha512 }, false, Path.Combine(_dir, "x")));

        Assert.Equal(AirlockRejection.HashMismatch, e.Reason);
        Assert.Contains("sha512", e.Detail, StringComparison.Ordinal);
    }

    [Theory]
    [InlineData("file.txt", "file.txt")]
    [InlineData("path/to/a/target_file.txt", "path%2Fto%2Fa%2Ftarget_file.txt")]
    [InlineData("../../etc/passwd", "..%2F..%2Fetc%2Fpasswd")]
    [InlineData("..", "%2E%2E")]
    [InlineData(".", "%2E")]
    [InlineData("nonexistent artifact", "nonexistent%20artifact")]
    public void LocalFileName_IsOneSafeSegment(string path, string expected)
    {
        var name = HttpTargetDownloader.LocalFileName(path);

        Assert.Equal(expected, name);
        Assert.Equal(_dir, Path.GetDirectoryName(Path.GetFullPath(Path.Combine(_dir, name))));
    }

    [Fact]
    public void IsCached_IsFalse_ForAFileWithTheRightLengthButOtherBytes()
    {
        var target = Listed("models/demo.onnx");
        var path = Path.Combine(_dir, "demo");
        File.WriteAllBytes(path, Encoding.UTF8.GetBytes(new string('x', (int)target.Length)));

        Assert.False(HttpTargetDownloader.IsCached(target, path));
        Assert.False(HttpTargetDownloader.IsCached(target, Path.Combine(_dir, "absent")));
    }
}
