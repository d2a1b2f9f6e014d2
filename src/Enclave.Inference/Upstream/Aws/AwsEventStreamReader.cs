using System.Buffers;
using System.Buffers.Binary;
using System.Text;

namespace Enclave.Inference.Upstream.Aws;

/// <summary>
/// Reads the AWS event-stream binary framing (<c>application/vnd.amazon.eventstream</c>, as Bedrock's ConverseStream
/// sends it): each message is a prelude (total length, headers length, prelude CRC-32), headers, a payload and a
/// message CRC-32, all big-endian. Both CRCs are checked and every length is bounded before anything is allocated;
/// a frame that fails either is <see cref="InvalidDataException"/>, never a partial event.
/// </summary>
internal sealed class AwsEventStreamReader : IStreamEventReader
{
    /// <summary>Prelude (12) plus message CRC (4): the smallest message.</summary>
    internal const int MinimumMessageBytes = 16;

    private readonly Stream _stream;
    private readonly int _maxMessageBytes;
    private byte[] _buffer = [];
    private int _payloadStart;
    private int _payloadLength;

    /// <param name="stream">The response body; not disposed by the reader.</param>
    /// <param name="maxMessageBytes">Largest message accepted (the whole frame).</param>
    public AwsEventStreamReader(Stream stream, int maxMessageBytes)
    {
        _stream = stream;
        _maxMessageBytes = maxMessageBytes;
    }

    /// <summary>
    /// The message's <c>:event-type</c> for an event; <c>exception:{:exception-type}</c> for an exception message;
    /// <c>error:{:error-code}</c> for an error message.
    /// </summary>
    public string? EventName { get; private set; }

    /// <summary>Every header of the message just read (string, and other types rendered as text).</summary>
    public IReadOnlyDictionary<string, string> Headers { get; private set; } = new Dictionary<string, string>();

    /// <summary>The payload of the message just read.</summary>
    public ReadOnlyMemory<byte> Data => _buffer.AsMemory(_payloadStart, _payloadLength);

    /// <summary>Reads the next message; false at a clean end of the stream (between two messages).</summary>
    /// <exception cref="InvalidDataException">A CRC mismatch, an impossible length, a truncated message or a malformed header.</exception>
    public async ValueTask<bool> ReadEventAsync(CancellationToken cancellationToken)
    {
        var prelude = new byte[12];
        var read = await ReadAtMostAsync(prelude, cancellationToken).ConfigureAwait(false);
        if (read == 0)
        {
            return false;
        }

        if (read < prelude.Length)
        {
            throw new InvalidDataException($"the event stream ended inside a message prelude ({read} of 12 bytes)");
        }

        var total = BinaryPrimitives.ReadUInt32BigEndian(prelude);
        var headersLength = BinaryPrimitives.ReadUInt32BigEndian(prelude.AsSpan(4));
        var preludeCrc = BinaryPrimitives.ReadUInt32BigEndian(prelude.AsSpan(8));
        if (Crc32.Compute(prelude.AsSpan(0, 8)) != preludeCrc)
        {
            throw new InvalidDataException("an event-stream message prelude fails its CRC-32");
        }

        if (total < MinimumMessageBytes || total > (uint)_maxMessageBytes)
        {
            throw new InvalidDataException($"an event-stream message declares {total} bytes (allowed {MinimumMessageBytes}..{_maxMessageBytes})");
        }

        if (headersLength > total - MinimumMessageBytes)
        {
            throw new InvalidDataException($"an event-stream message declares {headersLength} bytes of headers in a {total}-byte message");
        }

        var message = ArrayPool<byte>.Shared.Rent((int)total);
        try
        {
            prelude.CopyTo(message, 0);
            var rest = (int)total - prelude.Length;
            if (await ReadAtMostAsync(message.AsMemory(prelude.Length, rest), cancellationToken).ConfigureAwait(false) < rest)
            {
                throw new InvalidDataException($"the event stream ended inside a {total}-byte message");
            }

            var messageCrc = BinaryPrimitives.ReadUInt32BigEndian(message.AsSpan((int)total - 4));
            if (Crc32.Compute(message.AsSpan(0, (int)total - 4)) != messageCrc)
            {
                throw new InvalidDataException("an event-stream message fails its CRC-32");
            }

            Headers = ParseHeaders(message.AsSpan(12, (int)headersLength));
            _payloadLength = (int)(total - headersLength - MinimumMessageBytes);
            if (_buffer.Length < _payloadLength)
            {
                _buffer = new byte[_payloadLength];
            }

            message.AsSpan(12 + (int)headersLength, _payloadLength).CopyTo(_buffer);
            _payloadStart = 0;
        }
        finally
        {
            ArrayPool<byte>.Shared.Return(message);
        }

        EventName = Headers.GetValueOrDefault(":message-type") switch
        {
            "exception" => "exception:" + Headers.GetValueOrDefault(":exception-type"),
            "error" => "error:" + Headers.GetValueOrDefault(":error-code"),
            _ => Headers.GetValueOrDefault(":event-type"),
        };
        return true;
    }

    public void Dispose()
    {
        // The stream belongs to the caller.
    }

    /// <summary>Parses the header block: name length (1), name, type (1), value (by type).</summary>
    internal static Dictionary<string, string> ParseHeaders(ReadOnlySpan<byte> block)
    {
        var headers = new Dictionary<string, string>(StringComparer.Ordinal);
        var utf8 = new UTF8Encoding(false, true);
        while (!block.IsEmpty)
        {
            int nameLength = block[0];
            if (nameLength == 0 || block.Length < 1 + nameLength + 1)
            {
                throw new InvalidDataException("an event-stream header is truncated or has an empty name");
            }

            string name;
            try
            {
                name = utf8.GetString(block.Slice(1, nameLength));
            }
            catch (DecoderFallbackException e)
            {
                throw new InvalidDataException("an event-stream header name is not UTF-8", e);
            }

            var type = block[1 + nameLength];
            block = block[(2 + nameLength)..];
            int size = type switch
            {
                0 or 1 => 0,
                2 => 1,
                3 => 2,
                4 => 4,
                5 or 8 => 8,
                9 => 16,
                6 or 7 => block.Length >= 2 ? 2 + BinaryPrimitives.ReadUInt16BigEndian(block) : int.MaxValue,
                _ => throw new InvalidDataException($"an event-stream header '{UpstreamErrors.Sanitize(name)}' has the unknown type {type}"),
            };
            if (size > block.Length)
            {
                throw new InvalidDataException($"an event-stream header '{UpstreamErrors.Sanitize(name)}' runs past its block");
            }

            string value;
            try
            {
                value = type switch
                {
                    0 => "true",
                    1 => "false",
                    7 => utf8.GetString(block[2..size]),
                    _ => Convert.ToHexStringLower(block[..size]),
                };
            }
            catch (DecoderFallbackException e)
            {
                throw new InvalidDataException($"the event-stream header '{UpstreamErrors.Sanitize(name)}' is not UTF-8", e);
            }

            if (!headers.TryAdd(name, value))
            {
                throw new InvalidDataException($"the event-stream header '{UpstreamErrors.Sanitize(name)}' appears twice");
            }

            block = block[size..];
        }

        return headers;
    }

    /// <summary>Writes one message (tests and the loopback Bedrock server build streams with it).</summary>
    internal static byte[] Encode(IReadOnlyList<(string Name, string Value)> headers, ReadOnlySpan<byte> payload)
    {
        var block = new List<byte>();
        foreach (var (name, value) in headers)
        {
            var nameBytes = Encoding.UTF8.GetBytes(name);
            var valueBytes = Encoding.UTF8.GetBytes(value);
            block.Add((byte)nameBytes.Length);
            block.AddRange(nameBytes);
            block.Add(7);
            block.Add((byte)(valueBytes.Length >> 8));
            block.Add((byte)valueBytes.Length);
            block.AddRange(valueBytes);
        }

        var total = 12 + block.Count + payload.Length + 4;
        var message = new byte[total];
        BinaryPrimitives.WriteUInt32BigEndian(message, (uint)total);
        BinaryPrimitives.WriteUInt32BigEndian(message.AsSpan(4), (uint)block.Count);
        BinaryPrimitives.WriteUInt32BigEndian(message.AsSpan(8), Crc32.Compute(message.AsSpan(0, 8)));
        block.CopyTo(message, 12);
        payload.CopyTo(message.AsSpan(12 + block.Count));
        BinaryPrimitives.WriteUInt32BigEndian(message.AsSpan(total - 4), Crc32.Compute(message.AsSpan(0, total - 4)));
        return message;
    }

    private async ValueTask<int> ReadAtMostAsync(Memory<byte> buffer, CancellationToken cancellationToken)
    {
        var total = 0;
        while (total < buffer.Length)
        {
            var read = await _stream.ReadAsync(buffer[total..], cancellationToken).ConfigureAwait(false);
            if (read == 0)
            {
                break;
            }

            total += read;
        }

        return total;
    }
}
