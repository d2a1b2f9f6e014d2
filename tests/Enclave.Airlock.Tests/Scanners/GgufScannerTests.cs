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

    [Fact]
    public void Scan_RejectsAKeyThatAppearsTwice()
    {
        var finding = Assert.Single(_scanner.Scan(_files.Write("m.gguf", Gguf(secondKey: "general.architecture"u8.ToArray()))).Findings);
        Assert.Contains("key 'general.architecture' appears twice", finding, StringComparison.Ordinal);
    }

    [Fact]
    public void Scan_RejectsATensorThatAppearsTwice()
    {
        var finding = Assert.Single(_scanner.Scan(_files.Write("m.gguf", Gguf(tensorCount: 2, dataBytes: 128))).Findings);
        Assert.Contains("tensor 'token_embd.weight' appears twice", finding, StringComparison.Ordinal);
        Assert.True(_scanner.Scan(_files.Write("ok.gguf", Gguf(tensorCount: 2, dataBytes: 128, secondTensor: "output.weight"u8.ToArray()))).IsClean);
    }

    [Theory]
    [InlineData("key", "a key is not valid UTF-8")]
    [InlineData("tensor", "a tensor name is not valid UTF-8")]
    [InlineData("value", "the value of 'general.architecture' is not valid UTF-8")]
    [InlineData("surrogate", "the value of 'general.architecture' is not valid UTF-8")]
    [InlineData("truncated", "the value of 'general.architecture' is not valid UTF-8")]
    public void Scan_RejectsInvalidUtf8_InAKeyATensorNameOrAStringValue(string where, string expected)
    {
        byte[] invalid = where switch
        {
            "surrogate" => [(byte)'l', 0xED, 0xA0, 0x80], // a lone surrogate (U+D800) encoded as UTF-8
            "truncated" => [(byte)'l', 0xE2, 0x82], // a three-byte sequence cut after two
            _ => [(byte)'l', 0xFF, (byte)'a'],
        };
        var bytes = where switch
        {
            "key" => Gguf(secondKey: invalid),
            "tensor" => Gguf(tensorName: invalid),
            _ => Gguf(architecture: invalid),
        };
        var finding = Assert.Single(_scanner.Scan(_files.Write("m.gguf", bytes)).Findings);
        Assert.Contains(expected, finding, StringComparison.Ordinal);
        Assert.EndsWith("refused", finding, StringComparison.Ordinal);
    }

    [Fact]
    public void Scan_PassesAnyBytes_InsideAVocabularyArray_AndMultibyteUtf8Values()
    {
        // llama.cpp reads a vocabulary's tokens as byte strings (RWKV's world vocabulary holds raw bytes): only bounded.
        Assert.True(_scanner.Scan(_files.Write("v.gguf", Gguf(token: [0xFF, 0xE2]))).IsClean);
        Assert.True(_scanner.Scan(_files.Write("u.gguf", Gguf(architecture: Encoding.UTF8.GetBytes("llamä-€-𝄞")))).IsClean);
    }

    [Fact]
    public void Scan_RejectsAMisalignedOffset_AndAnUnknownTensorType()
    {
        Assert.Contains("not aligned", Assert.Single(_scanner.Scan(_files.Write("a.gguf", Gguf(offset: 4))).Findings), StringComparison.Ordinal);
        Assert.Contains("unknown type 200", Assert.Single(_scanner.Scan(_files.Write("t.gguf", Gguf(tensorType: 200))).Findings), StringComparison.Ordinal);
    }

    [Fact]
    public void Scan_RejectsAStringValueLongerThanTheLimit_WithoutReadingIt()
    {
        var scanner = new GgufScanner(ContentScanOptions.Default with { MaxGgufStringBytes = 4 });
        Assert.Contains("exceeds the limit of 4", Assert.Single(scanner.Scan(_files.Write("m.gguf", Gguf())).Findings), StringComparison.Ordinal);
    }

    private static byte[] Gguf(uint version = 3, ulong? tensorCount = null, ulong? kvCount = null, ulong? nameLength = null, int dataBytes = 64, byte[]? secondKey = null, byte[]? architecture = null, byte[]? token = null, byte[]? tensorName = null, byte[]? secondTensor = null, ulong offset = 0, uint tensorType = 0)
    {
        using var stream = new MemoryStream();
        using var w = new BinaryWriter(stream);
        w.Write(Encoding.ASCII.GetBytes("GGUF"));
        w.Write(version);
        w.Write(tensorCount ?? 1UL);
        w.Write(kvCount ?? 2UL);

        WriteString(w, "general.architecture", nameLength);
        w.Write(8u);
        WriteBytes(w, architecture ?? "llama"u8.ToArray());
        WriteBytes(w, secondKey ?? "tokenizer.ggml.tokens"u8.ToArray());
        w.Write(9u);
        w.Write(8u);
        w.Write(2UL);
        WriteBytes(w, token ?? "a"u8.ToArray());
        WriteString(w, "b");

        for (ulong t = 0; t < (tensorCount is 2 ? 2UL : 1UL); t++)
        {
            WriteBytes(w, t == 1 && secondTensor is not null ? secondTensor : tensorName ?? "token_embd.weight"u8.ToArray());
            w.Write(2u);
            w.Write(4UL);
            w.Write(4UL);
            w.Write(tensorType); // F32: 16 elements, 64 bytes
            w.Write(offset + (t * 64));
        }

        while (stream.Length % 32 != 0)
        {
            w.Write((byte)0);
        }

        w.Write(new byte[dataBytes]);
        w.Flush();
        return stream.ToArray();
    }

    private static void WriteBytes(BinaryWriter w, byte[] bytes)
    {
        w.Write((ulong)bytes.Length);
        w.Write(bytes);
    }

    private static void WriteString(BinaryWriter w, string s, ulong? length = null)
    {
        var bytes = Encoding.UTF8.GetBytes(s);
        w.Write(length ?? (ulong)bytes.Length);
        w.Write(bytes);
    }
}
