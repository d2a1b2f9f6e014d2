using System.Text;

namespace Enclave.Core.Onnx;

/// <summary>The protobuf wire types an ONNX <c>ModelProto</c> uses (groups, 3 and 4, are refused).</summary>
public enum ProtobufWireType
{
    /// <summary>A varint.</summary>
    Varint = 0,

    /// <summary>Eight bytes.</summary>
    Fixed64 = 1,

    /// <summary>A varint length, then that many bytes (strings, bytes, nested messages, packed fields).</summary>
    LengthDelimited = 2,

    /// <summary>Four bytes.</summary>
    Fixed32 = 5,
}

/// <summary>
/// The one reader of ONNX protobuf in the enclave: reads a <c>ModelProto</c> field by field from a stream, forward
/// and bounded, without loading it into memory (tensor data is skipped by seeking, never read). Every read is
/// bounded by the end of the message it is in, so a length or a varint that runs past its message is refused; a
/// malformed file throws <see cref="EnclaveFormatException"/>.
/// </summary>
/// <remarks>
/// Used by the airlock's ONNX scanner (<c>Enclave.Airlock.Scanners.OnnxScanner</c>: external-data locations and
/// operator domains), the airlock's task detector (<c>Enclave.Airlock.Import.OnnxTaskDetector</c>: graph output
/// names) and the engine's external-data validator (<c>Enclave.Inference.Onnx.OnnxExternalDataValidator</c>: every
/// externally stored tensor); each walks the messages it needs with it. Google.Protobuf wants whole messages in
/// memory; a model of gigabytes must not be. The fuzz harness <c>onnx</c> (<c>fuzz/</c>) drives it through all of
/// them.
/// </remarks>
public sealed class OnnxProtobufReader
{
    private static readonly UTF8Encoding StrictUtf8 = new(encoderShouldEmitUTF8Identifier: false, throwOnInvalidBytes: true);

    private readonly Stream _stream;
    private readonly long _maxFields;
    private long _fields;

    /// <summary>A reader over <paramref name="stream"/> (seekable), refusing more than <paramref name="maxFields"/> fields.</summary>
    public OnnxProtobufReader(Stream stream, long maxFields = long.MaxValue)
    {
        ArgumentNullException.ThrowIfNull(stream);
        if (!stream.CanSeek)
        {
            throw new ArgumentException("the ONNX reader needs a seekable stream", nameof(stream));
        }

        _stream = stream;
        _maxFields = maxFields;
    }

    /// <summary>The position in the stream, in bytes.</summary>
    public long Position => _stream.Position;

    /// <summary>The stream's length: the end of the outermost message.</summary>
    public long Length => _stream.Length;

    /// <summary>
    /// Reads the tag of the next field of a message that ends at <paramref name="end"/>: its field number (1 or more)
    /// and wire type. Refuses field number 0, wire types other than 0, 1, 2 and 5, and more fields than allowed.
    /// </summary>
    public (int Field, ProtobufWireType Wire) ReadTag(long end)
    {
        if (++_fields > _maxFields)
        {
            throw new EnclaveFormatException($"more than {_maxFields} fields");
        }

        var tag = ReadVarint(end);
        var field = tag >> 3;
        if (field is 0 or > int.MaxValue)
        {
            throw new EnclaveFormatException($"field number out of range at byte {_stream.Position}");
        }

        var wire = (int)(tag & 7);
        if (wire is not (0 or 1 or 2 or 5))
        {
            throw new EnclaveFormatException($"unsupported wire type {wire} at byte {_stream.Position}");
        }

        return ((int)field, (ProtobufWireType)wire);
    }

    /// <summary>Reads a varint (at most 10 bytes) that must end by <paramref name="end"/>.</summary>
    public ulong ReadVarint(long end)
    {
        ulong result = 0;
        for (var shift = 0; shift < 64; shift += 7)
        {
            if (_stream.Position >= end)
            {
                throw new EnclaveFormatException($"a varint runs past the end of its message at byte {_stream.Position}");
            }

            var b = _stream.ReadByte();
            if (b < 0)
            {
                throw new EnclaveFormatException("the file ends inside a varint (truncated)");
            }

            result |= (ulong)(b & 0x7F) << shift;
            if ((b & 0x80) == 0)
            {
                return result;
            }
        }

        throw new EnclaveFormatException($"a varint longer than 10 bytes at byte {_stream.Position}");
    }

    /// <summary>
    /// Reads the length of a length-delimited field and returns where its payload ends, which must be by
    /// <paramref name="end"/>; the reader is then at the payload's first byte.
    /// </summary>
    public long ReadLength(long end)
    {
        var length = ReadVarint(end);
        var remaining = end - _stream.Position;
        if (remaining < 0 || length > (ulong)remaining)
        {
            throw new EnclaveFormatException($"a length of {length} bytes at byte {_stream.Position} runs past the end of its message");
        }

        return _stream.Position + (long)length;
    }

    /// <summary>Skips the value of a field of wire type <paramref name="wire"/> (data is sought past, not read).</summary>
    public void Skip(ProtobufWireType wire, long end)
    {
        switch (wire)
        {
            case ProtobufWireType.Varint:
                ReadVarint(end);
                break;
            case ProtobufWireType.Fixed64:
                SkipBytes(8, end);
                break;
            case ProtobufWireType.Fixed32:
                SkipBytes(4, end);
                break;
            case ProtobufWireType.LengthDelimited:
                _stream.Position = ReadLength(end);
                break;
            default:
                throw new EnclaveFormatException($"unsupported wire type {(int)wire} at byte {_stream.Position}");
        }
    }

    /// <summary>Moves to <paramref name="position"/>, the end of a payload returned by <see cref="ReadLength"/>.</summary>
    public void SkipTo(long position)
    {
        if (position < _stream.Position || position > _stream.Length)
        {
            throw new EnclaveFormatException($"cannot skip to byte {position}");
        }

        _stream.Position = position;
    }

    /// <summary>
    /// Reads a string payload that ends at <paramref name="payloadEnd"/> (from <see cref="ReadLength"/>), refusing one of
    /// more than <paramref name="maxBytes"/> bytes; <paramref name="strictUtf8"/> refuses invalid UTF-8 instead of
    /// replacing it.
    /// </summary>
    public string ReadString(long payloadEnd, int maxBytes, bool strictUtf8)
    {
        var count = payloadEnd - _stream.Position;
        if (count < 0 || count > maxBytes)
        {
            throw new EnclaveFormatException($"a string of {count} bytes at byte {_stream.Position} exceeds the limit of {maxBytes}");
        }

        var bytes = new byte[count];
        _stream.ReadExactly(bytes);
        if (!strictUtf8)
        {
            return Encoding.UTF8.GetString(bytes);
        }

        try
        {
            return StrictUtf8.GetString(bytes);
        }
        catch (DecoderFallbackException)
        {
            throw new EnclaveFormatException("a string is not valid UTF-8");
        }
    }

    /// <summary>Refuses a message whose last field did not end exactly at <paramref name="end"/>.</summary>
    public void ExpectEnd(long end)
    {
        if (_stream.Position != end)
        {
            throw new EnclaveFormatException($"a field runs past the end of its message at byte {_stream.Position}");
        }
    }

    private void SkipBytes(long count, long end)
    {
        if (count > end - _stream.Position)
        {
            throw new EnclaveFormatException($"a fixed-width field at byte {_stream.Position} runs past the end of its message");
        }

        _stream.Position += count;
    }
}
