using System.Buffers.Binary;
using System.Text;
using Enclave.Airlock.Scanners;

namespace Enclave.Airlock.Tests.Scanners;

public sealed class SafetensorsScannerTests : IDisposable
{
    private readonly ScannerTestFiles _files = new();
    private readonly SafetensorsScanner _scanner = new();

    public void Dispose() => _files.Dispose();

    [Fact]
    public void Scan_PassesWellFormedFile()
    {
        var header = """{"__metadata__":{"format":"pt"},"a":{"dtype":"F32","shape":[2,3],"data_offsets":[0,24]},"b":{"dtype":"BF16","shape":[4],"data_offsets":[24,32]}}""";
        var result = _scanner.Scan(_files.Write("m.safetensors", File(header, 32)));
        Assert.True(result.IsClean, string.Join("; ", result.Findings));
    }

    [Theory]
    [InlineData("""{"a":{"dtype":"F32","shape":[4],"data_offsets":[0,16]},"b\ud800":{"dtype":"F32","shape":[4],"data_offsets":[16,32]}}""")]
    [InlineData("""{"__metadata__":{"format":"\udc00pt"},"a":{"dtype":"F32","shape":[8],"data_offsets":[0,32]}}""")]
    public void Scan_RefusesALoneSurrogateEscapeInTheHeader_InsteadOfThrowing(string header)
    {
        // Found by fuzz/ (harness safetensors, CI smoke run): JsonDocument accepts the escape and throws
        // InvalidOperationException only when the name or string is read.
        var result = _scanner.Scan(_files.Write("m.safetensors", File(header, 32)));
        Assert.Contains(result.Findings, f => f.Contains("not valid JSON", StringComparison.Ordinal));
    }

    [Fact]
    public void Scan_RejectsOverlappingTensors()
    {
        var header = """{"a":{"dtype":"F32","shape":[4],"data_offsets":[0,16]},"b":{"dtype":"F32","shape":[4],"data_offsets":[8,24]}}""";
        var result = _scanner.Scan(_files.Write("m.safetensors", File(header, 24)));
        Assert.Contains(result.Findings, f => f.Contains("overlaps", StringComparison.Ordinal));
    }

    [Fact]
    public void Scan_RejectsOffsetsOutOfBounds()
    {
        var header = """{"a":{"dtype":"F32","shape":[4],"data_offsets":[0,16]},"b":{"dtype":"F32","shape":[4],"data_offsets":[16,32]}}""";
        var result = _scanner.Scan(_files.Write("m.safetensors", File(header, 20)));
        Assert.Contains(result.Findings, f => f.Contains("outside", StringComparison.Ordinal));
    }

    [Fact]
    public void Scan_RejectsOversizedHeaderLength()
    {
        var bytes = new byte[64];
        BinaryPrimitives.WriteUInt64LittleEndian(bytes, 1UL << 40);
        var result = _scanner.Scan(_files.Write("m.safetensors", bytes));
        Assert.Contains(result.Findings, f => f.Contains("exceeds the limit", StringComparison.Ordinal));
    }

    [Fact]
    public void Scan_RejectsHeaderLengthPastEndOfFile()
    {
        var bytes = new byte[64];
        BinaryPrimitives.WriteUInt64LittleEndian(bytes, 1000);
        Assert.False(_scanner.Scan(_files.Write("m.safetensors", bytes)).IsClean);
    }

    [Theory]
    [InlineData("""{"a":{"dtype":"F32","shape":[5],"data_offsets":[0,16]}}""")]
    [InlineData("""{"a":{"dtype":"Q4","shape":[4],"data_offsets":[0,16]}}""")]
    [InlineData("""{"a":{"dtype":"F32","shape":[-4],"data_offsets":[0,16]}}""")]
    [InlineData("""{"a":{"dtype":"F32","shape":[4611686018427387904,4],"data_offsets":[0,16]}}""")]
    [InlineData("""{"a":{"dtype":"F32","shape":[4],"data_offsets":[16,0]}}""")]
    [InlineData("""{"a":{"dtype":"F32","shape":[4],"data_offsets":[0,16]},"a":{"dtype":"F32","shape":[4],"data_offsets":[0,16]}}""")]
    [InlineData("""[1,2,3]""")]
    [InlineData("""{"a":""")]
    public void Scan_RejectsInconsistentHeaders(string header)
    {
        Assert.False(_scanner.Scan(_files.Write("m.safetensors", File(header, 16))).IsClean);
    }

    [Fact]
    public void Scan_RejectsUnindexedBytes()
    {
        var header = """{"a":{"dtype":"F32","shape":[4],"data_offsets":[0,16]}}""";
        Assert.False(_scanner.Scan(_files.Write("m.safetensors", File(header, 1000))).IsClean);
    }

    private static byte[] File(string header, int dataLength)
    {
        var json = Encoding.UTF8.GetBytes(header);
        var bytes = new byte[8 + json.Length + dataLength];
        BinaryPrimitives.WriteUInt64LittleEndian(bytes, (ulong)json.Length);
        json.CopyTo(bytes, 8);
        return bytes;
    }
}
