using System.IO.Compression;
using System.Text;
using Enclave.Airlock.Scanners;

namespace Enclave.Airlock.Tests.Scanners;

public sealed class PickleScannerTests : IDisposable
{
    private readonly ScannerTestFiles _files = new();
    private readonly PickleScanner _scanner = new();

    public void Dispose() => _files.Dispose();

    // pickle.dumps of a dict {'a': 1, 'b': [1, 2]} at protocol 2.
    private static readonly byte[] BenignDict =
    [
        0x80, 0x02, (byte)'}', (byte)'q', 0x00, (byte)'(',
        (byte)'X', 1, 0, 0, 0, (byte)'a', (byte)'K', 1,
        (byte)'X', 1, 0, 0, 0, (byte)'b', (byte)']', (byte)'q', 1, (byte)'(', (byte)'K', 1, (byte)'K', 2, (byte)'e',
        (byte)'u', (byte)'.',
    ];

    private static byte[] ShortUnicode(string s)
    {
        var bytes = Encoding.UTF8.GetBytes(s);
        return [0x8c, (byte)bytes.Length, .. bytes];
    }

    // The classic payload: cos\nsystem\n(S'echo pwned'\ntR.
    private static readonly byte[] OsSystemProtocol0 = Encoding.ASCII.GetBytes("cos\nsystem\n(S'echo pwned'\ntR.");

    // Protocol 4: STACK_GLOBAL on memoized strings, then REDUCE.
    private static byte[] OsSystemStackGlobal() =>
    [
        0x80, 0x04,
        .. ShortUnicode("os"), 0x94,
        .. ShortUnicode("system"), 0x94,
        0x93, 0x94,
        .. ShortUnicode("echo pwned"), 0x94, 0x85, 0x94,
        (byte)'R', 0x94, (byte)'.',
    ];

    [Fact]
    public void Scan_RejectsOsSystem_ThroughGlobal()
    {
        var result = _scanner.Scan(_files.Write("model.pkl", OsSystemProtocol0));
        Assert.False(result.IsClean);
        Assert.Contains(result.Findings, f => f.Contains("os.system", StringComparison.Ordinal));
    }

    [Fact]
    public void Scan_RejectsOsSystem_ThroughStackGlobal()
    {
        var result = _scanner.Scan(_files.Write("model.pkl", OsSystemStackGlobal()));
        Assert.Contains(result.Findings, f => f.Contains("STACK_GLOBAL", StringComparison.Ordinal) && f.Contains("os.system", StringComparison.Ordinal));
    }

    [Fact]
    public void Scan_TracksTheStack_SoDecoyStringsDoNotHideTheImport()
    {
        byte[] pickle =
        [
            0x80, 0x04,
            .. ShortUnicode("subprocess"), .. ShortUnicode("Popen"),
            .. ShortUnicode("collections"), .. ShortUnicode("OrderedDict"), (byte)'0', (byte)'0',
            0x93, (byte)')', (byte)'R', (byte)'.',
        ];
        var result = _scanner.Scan(_files.Write("model.pkl", pickle));
        Assert.Contains(result.Findings, f => f.Contains("subprocess.Popen", StringComparison.Ordinal));
    }

    [Fact]
    public void Scan_FollowsMemo_ForStackGlobalOperands()
    {
        byte[] pickle =
        [
            0x80, 0x04,
            .. ShortUnicode("builtins"), (byte)'q', 7, (byte)'0',
            .. ShortUnicode("eval"), (byte)'q', 8, (byte)'0',
            (byte)'h', 7, (byte)'h', 8, 0x93,
            .. ShortUnicode("1+1"), 0x85, (byte)'R', (byte)'.',
        ];
        var result = _scanner.Scan(_files.Write("model.pkl", pickle));
        Assert.Contains(result.Findings, f => f.Contains("builtins.eval", StringComparison.Ordinal));
    }

    [Fact]
    public void Scan_RejectsStackGlobalWithNonConstantOperands()
    {
        byte[] pickle = [0x80, 0x04, (byte)'K', 1, (byte)'K', 2, 0x93, (byte)'.'];
        var result = _scanner.Scan(_files.Write("model.pkl", pickle));
        Assert.False(result.IsClean);
    }

    [Theory]
    [InlineData("os", "system", true)]
    [InlineData("posix", "system", true)]
    [InlineData("nt", "system", true)]
    [InlineData("subprocess", "check_output", true)]
    [InlineData("builtins", "exec", true)]
    [InlineData("__builtin__", "eval", true)]
    [InlineData("builtins", "getattr", true)]
    [InlineData("runpy", "run_path", true)]
    [InlineData("operator", "attrgetter", true)]
    [InlineData("torch.hub", "load", true)]
    [InlineData("collections", "OrderedDict", false)]
    [InlineData("torch._utils", "_rebuild_tensor_v2", false)]
    [InlineData("builtins", "set", false)]
    [InlineData("osx_helpers", "anything", false)]
    public void IsDangerous_MatchesTheDenyTable(string module, string name, bool dangerous)
    {
        Assert.Equal(dangerous, PickleScanner.IsDangerous(module, name));
    }

    [Fact]
    public void Scan_PassesBenignPickle()
    {
        var result = _scanner.Scan(_files.Write("model.pkl", BenignDict));
        Assert.True(result.IsClean, string.Join("; ", result.Findings));
    }

    [Fact]
    public void Scan_PassesSafeGlobals()
    {
        byte[] pickle =
        [
            0x80, 0x04, .. ShortUnicode("collections"), .. ShortUnicode("OrderedDict"), 0x93, (byte)')', (byte)'R',
            (byte)'.',
        ];
        var result = _scanner.Scan(_files.Write("model.pkl", pickle));
        Assert.True(result.IsClean, string.Join("; ", result.Findings));
    }

    [Theory]
    [InlineData(1)]
    [InlineData(5)]
    public void Scan_RejectsTruncatedPickle(int drop)
    {
        var result = _scanner.Scan(_files.Write("model.pkl", BenignDict[..^drop]));
        Assert.False(result.IsClean);
    }

    [Fact]
    public void Scan_RejectsOversizedLengthPrefix()
    {
        byte[] pickle = [0x80, 0x04, 0x8e, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0x7f, (byte)'.'];
        Assert.False(_scanner.Scan(_files.Write("model.pkl", pickle)).IsClean);
    }

    [Fact]
    public void Scan_LooksInsideZipBasedPyTorchFiles()
    {
        var evil = _files.Write("evil.pt", Zip(("archive/data.pkl", OsSystemStackGlobal()), ("archive/data/0", new byte[64])));
        var good = _files.Write("good.pt", Zip(("archive/data.pkl", BenignDict), ("archive/data/0", new byte[64])));

        var evilResult = _scanner.Scan(evil);
        Assert.Contains(evilResult.Findings, f => f.Contains("archive/data.pkl", StringComparison.Ordinal) && f.Contains("os.system", StringComparison.Ordinal));
        Assert.True(_scanner.Scan(good).IsClean);
    }

    [Fact]
    public void Scan_IgnoresBinFilesThatAreNotPickles_ButCatchesPickledOnes()
    {
        var raw = _files.Write("weights.bin", Enumerable.Range(0, 4096).Select(i => (byte)(i * 7)).ToArray());
        Assert.True(_scanner.Scan(raw).IsClean);
        Assert.False(_scanner.Scan(_files.Write("pytorch_model.bin", OsSystemProtocol0)).IsClean);
    }

    [Fact]
    public void Applies_ToPickleExtensionsAndProtocolHeader()
    {
        Assert.True(_scanner.Applies(_files.Write("a.pkl", BenignDict)));
        Assert.True(_scanner.Applies(_files.Write("a.data", BenignDict)));
        Assert.False(_scanner.Applies(_files.Write("a.txt", "hello"u8.ToArray())));
    }

    private static byte[] Zip(params (string Name, byte[] Content)[] entries)
    {
        using var stream = new MemoryStream();
        using (var zip = new ZipArchive(stream, ZipArchiveMode.Create, leaveOpen: true))
        {
            foreach (var (name, content) in entries)
            {
                using var entry = zip.CreateEntry(name, CompressionLevel.NoCompression).Open();
                entry.Write(content);
            }
        }

        return stream.ToArray();
    }
}
