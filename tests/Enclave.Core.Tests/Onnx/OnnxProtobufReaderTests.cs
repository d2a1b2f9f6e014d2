using Enclave.Core.Onnx;

namespace Enclave.Core.Tests.Onnx;

/// <summary>
/// The one ONNX protobuf reader, on hand-made wire bytes (the scanner, task detector and external-data validator
/// tests cover it on real models).
/// </summary>
public sealed class OnnxProtobufReaderTests
{
    [Fact]
    public void Reads_TagsVarintsNestedMessagesAndStrings_ToTheEnd()
    {
        // field 1 varint 300; field 7 message { field 1 string "logits" }; field 5 fixed32; field 6 fixed64
        byte[] bytes = [0x08, 0xAC, 0x02, 0x3A, 0x08, 0x0A, 0x06, .. "logits"u8, 0x2D, 1, 2, 3, 4, 0x31, 1, 2, 3, 4, 5, 6, 7, 8];
        var reader = new OnnxProtobufReader(new MemoryStream(bytes));

        Assert.Equal((1, ProtobufWireType.Varint), reader.ReadTag(reader.Length));
        Assert.Equal(300UL, reader.ReadVarint(reader.Length));
        Assert.Equal((7, ProtobufWireType.LengthDelimited), reader.ReadTag(reader.Length));
        var graphEnd = reader.ReadLength(reader.Length);
        Assert.Equal((1, ProtobufWireType.LengthDelimited), reader.ReadTag(graphEnd));
        Assert.Equal("logits", reader.ReadString(reader.ReadLength(graphEnd), 64, strictUtf8: true));
        reader.ExpectEnd(graphEnd);
        var (_, fixed32) = reader.ReadTag(reader.Length);
        reader.Skip(fixed32, reader.Length);
        var (_, fixed64) = reader.ReadTag(reader.Length);
        reader.Skip(fixed64, reader.Length);
        reader.ExpectEnd(reader.Length);
    }

    [Fact]
    public void ALengthThatRunsPastItsMessage_IsRefused()
    {
        // field 7 message of 0x7f bytes in a file of 4.
        var reader = new OnnxProtobufReader(new MemoryStream([0x3A, 0x7F, 0x00, 0x00]));
        reader.ReadTag(reader.Length);

        var e = Assert.Throws<EnclaveFormatException>(() => reader.ReadLength(reader.Length));
        Assert.Contains("runs past the end of its message", e.Message, StringComparison.Ordinal);
    }

    [Fact]
    public void AVarintThatCrossesTheEndOfItsMessage_IsRefused_EvenWhenTheFileGoesOn()
    {
        var reader = new OnnxProtobufReader(new MemoryStream([0x08, 0x80, 0x80, 0x01]));
        reader.ReadTag(reader.Length);

        Assert.Throws<EnclaveFormatException>(() => reader.ReadVarint(end: 2));
    }

    [Theory]
    [InlineData(new byte[] { 0x00, 0x00 })] // field number 0
    [InlineData(new byte[] { 0x0B })] // wire type 3 (start group)
    [InlineData(new byte[] { 0x0F })] // wire type 7
    [InlineData(new byte[] { 0x88, 0x80, 0x80, 0x80, 0x80, 0x80, 0x80, 0x80, 0x80, 0x80, 0x01 })] // varint of 11 bytes
    public void MalformedTags_AreRefused(byte[] bytes)
    {
        var reader = new OnnxProtobufReader(new MemoryStream(bytes));

        Assert.Throws<EnclaveFormatException>(() => reader.ReadTag(reader.Length));
    }

    [Fact]
    public void MoreFieldsThanAllowed_AreRefused()
    {
        var reader = new OnnxProtobufReader(new MemoryStream([0x08, 0x01, 0x08, 0x02, 0x08, 0x03]), maxFields: 2);
        for (var i = 0; i < 2; i++)
        {
            reader.ReadTag(reader.Length);
            reader.ReadVarint(reader.Length);
        }

        var e = Assert.Throws<EnclaveFormatException>(() => reader.ReadTag(reader.Length));
        Assert.Contains("more than 2 fields", e.Message, StringComparison.Ordinal);
    }

    [Fact]
    public void Strings_AreBoundedAndStrictUtf8RefusesInvalidBytes()
    {
        byte[] bytes = [0x0A, 0x02, 0xC3, 0x28];
        var reader = new OnnxProtobufReader(new MemoryStream(bytes));
        reader.ReadTag(reader.Length);
        var end = reader.ReadLength(reader.Length);

        Assert.Throws<EnclaveFormatException>(() => reader.ReadString(end, maxBytes: 1, strictUtf8: false));
        Assert.Throws<EnclaveFormatException>(() => reader.ReadString(end, maxBytes: 16, strictUtf8: true));
    }

    [Fact]
    public void AMessageThatEndsInsideAField_IsRefusedByExpectEnd()
    {
        var reader = new OnnxProtobufReader(new MemoryStream([0x08, 0x01, 0x00]));
        reader.ReadTag(reader.Length);
        reader.ReadVarint(reader.Length);

        Assert.Throws<EnclaveFormatException>(() => reader.ExpectEnd(reader.Length));
    }
}
