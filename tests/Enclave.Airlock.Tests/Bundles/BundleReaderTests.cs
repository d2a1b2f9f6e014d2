using System.Formats.Tar;
using System.Text;
using Enclave.Airlock.Bundles;
using Enclave.Core;

namespace Enclave.Airlock.Tests.Bundles;

public sealed class BundleReaderTests : IDisposable
{
    private readonly string _root = Path.Combine(Path.GetTempPath(), "enclave-bundle-tests", Guid.NewGuid().ToString("N"));

    public BundleReaderTests() => Directory.CreateDirectory(_root);

    private string DataDirectory => Path.Combine(_root, "data");

    private string QuarantineRoot => Path.Combine(DataDirectory, "quarantine");

    public void Dispose() => Directory.Delete(_root, recursive: true);

    [Fact]
    public void Read_StreamsDeclaredTargets_IntoQuarantine_AndReturnsMetadataInMemory()
    {
        var archive = new BundleTestArchive()
            .Metadata("metadata/root.json", "{\"signed\":{}}")
            .Target("models/demo/model.onnx", 5000)
            .Target("models/demo/tokenizer.json", 1)
            .Target("sbom.cdx.json", 0);
        var bytes = archive.ToArray();
        var path = WriteBundle(bytes);
        var reported = new List<long>();

        var contents = new BundleReader().Read(path, archive.Expected, DataDirectory, new SyncProgress(reported.Add));

        Assert.StartsWith(QuarantineRoot, contents.QuarantineDirectory, StringComparison.Ordinal);
        Assert.Equal("{\"signed\":{}}", Encoding.UTF8.GetString(contents.Metadata["metadata/root.json"].Span));
        Assert.Equal(3, contents.Targets.Count);
        foreach (var target in contents.Targets)
        {
            Assert.StartsWith(contents.QuarantineDirectory, target.Path, StringComparison.Ordinal);
            var onDisk = File.ReadAllBytes(target.Path);
            Assert.Equal(archive.Expected[target.Name].Length, onDisk.Length);
            Assert.Equal(archive.Expected[target.Name].Sha256, Sha256Digest.Compute(onDisk));
            Assert.Equal(BundleTestArchive.Content(target.Name, onDisk.Length), onDisk);
        }

        Assert.Equal(bytes.Length, contents.ArchiveBytes);
        Assert.NotEmpty(reported);
        Assert.Equal(bytes.Length, reported[^1]);
        Assert.Equal(reported.Order().ToList(), reported);
        Assert.False(Directory.Exists(Path.Combine(contents.QuarantineDirectory, ".incoming")));
    }

    [Theory]
    [InlineData(TarEntryFormat.Ustar)]
    [InlineData(TarEntryFormat.Gnu)]
    [InlineData(TarEntryFormat.Pax)]
    public void Read_AcceptsUstarGnuAndPaxHeaders(TarEntryFormat format)
    {
        var archive = new BundleTestArchive(format).Target("a/b.bin", 1234).Target("a/c/d.bin", 3);
        var contents = new BundleReader().Read(WriteBundle(archive.ToArray()), archive.Expected, DataDirectory);
        Assert.Equal(2, contents.Targets.Count);
    }

    [Theory]
    [InlineData(TarEntryFormat.Ustar, "a/c/", false)]
    [InlineData(TarEntryFormat.Gnu, "a/c/", false)]
    [InlineData(TarEntryFormat.Pax, "a/c/", false)]
    [InlineData(TarEntryFormat.Pax, "a/", true)]
    [InlineData(TarEntryFormat.Pax, "metadata/", false)]
    public void Read_RejectsDirectoryEntries_DeclaredOrNot_AnyMode(TarEntryFormat format, string directory, bool beforeTheFiles)
    {
        // bundle-format.md: regular files only. A directory entry with mode 0777 (world-writable) is the trial's case.
        var archive = new BundleTestArchive(format);
        if (beforeTheFiles)
        {
            archive.Entry(TarEntryType.Directory, directory, e => e.Mode = (UnixFileMode)0x1FF);
        }

        archive.Target("a/b.bin", 1234);
        if (!beforeTheFiles)
        {
            archive.Entry(TarEntryType.Directory, directory, e => e.Mode = (UnixFileMode)0x1FF);
        }

        AssertRejected(BundleRejection.DirectoryEntry, archive.ToArray(), archive.Expected);
    }

    [Fact]
    public void Read_RejectsADirectoryEntryTheExpectedEntriesName()
    {
        var archive = new BundleTestArchive().Entry(TarEntryType.Directory, "a/");
        var expected = new Dictionary<string, ExpectedEntry> { ["a"] = BundleTestArchive.ExpectedFor([]), ["a/"] = BundleTestArchive.ExpectedFor([]) };
        AssertRejected(BundleRejection.DirectoryEntry, archive.ToArray(), expected);
    }

    [Fact]
    public void Read_RejectsAMetadataEntryAfterTheSelector_AsUndeclared()
    {
        var archive = new BundleTestArchive()
            .Metadata("metadata/root.json", "{\"signed\":{}}")
            .Metadata("metadata/bundle.json", "{}")
            .Metadata("metadata/extra.json", "{}")
            .Target("a/b.bin", 10);
        var e = AssertRejected(BundleRejection.UndeclaredEntry, archive.ToArray(), archive.Expected);
        Assert.Contains("metadata/extra.json follows metadata/bundle.json", e.Message, StringComparison.Ordinal);
    }

    [Fact]
    public void Read_AcceptsMetadataEndingWithTheSelector()
    {
        var archive = new BundleTestArchive()
            .Metadata("metadata/root.json", "{\"signed\":{}}")
            .Metadata("metadata/bundle.json", "{}")
            .Target("a/b.bin", 10);
        var contents = new BundleReader().Read(WriteBundle(archive.ToArray()), archive.Expected, DataDirectory);
        Assert.Equal(["metadata/bundle.json", "metadata/root.json"], contents.Metadata.Keys.Order(StringComparer.Ordinal).ToArray());
    }

    [Fact]
    public void Read_AcceptsLongNamesThroughPax()
    {
        var longName = "models/" + new string('x', 150) + "/" + new string('y', 120) + ".bin";
        var archive = new BundleTestArchive().Target(longName, 10);
        var contents = new BundleReader().Read(WriteBundle(archive.ToArray()), archive.Expected, DataDirectory);
        Assert.Equal(longName, contents.Targets[0].Name);
    }

    [Theory]
    [InlineData("models/../../evil.bin")]
    [InlineData("../evil.bin")]
    [InlineData("models/./evil.bin")]
    [InlineData("models//evil.bin")]
    [InlineData("models\\..\\evil.bin")]
    public void Read_RejectsPathTraversal_AndRemovesQuarantine(string name)
    {
        var archive = new BundleTestArchive().Target(name, 10);
        AssertRejected(BundleRejection.PathTraversal, archive.ToArray(), archive.Expected);
    }

    [Theory]
    [InlineData(TarEntryFormat.Pax)]
    [InlineData(TarEntryFormat.Gnu)]
    public void Read_RejectsTraversalHiddenInPaxPathOrGnuLongName(TarEntryFormat format)
    {
        // Longer than the 100-byte name field, so the real name travels in a pax record or a GNU 'L' entry.
        var name = "models/" + new string('x', 120) + "/../../../../etc/cron.d/evil";
        var archive = new BundleTestArchive(format).Target(name, 10);
        AssertRejected(BundleRejection.PathTraversal, archive.ToArray(), archive.Expected);
    }

    [Fact]
    public void Read_RejectsSymlinkWithTraversingTarget_AsLink()
    {
        var archive = new BundleTestArchive().Entry(TarEntryType.SymbolicLink, "models/weights.bin", e => e.LinkName = "../../../../etc/passwd");
        AssertRejected(BundleRejection.Link, archive.ToArray(), new Dictionary<string, ExpectedEntry>());
    }

    [Theory]
    [InlineData("/etc/passwd")]
    [InlineData("C:/Windows/evil.dll")]
    public void Read_RejectsAbsolutePath(string name)
    {
        var archive = new BundleTestArchive().Target(name, 10);
        AssertRejected(BundleRejection.AbsolutePath, archive.ToArray(), archive.Expected);
    }

    [Fact]
    public void Read_RejectsNulInsideHeaderName()
    {
        var header = BundleTestArchive.UstarHeader(Encoding.ASCII.GetBytes("model.bin\0.sh"), '0', 0);
        var archive = new BundleTestArchive().Raw(header);
        var expected = new Dictionary<string, ExpectedEntry> { ["model.bin"] = BundleTestArchive.ExpectedFor([]) };
        AssertRejected(BundleRejection.PathTraversal, archive.ToArray(), expected);
    }

    [Theory]
    [InlineData(TarEntryType.SymbolicLink)]
    [InlineData(TarEntryType.HardLink)]
    public void Read_RejectsLinks(TarEntryType type)
    {
        var archive = new BundleTestArchive()
            .Target("models/a.bin", 10)
            .Entry(type, "models/b.bin", e => e.LinkName = "/etc/shadow");
        AssertRejected(BundleRejection.Link, archive.ToArray(), archive.Expected);
    }

    [Theory]
    [InlineData(TarEntryType.CharacterDevice)]
    [InlineData(TarEntryType.BlockDevice)]
    [InlineData(TarEntryType.Fifo)]
    public void Read_RejectsDeviceFilesAndFifos(TarEntryType type)
    {
        var archive = new BundleTestArchive()
            .Target("models/a.bin", 10)
            .Entry(type, "models/dev", e =>
            {
                if (e is PosixTarEntry posix && type != TarEntryType.Fifo)
                {
                    posix.DeviceMajor = 1;
                    posix.DeviceMinor = 3;
                }
            });
        AssertRejected(BundleRejection.DeviceFile, archive.ToArray(), archive.Expected);
    }

    [Fact]
    public void Read_Cancelled_RemovesQuarantine()
    {
        var archive = new BundleTestArchive().Target("models/a.bin", 10);
        var path = WriteBundle(archive.ToArray());
        using var cancelled = new CancellationTokenSource();
        cancelled.Cancel();

        Assert.ThrowsAny<OperationCanceledException>(() => new BundleReader().Read(path, archive.Expected, DataDirectory, cancellationToken: cancelled.Token));
        AssertQuarantineEmpty();
    }

    [Fact]
    public void Read_RejectsDuplicateEntry()
    {
        var archive = new BundleTestArchive().Target("models/a.bin", 10).Target("models/a.bin", 10);
        AssertRejected(BundleRejection.DuplicateEntry, archive.ToArray(), archive.Expected);
    }

    [Fact]
    public void Read_RejectsFileThatIsAlsoAFolder()
    {
        var archive = new BundleTestArchive().Target("models/a", 10).Target("models/a/b.bin", 10);
        AssertRejected(BundleRejection.DuplicateEntry, archive.ToArray(), archive.Expected);
    }

    [Fact]
    public void Read_RejectsUndeclaredEntry()
    {
        var archive = new BundleTestArchive()
            .Target("models/a.bin", 10)
            .File("models/payload.so", [1, 2, 3], declare: false);
        AssertRejected(BundleRejection.UndeclaredEntry, archive.ToArray(), archive.Expected);
    }

    [Fact]
    public void Read_RejectsEntryLargerThanDeclared_BeforeReadingItsData()
    {
        var archive = new BundleTestArchive().Target("models/a.bin", 4096);
        archive.Expected["models/a.bin"] = archive.Expected["models/a.bin"] with { Length = 100 };
        var bytes = archive.ToArray();

        // Cut the archive inside the data: a reader that read before checking would see truncation instead.
        var cut = bytes.AsSpan(0, bytes.Length - 4096).ToArray();
        AssertRejected(BundleRejection.TooLarge, cut, archive.Expected);
    }

    [Fact]
    public void Read_RejectsEntryShorterThanDeclared()
    {
        var archive = new BundleTestArchive().Target("models/a.bin", 100);
        archive.Expected["models/a.bin"] = archive.Expected["models/a.bin"] with { Length = 101 };
        AssertRejected(BundleRejection.LengthMismatch, archive.ToArray(), archive.Expected);
    }

    [Fact]
    public void Read_RejectsFlippedByte_AsHashMismatch()
    {
        var content = BundleTestArchive.Content("models/a.bin", 3000);
        var archive = new BundleTestArchive().File("models/a.bin", content, declare: true);
        var bytes = archive.ToArray();
        var at = bytes.AsSpan().IndexOf(content.AsSpan(0, 64));
        bytes[at + 1500] ^= 0x01;
        AssertRejected(BundleRejection.HashMismatch, bytes, archive.Expected);
    }

    [Theory]
    [InlineData(1)]
    [InlineData(700)]
    [InlineData(1024)]
    [InlineData(1030)]
    public void Read_RejectsTruncatedArchive(int dropBytes)
    {
        var archive = new BundleTestArchive().Target("models/a.bin", 3000);
        var bytes = archive.ToArray();
        AssertRejected(BundleRejection.Truncated, bytes.AsSpan(0, bytes.Length - dropBytes).ToArray(), archive.Expected);
    }

    [Fact]
    public void Read_RejectsEmptyFile_AsTruncated()
    {
        AssertRejected(BundleRejection.Truncated, [], new Dictionary<string, ExpectedEntry>());
    }

    [Fact]
    public void Read_RejectsHeaderWithBadChecksum()
    {
        var archive = new BundleTestArchive(TarEntryFormat.Ustar).Target("models/a.bin", 10);
        var bytes = archive.ToArray();
        bytes[3] ^= 0x20;
        AssertRejected(BundleRejection.Malformed, bytes, archive.Expected);
    }

    [Fact]
    public void Read_RejectsGarbageAfterEndMarker()
    {
        var archive = new BundleTestArchive().Target("models/a.bin", 10);
        var bytes = archive.ToArray().Concat(new byte[] { 1, 2, 3 }).ToArray();
        AssertRejected(BundleRejection.Malformed, bytes, archive.Expected);
    }

    [Fact]
    public void Read_RejectsMoreEntriesThanTheBound()
    {
        var archive = new BundleTestArchive().Target("a", 1).Target("b", 1).Target("c", 1);
        AssertRejected(BundleRejection.TooManyEntries, archive.ToArray(), archive.Expected, new BundleReaderOptions { MaxEntries = 2 });
    }

    [Fact]
    public void Read_RejectsOversizedPaxHeader()
    {
        var archive = new BundleTestArchive()
            .Entry(TarEntryType.RegularFile, "models/a.bin", e =>
            {
                ((PaxTarEntry)e).DataStream = new MemoryStream([]);
            });
        var bytes = archive.ToArray();
        var big = new PaxTarEntry(TarEntryType.RegularFile, "models/b.bin", new Dictionary<string, string> { ["comment"] = new string('A', 100_000) });
        using var stream = new MemoryStream();
        using (var writer = new TarWriter(stream, leaveOpen: true))
        {
            writer.WriteEntry(big);
        }

        var expected = new Dictionary<string, ExpectedEntry>
        {
            ["models/a.bin"] = BundleTestArchive.ExpectedFor([]),
            ["models/b.bin"] = BundleTestArchive.ExpectedFor([]),
        };
        AssertRejected(BundleRejection.TooLarge, stream.ToArray(), expected);
        Assert.NotEmpty(bytes);
    }

    [Fact]
    public void Read_RejectsMalformedPaxRecord()
    {
        var pax = Encoding.ASCII.GetBytes("99 path=models/a.bin\n");
        var header = BundleTestArchive.UstarHeader(Encoding.ASCII.GetBytes("PaxHeaders/a"), 'x', pax.Length);
        var padded = new byte[512];
        pax.CopyTo(padded, 0);
        var file = BundleTestArchive.UstarHeader(Encoding.ASCII.GetBytes("models/a.bin"), '0', 0);
        var archive = new BundleTestArchive().Raw(header).Raw(padded).Raw(file);
        var expected = new Dictionary<string, ExpectedEntry> { ["models/a.bin"] = BundleTestArchive.ExpectedFor([]) };
        AssertRejected(BundleRejection.Malformed, archive.ToArray(), expected);
    }

    [Theory]
    [InlineData('x', "path=models/a.bin", "path=models/b.bin", BundleRejection.Malformed)]
    [InlineData('x', "size=5", "size=0", BundleRejection.Malformed)]
    [InlineData('x', "GNU.sparse.map=0,10", "comment=x", BundleRejection.Malformed)]
    [InlineData('g', "path=models/a.bin", "comment=x", BundleRejection.Malformed)]
    [InlineData('x', "path=models/a.bin\0.sh", "comment=x", BundleRejection.PathTraversal)]
    public void Read_RejectsHostilePaxRecords(char type, string first, string second, BundleRejection reason)
    {
        var records = PaxRecord(first.Replace("\\0", "\0", StringComparison.Ordinal)) + PaxRecord(second);
        var pax = Encoding.UTF8.GetBytes(records);
        var header = BundleTestArchive.UstarHeader(Encoding.ASCII.GetBytes("PaxHeaders/a"), type, pax.Length);
        var padded = new byte[(pax.Length + 511) / 512 * 512];
        pax.CopyTo(padded, 0);
        var file = BundleTestArchive.UstarHeader(Encoding.ASCII.GetBytes("models/a.bin"), '0', 0);
        var archive = new BundleTestArchive().Raw(header).Raw(padded).Raw(file);
        var expected = new Dictionary<string, ExpectedEntry> { ["models/a.bin"] = BundleTestArchive.ExpectedFor([]) };
        AssertRejected(reason, archive.ToArray(), expected);
    }

    private static string PaxRecord(string keyValue)
    {
        var body = " " + keyValue + "\n";
        var length = body.Length + 1;
        while ((length.ToString(System.Globalization.CultureInfo.InvariantCulture) + body).Length != length)
        {
            length++;
        }

        return length.ToString(System.Globalization.CultureInfo.InvariantCulture) + body;
    }

    [Fact]
    public void Read_RejectsMetadataLargerThanTheBound()
    {
        var archive = new BundleTestArchive().Metadata("metadata/targets.json", new string(' ', 2000));
        AssertRejected(BundleRejection.TooLarge, archive.ToArray(), archive.Expected, new BundleReaderOptions { MaxMetadataBytes = 1000 });
    }

    [Fact]
    public void Read_RejectsMissingDeclaredTarget()
    {
        var archive = new BundleTestArchive().Target("models/a.bin", 10);
        archive.Expected["models/b.bin"] = BundleTestArchive.ExpectedFor([1]);
        AssertRejected(BundleRejection.MissingEntry, archive.ToArray(), archive.Expected);
    }

    [Fact]
    public void Read_RejectsMetadataAfterTargets()
    {
        var archive = new BundleTestArchive().Target("models/a.bin", 10).Metadata("metadata/root.json", "{}");
        AssertRejected(BundleRejection.Malformed, archive.ToArray(), archive.Expected);
    }

    [Fact]
    public void Read_AsksResolverAfterMetadata_AndCleansUpWhenItThrows()
    {
        var archive = new BundleTestArchive().Metadata("metadata/root.json", "{}").Target("models/a.bin", 10);
        var path = WriteBundle(archive.ToArray());
        IReadOnlyDictionary<string, ReadOnlyMemory<byte>>? seen = null;

        var contents = new BundleReader().Read(path, metadata => { seen = metadata; return archive.Expected; }, DataDirectory);
        Assert.NotNull(seen);
        Assert.True(seen.ContainsKey("metadata/root.json"));
        Directory.Delete(contents.QuarantineDirectory, recursive: true);

        Assert.Throws<InvalidOperationException>(() =>
            new BundleReader().Read(path, _ => throw new InvalidOperationException("rollback"), DataDirectory));
        AssertQuarantineEmpty();
    }

    [Fact]
    public void Read_JoinsSplitParts_AsOneStream()
    {
        var archive = new BundleTestArchive().Metadata("metadata/root.json", "{}").Target("models/a.bin", 5000).Target("models/b.bin", 777);
        var bytes = archive.ToArray();
        var basePath = Path.Combine(_root, "bundle.tar");
        File.WriteAllBytes(basePath + ".000", bytes[..700]);
        File.WriteAllBytes(basePath + ".001", bytes[700..3001]);
        File.WriteAllBytes(basePath + ".002", bytes[3001..]);

        var fromBase = new BundleReader().Read(basePath, archive.Expected, DataDirectory);
        var fromFirstPart = new BundleReader().Read(basePath + ".000", archive.Expected, DataDirectory);

        Assert.Equal(2, fromBase.Targets.Count);
        Assert.Equal(2, fromFirstPart.Targets.Count);
        Assert.Equal(bytes.Length, fromBase.ArchiveBytes);
        Assert.NotEqual(fromBase.QuarantineDirectory, fromFirstPart.QuarantineDirectory);
    }

    [Fact]
    public void Read_RejectsSplitBundleWithAMissingPart()
    {
        var archive = new BundleTestArchive().Target("models/a.bin", 5000);
        var bytes = archive.ToArray();
        var basePath = Path.Combine(_root, "bundle.tar");
        File.WriteAllBytes(basePath + ".000", bytes[..1000]);
        File.WriteAllBytes(basePath + ".002", bytes[2000..]);

        var e = Assert.Throws<BundleRejectedException>(() => new BundleReader().Read(basePath, archive.Expected, DataDirectory));
        Assert.Equal(BundleRejection.Truncated, e.Reason);
        AssertQuarantineEmpty();
    }

    [Fact]
    public void Read_RejectsSplitBundleCutAtAPartBoundary()
    {
        var archive = new BundleTestArchive().Target("models/a.bin", 5000);
        var bytes = archive.ToArray();
        var basePath = Path.Combine(_root, "bundle.tar");
        File.WriteAllBytes(basePath + ".000", bytes[..1000]);
        File.WriteAllBytes(basePath + ".001", bytes[1000..3000]);

        var e = Assert.Throws<BundleRejectedException>(() => new BundleReader().Read(basePath, archive.Expected, DataDirectory));
        Assert.Equal(BundleRejection.Truncated, e.Reason);
        AssertQuarantineEmpty();
    }

    [Fact]
    public void SweepIncomplete_RemovesAQuarantineLeftByAKilledImport_AndAReimportSucceeds()
    {
        var archive = new BundleTestArchive().Target("models/a.bin", 5000);
        var path = WriteBundle(archive.ToArray());
        var kept = new BundleReader().Read(path, archive.Expected, DataDirectory);

        // What a kill during the copy leaves behind: a quarantine with a partial temp file and no marker.
        var crashed = Path.Combine(QuarantineRoot, "0123456789abcdef0123456789abcdef");
        Directory.CreateDirectory(Path.Combine(crashed, ".incoming"));
        File.WriteAllBytes(Path.Combine(crashed, ".incoming", "0"), new byte[1234]);

        var removed = BundleReader.SweepIncomplete(DataDirectory);

        Assert.Equal([crashed], removed);
        Assert.True(Directory.Exists(kept.QuarantineDirectory));
        var again = new BundleReader().Read(path, archive.Expected, DataDirectory);
        Assert.Single(again.Targets);
        Assert.Empty(BundleReader.SweepIncomplete(DataDirectory));
    }

    [Fact]
    public void Read_CopiesMultiMegabyteTargets_Exactly()
    {
        var archive = new BundleTestArchive().Target("models/big.bin", (3 * 1024 * 1024) + 12345).Target("models/small.bin", 7);
        var contents = new BundleReader().Read(WriteBundle(archive.ToArray()), archive.Expected, DataDirectory);
        Assert.Equal((3 * 1024 * 1024) + 12345, new FileInfo(contents.Targets[0].Path).Length);
        Assert.Equal(BundleTestArchive.Content("models/big.bin", (3 * 1024 * 1024) + 12345), File.ReadAllBytes(contents.Targets[0].Path));
    }

    private string WriteBundle(byte[] bytes)
    {
        var path = Path.Combine(_root, Guid.NewGuid().ToString("N") + ".tar");
        File.WriteAllBytes(path, bytes);
        return path;
    }

    private BundleRejectedException AssertRejected(
        BundleRejection reason,
        byte[] bytes,
        IReadOnlyDictionary<string, ExpectedEntry> expected,
        BundleReaderOptions? options = null)
    {
        var path = WriteBundle(bytes);
        var e = Assert.Throws<BundleRejectedException>(() => new BundleReader(options).Read(path, expected, DataDirectory));
        Assert.True(reason == e.Reason, $"expected {reason}, got {e.Reason}: {e.Detail}");
        Assert.Contains("nothing was imported", e.Message, StringComparison.Ordinal);
        AssertQuarantineEmpty();
        return e;
    }

    private void AssertQuarantineEmpty() =>
        Assert.True(!Directory.Exists(QuarantineRoot) || !Directory.EnumerateFileSystemEntries(QuarantineRoot).Any(), "quarantine directory left behind");

    private sealed class SyncProgress(Action<long> report) : IProgress<long>
    {
        public void Report(long value) => report(value);
    }
}
