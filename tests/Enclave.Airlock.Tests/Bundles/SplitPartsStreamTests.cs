using System.Security.Cryptography;
using Enclave.Airlock.Bundles;

namespace Enclave.Airlock.Tests.Bundles;

/// <summary>
/// The parts of a split bundle read as one stream: the importer's reader and the CLI's upload (which reports its
/// progress) both read them through <see cref="SplitPartsStream"/>.
/// </summary>
public sealed class SplitPartsStreamTests : IDisposable
{
    private readonly string _root = Directory.CreateTempSubdirectory("enclave-split-parts-").FullName;

    public void Dispose() => Directory.Delete(_root, recursive: true);

    [Theory]
    [InlineData(false)]
    [InlineData(true)]
    public async Task OpenParts_ReadsEveryPartInOrder_AndReportsTheBytesReadSoFar(bool asynchronously)
    {
        var bytes = RandomNumberGenerator.GetBytes(3000);
        var basePath = Path.Combine(_root, "bundle.tar");
        await File.WriteAllBytesAsync(basePath + ".000", bytes[..1000]);
        await File.WriteAllBytesAsync(basePath + ".001", bytes[1000..1001]);
        await File.WriteAllBytesAsync(basePath + ".002", bytes[1001..]);
        var parts = SplitPartsStream.Parts(basePath + ".000", maxParts: 8);
        var progress = new Recorder();

        using var read = new MemoryStream();
        await using (var stream = SplitPartsStream.OpenParts(parts, progress))
        {
            var buffer = new byte[700];
            int n;
            while ((n = asynchronously ? await stream.ReadAsync(buffer) : stream.Read(buffer)) > 0)
            {
                read.Write(buffer, 0, n);
            }
        }

        Assert.Equal(bytes, read.ToArray());
        Assert.Equal(3000, progress.Reports[^1]);
        Assert.True(progress.Reports.SequenceEqual(progress.Reports.Order()) && progress.Reports.Distinct().Count() == progress.Reports.Count, "each report is larger than the one before");
    }

    [Fact]
    public void OpenParts_IsReadOnlyAndForwardOnly()
    {
        File.WriteAllBytes(Path.Combine(_root, "b.000"), [1, 2, 3]);
        using var stream = SplitPartsStream.OpenParts([Path.Combine(_root, "b.000")]);

        Assert.True(stream.CanRead);
        Assert.False(stream.CanWrite);
        Assert.False(stream.CanSeek);
        Assert.Throws<NotSupportedException>(() => stream.Length);
        Assert.Throws<NotSupportedException>(() => stream.Position);
        Assert.Throws<NotSupportedException>(() => stream.Seek(0, SeekOrigin.Begin));
        Assert.Throws<NotSupportedException>(() => stream.SetLength(1));
        Assert.Throws<NotSupportedException>(() => stream.Write([0], 0, 1));
    }

    // Records synchronously (Progress<T> posts to the thread pool, in no guaranteed order).
    private sealed class Recorder : IProgress<long>
    {
        public List<long> Reports { get; } = [];

        public void Report(long value) => Reports.Add(value);
    }
}
