using System.Text;
using Enclave.Airlock.Scanners;

namespace Enclave.Airlock.Tests.Scanners;

public sealed class OnnxScannerTests : IDisposable
{
    private readonly ScannerTestFiles _files = new();
    private readonly OnnxScanner _scanner = new();

    public void Dispose() => _files.Dispose();

    [Fact]
    public void Scan_PassesModelWithExternalDataBesideIt()
    {
        var result = _scanner.Scan(_files.Write("m/model.onnx", Model(location: "weights/model.onnx.data")));
        Assert.True(result.IsClean, string.Join("; ", result.Findings));
    }

    [Theory]
    [InlineData("../../etc/passwd")]
    [InlineData("/etc/passwd")]
    [InlineData("weights/../../outside.bin")]
    [InlineData("..\\..\\windows\\system32\\config")]
    [InlineData("C:/evil.bin")]
    public void Scan_RejectsExternalDataOutsideTheModelFolder(string location)
    {
        var result = _scanner.Scan(_files.Write("m/model.onnx", Model(location: location)));
        Assert.Contains(result.Findings, f => f.Contains("leaves the model folder", StringComparison.Ordinal));
    }

    [Fact]
    public void Scan_FindsExternalDataInsideNestedSubgraphs()
    {
        var tensor = Tensor("../../etc/passwd");
        var attribute = Message(6, Message(5, tensor)); // AttributeProto.g → GraphProto.initializer
        var node = Concat(Str(4, "If"), Message(5, attribute));
        var model = Concat(Varint(1, 8), Message(8, Opset("")), Message(7, Message(1, node)));
        Assert.False(_scanner.Scan(_files.Write("m/model.onnx", model)).IsClean);
    }

    [Theory]
    [InlineData(5)] // AttributeProto.t
    [InlineData(10)] // AttributeProto.tensors
    public void Scan_FindsExternalDataInAttributeTensors(int field)
    {
        var attribute = Concat(Str(1, "value"), Message(field, Tensor("/etc/shadow")));
        var node = Concat(Str(4, "Constant"), Message(5, attribute));
        var model = Concat(Varint(1, 8), Message(8, Opset("")), Message(7, Message(1, node)));
        Assert.Contains(_scanner.Scan(_files.Write("m/model.onnx", model)).Findings, f => f.Contains("/etc/shadow", StringComparison.Ordinal));
    }

    [Fact]
    public void Scan_RejectsCustomOpDomainInOpsetImport()
    {
        var result = _scanner.Scan(_files.Write("m/model.onnx", Model(opsetDomain: "com.evil.customops")));
        Assert.Contains(result.Findings, f => f.Contains("custom-op domain 'com.evil.customops'", StringComparison.Ordinal));
    }

    [Fact]
    public void Scan_RejectsCustomOpDomainOnANode()
    {
        var result = _scanner.Scan(_files.Write("m/model.onnx", Model(nodeDomain: "ai.onnx.contrib")));
        Assert.False(result.IsClean);
    }

    [Theory]
    [InlineData("ai.onnx.ml")]
    [InlineData("com.microsoft")]
    public void Scan_AllowsStandardDomains(string domain)
    {
        Assert.True(_scanner.Scan(_files.Write("m/model.onnx", Model(opsetDomain: domain, nodeDomain: domain))).IsClean);
    }

    [Fact]
    public void Scan_RejectsTruncatedModel()
    {
        var model = Model(location: "w.bin");
        Assert.False(_scanner.Scan(_files.Write("m/model.onnx", model[..^3])).IsClean);
    }

    [Fact]
    public void Scan_RejectsFileWithoutGraph()
    {
        Assert.False(_scanner.Scan(_files.Write("m/model.onnx", Concat(Varint(1, 8), Message(8, Opset(""))))).IsClean);
        Assert.False(_scanner.Scan(_files.Write("m/model2.onnx", Concat(Varint(1, 8), Message(7, [])))).IsClean);
    }

    [Fact]
    public void Scan_RejectsLengthPastEnd()
    {
        byte[] model = [.. Varint(1, 8), 0x3a, 0xff, 0xff, 0x03, 0x00];
        Assert.False(_scanner.Scan(_files.Write("m/model.onnx", model)).IsClean);
    }

    private static byte[] Model(string location = "w.bin", string opsetDomain = "", string nodeDomain = "")
    {
        var node = Concat(Str(1, "x"), Str(2, "y"), Str(4, "Relu"), Str(7, nodeDomain));
        var raw = Concat(Str(8, "b"), Message(9, new byte[300])); // an inline tensor with raw_data, skipped
        var graph = Concat(Message(1, node), Str(2, "g"), Message(5, Tensor(location)), Message(5, raw));
        return Concat(Varint(1, 8), Str(2, "test"), Message(7, graph), Message(8, Opset(opsetDomain)));
    }

    private static byte[] Opset(string domain) => Concat(Str(1, domain), Varint(2, 17));

    private static byte[] Tensor(string location) => Concat(
        Str(8, "w"),
        Message(13, Concat(Str(1, "location"), Str(2, location))),
        Message(13, Concat(Str(1, "offset"), Str(2, "0"))),
        Varint(14, 1));

    private static byte[] Concat(params byte[][] parts) => parts.SelectMany(p => p).ToArray();

    private static byte[] Str(int field, string value) => Message(field, Encoding.UTF8.GetBytes(value));

    private static byte[] Message(int field, byte[] body) => Concat(VarintBytes((ulong)((field << 3) | 2)), VarintBytes((ulong)body.Length), body);

    private static byte[] Varint(int field, ulong value) => Concat(VarintBytes((ulong)(field << 3)), VarintBytes(value));

    private static byte[] VarintBytes(ulong value)
    {
        var bytes = new List<byte>();
        do
        {
            var b = (byte)(value & 0x7F);
            value >>= 7;
            bytes.Add(value != 0 ? (byte)(b | 0x80) : b);
        }
        while (value != 0);
        return [.. bytes];
    }
}
