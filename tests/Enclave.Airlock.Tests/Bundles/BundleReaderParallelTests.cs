using Enclave.Airlock.Bundles;
using Enclave.Core;

namespace Enclave.Airlock.Tests.Bundles;

/// <summary>
/// The reader's parallel path: large targets of a seekable bundle file are copied by workers while the header walk
/// goes on. Results, progress and the reported failure must be those of a sequential reader.
/// </summary>
public sealed class BundleReaderParallelTests : IDisposable
{
    private const int Large = (5 * 1024 * 1024) + 333;
    private readonly string _root = Directory.CreateTempSubdirectory("enclave-bundle-parallel-").FullName;

    private string DataDirectory => Path.Combine(_root, "data");

    public void Dispose() => Directory.Delete(_root, recursive: true);

    private static BundleTestArchive SeveralLargeTargets() => new BundleTestArchive()
        .Metadata("metadata/root.json", "{}")
        .Target("models/a.bin", Large)
        .Target("models/small-1.txt", 10)
        .Target("models/b.bin", Large + 1)
        .Target("models/c.bin", Large + 2)
        .Target("models/small-2.txt", 0)
        .Target("models/d.bin", (3 * 1024 * 1024) - 1);

    private string Write(byte[] bytes)
    {
        var path = Path.Combine(_root, Guid.NewGuid().ToString("N") + ".tar");
        File.WriteAllBytes(path, bytes);
        return path;
    }

    private static int DataOffset(byte[] archive, string name)
    {
        var start = BundleTestArchive.Content(name, 4096);
        var at = archive.AsSpan().IndexOf(start);
        Assert.True(at > 0, $"content of {name} not found");
        return at;
    }

    private BundleRejectedException Rejected(byte[] bytes, IReadOnlyDictionary<string, ExpectedEntry> expected)
    {
        var e = Assert.Throws<BundleRejectedException>(() => new BundleReader().Read(Write(bytes), expected, DataDirectory));
        var quarantine = Path.Combine(DataDirectory, "quarantine");
        Assert.True(!Directory.Exists(quarantine) || !Directory.EnumerateFileSystemEntries(quarantine).Any(), "quarantine directory left behind");
        return e;
    }

    [Fact]
    public void Read_CopiesSeveralLargeTargets_ExactlyAndInArchiveOrder_WithOrderedProgress()
    {
        var archive = SeveralLargeTargets();
        var bytes = archive.ToArray();
        var reported = new List<long>();

        var contents = new BundleReader().Read(Write(bytes), archive.Expected, DataDirectory, new SyncProgress(reported.Add));

        Assert.Equal(["models/a.bin", "models/small-1.txt", "models/b.bin", "models/c.bin", "models/small-2.txt", "models/d.bin"], contents.Targets.Select(t => t.Name));
        foreach (var target in contents.Targets)
        {
            var onDisk = File.ReadAllBytes(target.Path);
            Assert.Equal(BundleTestArchive.Content(target.Name, onDisk.Length), onDisk);
            Assert.Equal(archive.Expected[target.Name].Length, onDisk.Length);
            Assert.Equal(archive.Expected[target.Name].Sha256, target.Sha256);
        }

        Assert.Equal(bytes.Length, contents.ArchiveBytes);
        Assert.Equal(bytes.Length, reported[^1]);
        Assert.Equal(reported.Order().ToList(), reported);
        Assert.False(Directory.Exists(Path.Combine(contents.QuarantineDirectory, ".incoming")));
    }

    [Fact]
    public void Read_FromAForwardOnlyStream_CopiesLargeTargetsExactly()
    {
        var archive = SeveralLargeTargets();
        using var stream = new ForwardOnlyStream(new MemoryStream(archive.ToArray()));

        var contents = new BundleReader().Read(stream, _ => archive.Expected, DataDirectory);

        Assert.Equal(6, contents.Targets.Count);
        Assert.Equal(BundleTestArchive.Content("models/c.bin", Large + 2), File.ReadAllBytes(contents.Targets[3].Path));
    }

    [Fact]
    public void Read_ReportsTheEarliestTamperedTarget_WhenSeveralAreCopiedAtOnce()
    {
        var archive = SeveralLargeTargets();
        var bytes = archive.ToArray();
        bytes[DataOffset(bytes, "models/c.bin") + 100] ^= 1;
        bytes[DataOffset(bytes, "models/b.bin") + Large - 5] ^= 1;

        var e = Rejected(bytes, archive.Expected);

        Assert.Equal(BundleRejection.HashMismatch, e.Reason);
        Assert.Contains("models/b.bin", e.Detail, StringComparison.Ordinal);
    }

    [Fact]
    public void Read_ReportsATamperedLargeTarget_BeforeALaterMalformedHeader()
    {
        var archive = SeveralLargeTargets();
        var bytes = archive.ToArray();
        bytes[DataOffset(bytes, "models/a.bin") + 7] ^= 0x80;
        var laterHeader = DataOffset(bytes, "models/d.bin") - 512;
        bytes[laterHeader + 148] ^= 1; // breaks the checksum of d.bin's header

        var e = Rejected(bytes, archive.Expected);

        Assert.Equal(BundleRejection.HashMismatch, e.Reason);
        Assert.Contains("models/a.bin", e.Detail, StringComparison.Ordinal);
    }

    [Fact]
    public void Read_RejectsAnArchiveCutInsideALargeTarget_AsTruncated()
    {
        var archive = SeveralLargeTargets();
        var bytes = archive.ToArray();
        var cut = bytes[..(DataOffset(bytes, "models/b.bin") + (Large / 2))];

        var e = Rejected(cut, archive.Expected);

        Assert.Equal(BundleRejection.Truncated, e.Reason);
        Assert.Contains("models/b.bin", e.Detail, StringComparison.Ordinal);
    }

    [Fact]
    public void Read_RejectsALargeTargetWithAnotherDigest_EvenWhenEverythingAfterIsValid()
    {
        var archive = SeveralLargeTargets();
        var expected = new Dictionary<string, ExpectedEntry>(archive.Expected)
        {
            ["models/c.bin"] = new() { Length = Large + 2, Sha256 = Sha256Digest.Compute([1, 2, 3]) },
        };

        var e = Rejected(archive.ToArray(), expected);

        Assert.Equal(BundleRejection.HashMismatch, e.Reason);
        Assert.Contains("models/c.bin", e.Detail, StringComparison.Ordinal);
    }

    private sealed class SyncProgress(Action<long> report) : IProgress<long>
    {
        public void Report(long value) => report(value);
    }

    private sealed class ForwardOnlyStream(Stream inner) : Stream
    {
        public override bool CanRead => true;

        public override bool CanSeek => false;

        public override bool CanWrite => false;

        public override long Length => throw new NotSupportedException();

        public override long Position { get => throw new NotSupportedException(); set => throw new NotSupportedException(); }

        public override int Read(byte[] buffer, int offset, int count) => inner.Read(buffer, offset, Math.Min(count, 100_000));

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
