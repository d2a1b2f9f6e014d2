using Enclave.Airlock.Bundles;

namespace Enclave.Airlock.Tests.Bundles;

/// <summary>
/// Large targets are written with O_DIRECT on Linux (aligned whole chunks, the last one padded and cut back):
/// the files in quarantine must be byte for byte those of the ordinary page-cache path, whatever the length.
/// </summary>
public sealed class BundleReaderDirectWriteTests : IDisposable
{
    private const int Chunk = 2 * 1024 * 1024;
    private readonly string _root = Directory.CreateTempSubdirectory("enclave-bundle-direct-").FullName;

    public void Dispose() => Directory.Delete(_root, recursive: true);

    private static bool DirectExpected =>
        OperatingSystem.IsLinux() && System.Runtime.InteropServices.RuntimeInformation.ProcessArchitecture
            is System.Runtime.InteropServices.Architecture.X64 or System.Runtime.InteropServices.Architecture.Arm64;

    private static BundleTestArchive AwkwardLengths() => new BundleTestArchive()
        .Metadata("metadata/root.json", "{}")
        .Target("models/one-chunk.bin", Chunk)
        .Target("models/one-chunk-and-a-byte.bin", Chunk + 1)
        .Target("models/two-chunks.bin", 2 * Chunk)
        .Target("models/odd.bin", (2 * Chunk) + 4095)
        .Target("models/block-past.bin", (3 * Chunk) + 4097)
        .Target("models/empty.bin", 0);

    private string WriteArchive(byte[] bytes)
    {
        var path = Path.Combine(_root, Guid.NewGuid().ToString("N") + ".tar");
        File.WriteAllBytes(path, bytes);
        return path;
    }

    private static void AssertExact(BundleTestArchive archive, BundleContents contents)
    {
        Assert.Equal(archive.Expected.Keys.Order(StringComparer.Ordinal), contents.Targets.Select(t => t.Name).Order(StringComparer.Ordinal));
        foreach (var target in contents.Targets)
        {
            var onDisk = File.ReadAllBytes(target.Path);
            Assert.Equal(archive.Expected[target.Name].Length, onDisk.Length);
            Assert.Equal(BundleTestArchive.Content(target.Name, onDisk.Length), onDisk);
            Assert.Equal(archive.Expected[target.Name].Sha256, target.Sha256);
        }
    }

    [Theory]
    [InlineData(true)]
    [InlineData(false)]
    public void Read_SeekableBundle_WritesEveryLengthExactly_WithAndWithoutDirectWrites(bool direct)
    {
        var archive = AwkwardLengths();

        var contents = new BundleReader(new BundleReaderOptions { DirectWrites = direct })
            .Read(WriteArchive(archive.ToArray()), archive.Expected, Path.Combine(_root, "data"));

        AssertExact(archive, contents);
    }

    [Fact]
    public void Read_ForwardOnlyStream_WritesEveryLengthExactly_WithDirectWrites()
    {
        var archive = AwkwardLengths();
        using var stream = new NonSeekable(new MemoryStream(archive.ToArray()));

        var contents = new BundleReader().Read(stream, _ => archive.Expected, Path.Combine(_root, "data"));

        AssertExact(archive, contents);
    }

    [Fact]
    public void Read_QuarantineOnTmpfs_WritesExactly()
    {
        // tmpfs refused O_DIRECT before Linux 6.6 (the fallback path); later kernels accept it. Either way the
        // files must be exact.
        if (!Directory.Exists("/dev/shm"))
        {
            return;
        }

        var shm = Path.Combine("/dev/shm", "enclave-bundle-direct-" + Guid.NewGuid().ToString("N"));
        try
        {
            var archive = AwkwardLengths();
            var contents = new BundleReader().Read(WriteArchive(archive.ToArray()), archive.Expected, shm);
            AssertExact(archive, contents);
        }
        finally
        {
            if (Directory.Exists(shm))
            {
                Directory.Delete(shm, recursive: true);
            }
        }
    }

    [Theory]
    [InlineData(1)]
    [InlineData(4095)]
    [InlineData(4096 * 3)]
    public void Read_ArchiveCutDuringADirectWrite_IsTruncated_AndLeavesNothing(int keptAfterFirstChunk)
    {
        var archive = new BundleTestArchive()
            .Metadata("metadata/root.json", "{}")
            .Target("models/big.bin", (3 * Chunk) + 777);
        var bytes = archive.ToArray();
        var start = bytes.AsSpan().IndexOf(BundleTestArchive.Content("models/big.bin", 4096));
        var cut = bytes[..(start + Chunk + keptAfterFirstChunk)];
        var data = Path.Combine(_root, "data");

        var e = Assert.Throws<BundleRejectedException>(() => new BundleReader().Read(WriteArchive(cut), archive.Expected, data));

        Assert.Equal(BundleRejection.Truncated, e.Reason);
        Assert.Contains("models/big.bin", e.Detail, StringComparison.Ordinal);
        var quarantine = Path.Combine(data, "quarantine");
        Assert.True(!Directory.Exists(quarantine) || !Directory.EnumerateFileSystemEntries(quarantine).Any(), "quarantine directory left behind");
    }

    [Theory]
    [InlineData(0)]
    [InlineData(1)]
    [InlineData(4096)]
    [InlineData(Chunk)]
    [InlineData(Chunk + 1)]
    [InlineData((2 * Chunk) + 4095)]
    public void QuarantineFile_WritesExactLength_DirectWhereTheFilesystemAllows(int length)
    {
        var path = Path.Combine(_root, "target-" + length);
        var content = BundleTestArchive.Content("t", length);
        using (var file = QuarantineFile.Create(path, length, tryDirect: true))
        {
            Assert.Equal(DirectExpected, file.IsDirect);
            var buffer = QuarantineFile.AllocateAligned(Chunk + QuarantineFile.Alignment);
            for (var done = 0; done < length; done += Chunk)
            {
                var n = Math.Min(Chunk, length - done);
                content.AsSpan(done, n).CopyTo(buffer.Span);
                buffer.Span[n..].Fill(0xEE); // stale bytes from an earlier chunk must not reach the file
                file.Append(buffer, n);
            }

            file.Complete(flushToDisk: true);
        }

        Assert.Equal(content, File.ReadAllBytes(path));
    }

    [Fact]
    public void QuarantineFile_DirectWriteRefused_FallsBackToThePageCache_AndWritesExactly()
    {
        // A misaligned buffer makes a real filesystem refuse the direct write (EINVAL), as one needing a larger
        // alignment would: the file switches to ordinary writes and the bytes are still exact.
        var path = Path.Combine(_root, "refused");
        var length = (2 * 4096) + 10;
        var content = BundleTestArchive.Content("r", length);
        using (var file = QuarantineFile.Create(path, length, tryDirect: true))
        {
            if (!file.IsDirect)
            {
                return; // no direct writes on this platform: nothing to refuse
            }

            var misaligned = QuarantineFile.AllocateAligned(length + 4096 + 1)[1..];
            content.AsSpan(0, 4096).CopyTo(misaligned.Span);
            file.Append(misaligned, 4096);
            Assert.False(file.IsDirect);
            content.AsSpan(4096).CopyTo(misaligned.Span);
            misaligned.Span[(length - 4096)..].Fill(0xEE);
            file.Append(misaligned, length - 4096);
            file.Complete(flushToDisk: true);
        }

        Assert.Equal(content, File.ReadAllBytes(path));
    }

    [Fact]
    public void QuarantineFile_WithoutDirect_IsAnOrdinaryFile()
    {
        var path = Path.Combine(_root, "plain");
        using (var file = QuarantineFile.Create(path, 5, tryDirect: false))
        {
            Assert.False(file.IsDirect);
            file.Append(new byte[] { 1, 2, 3, 4, 5 }, 5);
            file.Complete(flushToDisk: false);
        }

        Assert.Equal([1, 2, 3, 4, 5], File.ReadAllBytes(path));
    }

    [Fact]
    public void QuarantineFile_RefusesAnExistingFile_AndLeavesItAlone()
    {
        var path = Path.Combine(_root, "exists");
        File.WriteAllBytes(path, [9, 9, 9]);

        Assert.ThrowsAny<IOException>(() => QuarantineFile.Create(path, 10, tryDirect: true));

        Assert.Equal([9, 9, 9], File.ReadAllBytes(path));
    }

    [Fact]
    public void QuarantineFile_RefusesAPartialChunkBeforeTheEnd_AndAnEarlyComplete()
    {
        var path = Path.Combine(_root, "partial");
        using var file = QuarantineFile.Create(path, 3 * 4096, tryDirect: true);
        var buffer = QuarantineFile.AllocateAligned(3 * 4096);
        if (file.IsDirect)
        {
            Assert.Equal("a partial chunk before the end of a direct write", Assert.Throws<InvalidOperationException>(() => file.Append(buffer, 100)).Message);
        }

        file.Append(buffer, 4096);
        Assert.Equal("target completed after 4096 of 12288 bytes", Assert.Throws<InvalidOperationException>(() => file.Complete(flushToDisk: false)).Message);
        Assert.Equal("write past the declared target length", Assert.Throws<InvalidOperationException>(() => file.Append(buffer, 3 * 4096)).Message);
    }

    [Fact]
    public void AllocateAligned_ReturnsAnAlignedBufferOfTheLength()
    {
        var buffer = QuarantineFile.AllocateAligned(Chunk);
        Assert.True(System.Runtime.InteropServices.MemoryMarshal.TryGetArray<byte>(buffer, out var segment));
        var address = System.Runtime.InteropServices.Marshal.UnsafeAddrOfPinnedArrayElement(segment.Array!, segment.Offset);
        Assert.Equal(0, address % QuarantineFile.Alignment);

        Assert.Equal(Chunk, buffer.Length);
    }

    private sealed class NonSeekable(Stream inner) : Stream
    {
        public override bool CanRead => true;

        public override bool CanSeek => false;

        public override bool CanWrite => false;

        public override long Length => throw new NotSupportedException();

        public override long Position { get => throw new NotSupportedException(); set => throw new NotSupportedException(); }

        public override int Read(byte[] buffer, int offset, int count) => inner.Read(buffer, offset, count);

        public override void Flush()
        {
        }

        public override long Seek(long offset, SeekOrigin origin) => throw new NotSupportedException();

        public override void SetLength(long value) => throw new NotSupportedException();

        public override void Write(byte[] buffer, int offset, int count) => throw new NotSupportedException();

        protected override void Dispose(bool disposing)
        {
            if (disposing)
            {
                inner.Dispose();
            }

            base.Dispose(disposing);
        }
    }
}
