using Enclave.Airlock.Bundles;

namespace Enclave.Airlock.Tests.Bundles;

/// <summary>
/// Which files make up a bundle (<see cref="SplitPartsStream.Parts"/>, <see cref="SplitPartsStream.Open"/>): the file
/// itself or its contiguous parts, the part bound at its value and one past it, a gap, names that only look like
/// parts, every refusal's message; and the stream's edges: an empty read, the array overloads, closing a part.
/// </summary>
public sealed class SplitPartsEdgeTests : IDisposable
{
    private readonly string _root = Directory.CreateTempSubdirectory("enclave-split-edge-").FullName;

    public void Dispose() => Directory.Delete(_root, recursive: true);

    private string Write(string name, params byte[] bytes)
    {
        var path = Path.Combine(_root, name);
        File.WriteAllBytes(path, bytes);
        return path;
    }

    private string Base => Path.Combine(_root, "b.tar");

    private static byte[] ReadAll(Stream stream)
    {
        using var copy = new MemoryStream();
        stream.CopyTo(copy);
        return copy.ToArray();
    }

    [Fact]
    public void APlainFile_IsTheWholeBundle_OpenedDirectly_EvenBesideParts()
    {
        var path = Write("b.tar", 1, 2, 3);
        Write("b.tar.000", 9);

        Assert.Equal([path], SplitPartsStream.Parts(path, maxParts: 4));
        using var stream = SplitPartsStream.Open(path, maxParts: 4);
        Assert.IsType<FileStream>(stream);
        Assert.Equal(new byte[] { 1, 2, 3 }, ReadAll(stream));
    }

    [Theory]
    [InlineData("b.tar")]
    [InlineData("b.tar.000")]
    public void Parts_AreFoundFromTheBaseNameOrTheFirstPart_AndReadInOrder(string name)
    {
        Write("b.tar.000", 1);
        Write("b.tar.001", 2, 3);
        Write("b.tar.002", 4);

        Assert.Equal([Base + ".000", Base + ".001", Base + ".002"], SplitPartsStream.Parts(Path.Combine(_root, name), maxParts: 3));
        using var stream = SplitPartsStream.Open(Path.Combine(_root, name), maxParts: 3);
        Assert.IsNotType<FileStream>(stream);
        Assert.Equal(new byte[] { 1, 2, 3, 4 }, ReadAll(stream));
    }

    [Fact]
    public void AFirstPartAlone_IsReadAsASplitBundleOfOnePart()
    {
        var first = Write("b.tar.000", 5, 6);

        Assert.Equal([first], SplitPartsStream.Parts(first, maxParts: 1));
        using var stream = SplitPartsStream.Open(first, maxParts: 1);
        Assert.IsNotType<FileStream>(stream);
        Assert.Equal(new byte[] { 5, 6 }, ReadAll(stream));
        using var byBase = SplitPartsStream.Open(Base, maxParts: 1);
        Assert.Equal(new byte[] { 5, 6 }, ReadAll(byBase));
    }

    [Fact]
    public void MoreThanMaxParts_AreRefused_SayingTheBound()
    {
        Write("b.tar.000", 1);
        Write("b.tar.001", 2);
        Write("b.tar.002", 3);

        Assert.Equal(3, SplitPartsStream.Parts(Base, maxParts: 3).Count);
        var e = Assert.Throws<BundleRejectedException>(() => SplitPartsStream.Parts(Base, maxParts: 2));
        Assert.Equal(BundleRejection.TooManyEntries, e.Reason);
        Assert.Equal($"bundle {Base} has more than 2 parts", e.Detail);
    }

    [Theory]
    [InlineData("b.tar.002", "b.tar.002")]
    [InlineData("b.tar.0001", "b.tar.0001")]
    [InlineData("b.tar.1000", "b.tar.1000")]
    public void APartBeyondAGap_OrANumberedFileAfterTheLastPart_IsRefusedAsTruncated_NamingBoth(string present, string named)
    {
        Write("b.tar.000", 1);
        Write(present, 2);

        var e = Assert.Throws<BundleRejectedException>(() => SplitPartsStream.Parts(Base + ".000", maxParts: 8));

        Assert.Equal(BundleRejection.Truncated, e.Reason);
        Assert.Equal($"bundle part {named} is present but part b.tar.001 is missing; copy every part from the media", e.Detail);
    }

    [Fact]
    public void FilesThatOnlyLookLikeParts_AreIgnored()
    {
        Write("b.tar.000", 1);
        Write("b.tar.01", 2);
        Write("b.tar.+05", 3);
        Write("b.tar. 12", 4);
        Write("b.tar.0a1", 5);
        Write("b.tar.sig", 6);
        Write("c.tar.003", 7);

        Assert.Equal([Base + ".000"], SplitPartsStream.Parts(Base, maxParts: 8));
    }

    [Fact]
    public void AMissingBundle_OrFirstPart_IsNotFound_SayingWhatWasLookedFor()
    {
        var e = Assert.Throws<FileNotFoundException>(() => SplitPartsStream.Parts(Base, maxParts: 8));
        Assert.Equal($"bundle {Base} not found (nor its first part {Base}.000)", e.Message);
        Assert.Equal(Base, e.FileName);

        Write("b.tar.001", 1);
        e = Assert.Throws<FileNotFoundException>(() => SplitPartsStream.Parts(Base + ".000", maxParts: 8));
        Assert.Equal($"bundle part {Base}.000 not found", e.Message);
        Assert.Equal(Base + ".000", e.FileName);
    }

    [Fact]
    public void ArgumentChecks_NameTheirParameter()
    {
        Assert.Equal("path", Assert.Throws<ArgumentException>(() => SplitPartsStream.Parts("", 1)).ParamName);
        Assert.Equal("path", Assert.Throws<ArgumentNullException>(() => SplitPartsStream.Parts(null!, 1)).ParamName);
        Assert.Equal("parts", Assert.Throws<ArgumentNullException>(() => SplitPartsStream.OpenParts(null!)).ParamName);
    }

    [Fact]
    public async Task AnEmptyRead_ReturnsZero_AndSkipsNoPart()
    {
        Write("b.tar.000", 1, 2);
        Write("b.tar.001", 3);
        var progress = new List<long>();

        await using var stream = SplitPartsStream.OpenParts(SplitPartsStream.Parts(Base, 8), new Recorder(progress));

        Assert.Equal(0, stream.Read([]));
        Assert.Equal(0, await stream.ReadAsync(Memory<byte>.Empty));
        var buffer = new byte[8];
        Assert.Equal(2, stream.Read(buffer, 1, 7));
        Assert.Equal(1, await stream.ReadAsync(buffer, 3, 5));
        Assert.Equal(0, stream.Read(buffer, 0, 8));
        Assert.Equal(0, await stream.ReadAsync(buffer, 0, 8));
        Assert.Equal(new byte[] { 0, 1, 2, 3, 0, 0, 0, 0 }, buffer);
        Assert.Equal([2L, 3L], progress);
    }

    [Fact]
    public void Disposing_ClosesThePartBeingRead()
    {
        var first = Write("b.tar.000", 1, 2);
        Write("b.tar.001", 3);
        var stream = SplitPartsStream.OpenParts(SplitPartsStream.Parts(Base, 8));
        Assert.Equal(1, stream.Read(new byte[1]));

        // The part is open for reading with FileShare.Read, which on every platform .NET runs on refuses a writer
        // that shares nothing until the reader closes it.
        Assert.Throws<IOException>(() => new FileStream(first, FileMode.Open, FileAccess.ReadWrite, FileShare.None).Dispose());
        stream.Dispose();
        new FileStream(first, FileMode.Open, FileAccess.ReadWrite, FileShare.None).Dispose();
    }

    [Theory]
    [InlineData(false)]
    [InlineData(true)]
    public async Task APartReadToItsEnd_IsClosed_BeforeTheNextIsRead(bool asynchronously)
    {
        var first = Write("b.tar.000", 1);
        Write("b.tar.001", 2);
        await using var stream = SplitPartsStream.OpenParts(SplitPartsStream.Parts(Base, 8));
        var buffer = new byte[4];

        Assert.Equal(1, asynchronously ? await stream.ReadAsync(buffer) : stream.Read(buffer));
        Assert.Equal(1, asynchronously ? await stream.ReadAsync(buffer) : stream.Read(buffer));

        new FileStream(first, FileMode.Open, FileAccess.ReadWrite, FileShare.None).Dispose();
    }

    private sealed class Recorder(List<long> reports) : IProgress<long>
    {
        public void Report(long value) => reports.Add(value);
    }
}
