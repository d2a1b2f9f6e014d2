using System.Text;
using Enclave.Airlock.Scanners;

namespace Enclave.Airlock.Tests.Scanners;

public sealed class GgufScannerTests : IDisposable
{
    private readonly ScannerTestFiles _files = new();
    private readonly GgufScanner _scanner = new();

    public void Dispose() => _files.Dispose();

    [Fact]
    public void Scan_PassesWellFormedHeader()
    {
        var result = _scanner.Scan(_files.Write("m.gguf", Gguf()));
        Assert.True(result.IsClean, string.Join("; ", result.Findings));
    }

    [Fact]
    public void Scan_RejectsBadMagic()
    {
        var bytes = Gguf();
        bytes[0] = (byte)'X';
        Assert.Contains(_scanner.Scan(_files.Write("m.gguf", bytes)).Findings, f => f.Contains("magic", StringComparison.Ordinal));
    }

    [Fact]
    public void Scan_RejectsAbsurdTensorCount()
    {
        Assert.Contains(
            _scanner.Scan(_files.Write("m.gguf", Gguf(tensorCount: 1UL << 40))).Findings,
            f => f.Contains("tensor count", StringComparison.Ordinal));
    }

    [Fact]
    public void Scan_RejectsAbsurdKeyValueCount()
    {
        Assert.Contains(
            _scanner.Scan(_files.Write("m.gguf", Gguf(kvCount: ulong.MaxValue))).Findings,
            f => f.Contains("key-value count", StringComparison.Ordinal));
    }

    [Fact]
    public void Scan_RejectsHugeStringLength()
    {
        Assert.False(_scanner.Scan(_files.Write("m.gguf", Gguf(nameLength: 1UL << 50))).IsClean);
    }

    [Fact]
    public void Scan_RejectsTensorOutsideTheDataSection()
    {
        Assert.Contains(
            _scanner.Scan(_files.Write("m.gguf", Gguf(dataBytes: 16))).Findings,
            f => f.Contains("outside", StringComparison.Ordinal));
    }

    [Fact]
    public void Scan_RejectsUnsupportedVersionAndTruncation()
    {
        Assert.False(_scanner.Scan(_files.Write("v.gguf", Gguf(version: 99))).IsClean);
        Assert.False(_scanner.Scan(_files.Write("t.gguf", Gguf()[..40])).IsClean);
    }

    private static byte[] Gguf(uint version = 3, ulong? tensorCount = null, ulong? kvCount = null, ulong? nameLength = null, int dataBytes = 64)
    {
        using var stream = new MemoryStream();
        using var w = new BinaryWriter(stream);
        w.Write(Encoding.ASCII.GetBytes("GGUF"));
        w.Write(version);
        w.Write(tensorCount ?? 1UL);
        w.Write(kvCount ?? 2UL);

        WriteString(w, "general.architecture", nameLength);
        w.Write(8u);
        WriteString(w, "llama");
        WriteString(w, "tokenizer.ggml.tokens");
        w.Write(9u);
        w.Write(8u);
        w.Write(2UL);
        WriteString(w, "a");
        WriteString(w, "b");

        WriteString(w, "token_embd.weight");
        w.Write(2u);
        w.Write(4UL);
        w.Write(4UL);
        w.Write(0u); // F32: 16 elements, 64 bytes
        w.Write(0UL);

        while (stream.Length % 32 != 0)
        {
            w.Write((byte)0);
        }

        w.Write(new byte[dataBytes]);
        w.Flush();
        return stream.ToArray();
    }

    private static void WriteString(BinaryWriter w, string s, ulong? length = null)
    {
        var bytes = Encoding.UTF8.GetBytes(s);
        w.Write(length ?? (ulong)bytes.Length);
        w.Write(bytes);
    }
}
