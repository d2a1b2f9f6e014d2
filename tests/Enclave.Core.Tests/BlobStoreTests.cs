using System.Text;
using Enclave.Core.Storage;

namespace Enclave.Core.Tests;

public sealed class BlobStoreTests : IDisposable
{
    private readonly string _data = Directory.CreateTempSubdirectory("enclave-blobs-").FullName;

    public void Dispose() => Directory.Delete(_data, recursive: true);

    private static MemoryStream Bytes(string s) => new(Encoding.UTF8.GetBytes(s));

    [Fact]
    public void Put_StoresUnderShardedDigestPath_ReadOnly_AndReadsBack()
    {
        var store = new BlobStore(_data);
        var digest = Sha256Digest.Compute("hello blob"u8);

        var result = store.Put(Bytes("hello blob"));

        Assert.Equal(digest, result.Digest);
        Assert.True(result.Created);
        Assert.Equal(10, result.Length);
        var hex = digest.ToHex();
        var expectedPath = Path.Combine(_data, "blobs", "sha256", hex[..2], hex[2..4], hex);
        Assert.Equal(expectedPath, store.PathOf(digest));
        Assert.True(File.Exists(expectedPath));
        Assert.Equal("hello blob", File.ReadAllText(expectedPath));
        using (var read = store.OpenRead(digest))
        {
            Assert.Equal(10, read.Length);
        }

        if (!OperatingSystem.IsWindows())
        {
            Assert.Equal(UnixFileMode.UserRead | UnixFileMode.GroupRead | UnixFileMode.OtherRead, File.GetUnixFileMode(expectedPath));
        }

        Assert.Equal([digest], store.Enumerate().ToList());
        Assert.Empty(Directory.GetFiles(Path.Combine(_data, "blobs", ".tmp")));
    }

    [Fact]
    public void Put_SameContentTwice_IsIdempotent()
    {
        var store = new BlobStore(_data);
        var first = store.Put(Bytes("same"));
        var written = File.GetLastWriteTimeUtc(store.PathOf(first.Digest));

        var second = store.Put(Bytes("same"));
        var third = store.Put(Bytes("same"), first.Digest);

        Assert.False(second.Created);
        Assert.False(third.Created);
        Assert.Equal(first.Digest, second.Digest);
        Assert.Equal(written, File.GetLastWriteTimeUtc(store.PathOf(first.Digest)));
        Assert.Single(store.Enumerate());
        Assert.Empty(Directory.GetFiles(Path.Combine(_data, "blobs", ".tmp")));
    }

    [Fact]
    public void Put_WithWrongExpectedDigest_StoresNothing()
    {
        var store = new BlobStore(_data);
        var wrong = Sha256Digest.Compute("something else"u8);

        var e = Assert.Throws<BlobDigestMismatchException>(() => store.Put(Bytes("content"), wrong));

        Assert.Equal(wrong, e.Expected);
        Assert.Equal(Sha256Digest.Compute("content"u8), e.Actual);
        Assert.Empty(store.Enumerate());
        Assert.False(store.Contains(e.Actual));
        Assert.Empty(Directory.GetFiles(Path.Combine(_data, "blobs", ".tmp")));
    }

    [Fact]
    public void PutFile_VerifiesTheFileAgainstTheDigest()
    {
        var store = new BlobStore(_data);
        var file = Path.Combine(_data, "input.bin");
        File.WriteAllText(file, "file content");

        var ok = store.PutFile(file, Sha256Digest.Compute("file content"u8));
        Assert.True(ok.Created);

        File.WriteAllText(file, "file content, changed after it was verified");
        Assert.Throws<BlobDigestMismatchException>(() => store.PutFile(file, Sha256Digest.Compute("other"u8)));
        Assert.Single(store.Enumerate());
    }

    [Fact]
    public void Put_WhenTheShardFolderCannotBeCreated_FailsAndLeavesNoTemporaryFile()
    {
        var store = new BlobStore(_data);
        var digest = Sha256Digest.Compute("blocked"u8);
        var shard = Path.Combine(_data, "blobs", "sha256", digest.ToHex()[..2]);
        Directory.CreateDirectory(Path.GetDirectoryName(shard)!);
        File.WriteAllText(shard, "a file where the shard folder must go");

        Assert.ThrowsAny<IOException>(() => store.Put(Bytes("blocked")));

        Assert.False(store.Contains(digest));
        Assert.Empty(Directory.GetFiles(Path.Combine(_data, "blobs", ".tmp")));
    }

    [Fact]
    public void Link_CreatesAReadOnlyFileWithTheBlobsContent()
    {
        var store = new BlobStore(_data);
        var put = store.Put(Bytes("linked content"));
        var destination = Path.Combine(_data, "artifact", "model.onnx");
        Directory.CreateDirectory(Path.GetDirectoryName(destination)!);

        store.Link(put.Digest, destination);

        Assert.Equal("linked content", File.ReadAllText(destination));
        if (!OperatingSystem.IsWindows())
        {
            // Permissions, not a write attempt: tests may run as root, which ignores them.
            Assert.Equal(UnixFileMode.UserRead | UnixFileMode.GroupRead | UnixFileMode.OtherRead, File.GetUnixFileMode(destination));
        }

        Assert.Throws<IOException>(() => store.Link(put.Digest, destination));
        Assert.Throws<FileNotFoundException>(() => store.Link(Sha256Digest.Compute("absent"u8), Path.Combine(_data, "x")));
    }

    [Fact]
    public void Delete_RemovesTheBlob_AndSweepRemovesTemporaryFiles()
    {
        var store = new BlobStore(_data);
        var put = store.Put(Bytes("to delete"));
        File.WriteAllText(Path.Combine(_data, "blobs", ".tmp", "leftover"), "killed writer");

        Assert.True(store.Delete(put.Digest));
        Assert.False(store.Delete(put.Digest));
        Assert.False(store.Contains(put.Digest));
        Assert.Equal(1, store.SweepTemporary());
        Assert.Equal(0, store.SweepTemporary());
    }

    [Fact]
    public async Task Put_ConcurrentWritersOfTheSameContent_StoreItOnce()
    {
        var store = new BlobStore(_data);
        var content = new byte[3 * 1024 * 1024];
        new Random(7).NextBytes(content);

        var results = await Task.WhenAll(Enumerable.Range(0, 8).Select(_ => Task.Run(() => store.Put(new MemoryStream(content)))));

        Assert.Single(results.Select(r => r.Digest).Distinct());
        Assert.Single(results, r => r.Created);
        Assert.Equal(content, File.ReadAllBytes(store.PathOf(results[0].Digest)));
        Assert.Empty(Directory.GetFiles(Path.Combine(_data, "blobs", ".tmp")));
    }

    [Fact]
    public async Task SharedStore_WritersOfTheSameContentFromTwoReplicas_StoreItOnce_AndEachSweepsOnlyItsOwnTemporaryFiles()
    {
        var a = new BlobStore(_data, "replica-a");
        var b = new BlobStore(_data, "replica-b");
        var content = new byte[2 * 1024 * 1024];
        new Random(11).NextBytes(content);

        var results = await Task.WhenAll(Enumerable.Range(0, 8).Select(i => Task.Run(() => (i % 2 == 0 ? a : b).Put(new MemoryStream(content)))));

        Assert.Single(results.Select(r => r.Digest).Distinct());
        Assert.Single(results, r => r.Created);
        Assert.True(b.Contains(results[0].Digest));
        Assert.Equal(content, File.ReadAllBytes(a.PathOf(results[0].Digest)));

        var writingA = Path.Combine(_data, "blobs", ".tmp", "replica-a", "in-progress");
        var leftB = Path.Combine(_data, "blobs", ".tmp", "replica-b", "left-over");
        File.WriteAllText(writingA, "replica a is writing");
        File.WriteAllText(leftB, "replica b was killed");
        Assert.Equal(1, b.SweepTemporary());
        Assert.False(File.Exists(leftB));
        Assert.True(File.Exists(writingA));
    }

    [Theory]
    [InlineData("")]
    [InlineData("../escape")]
    [InlineData("a/b")]
    public void SharedStore_RefusesAWriterIdThatIsNotAName(string writer) =>
        Assert.Throws<ArgumentException>(() => new BlobStore(_data, writer));
}
