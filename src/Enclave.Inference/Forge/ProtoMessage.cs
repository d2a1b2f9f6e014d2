using Google.Protobuf;

namespace Enclave.Inference.Forge;

/// <summary>
/// One protobuf message written field by field with <see cref="CodedOutputStream"/>. The ONNX schema is proto2, so
/// repeated scalars are written unpacked (one tag per value), as the reference serializer does.
/// </summary>
internal sealed class ProtoMessage
{
    private readonly MemoryStream _buffer = new();
    private readonly CodedOutputStream _output;

    public ProtoMessage()
    {
        _output = new CodedOutputStream(_buffer, leaveOpen: true);
    }

    public ProtoMessage Int64(int field, long value)
    {
        _output.WriteTag(field, WireFormat.WireType.Varint);
        _output.WriteInt64(value);
        return this;
    }

    public ProtoMessage Int64s(int field, IEnumerable<long> values)
    {
        foreach (var value in values)
        {
            Int64(field, value);
        }

        return this;
    }

    public ProtoMessage Float(int field, float value)
    {
        _output.WriteTag(field, WireFormat.WireType.Fixed32);
        _output.WriteFloat(value);
        return this;
    }

    public ProtoMessage String(int field, string value)
    {
        _output.WriteTag(field, WireFormat.WireType.LengthDelimited);
        _output.WriteString(value);
        return this;
    }

    public ProtoMessage Bytes(int field, byte[] value)
    {
        _output.WriteTag(field, WireFormat.WireType.LengthDelimited);
        _output.WriteBytes(UnsafeByteOperations.UnsafeWrap(value));
        return this;
    }

    public ProtoMessage Message(int field, ProtoMessage message)
    {
        ArgumentNullException.ThrowIfNull(message);
        return Bytes(field, message.ToArray());
    }

    public byte[] ToArray()
    {
        _output.Flush();
        return _buffer.ToArray();
    }
}
