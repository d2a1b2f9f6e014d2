using System.Buffers;
using System.Text;

namespace Enclave.Inference.Upstream;

/// <summary>
/// Reads server-sent events (the WHATWG <c>text/event-stream</c> format) from an untrusted stream, one event at a time,
/// as the bytes arrive. Lines end with LF, CRLF or CR; comments (<c>:</c> lines) are skipped; <c>data</c> lines of
/// one event are joined with LF. Each line, and the data of each event, is bounded: above the bound the stream fails
/// with <see cref="InvalidDataException"/> instead of growing a buffer. An event not ended by a blank line when the
/// stream ends is dropped (it may be truncated).
/// </summary>
internal sealed class SseEventReader : IStreamEventReader
{
    private const int InitialBufferBytes = 16 * 1024;

    private readonly Stream _stream;
    private readonly int _maxLineBytes;
    private readonly ArrayBufferWriter<byte> _data = new(1024);
    private byte[] _buffer;
    private int _start;
    private int _end;
    private int _lineStart;
    private int _lineLength;
    private bool _endOfStream;
    private bool _skipLineFeed;

    public SseEventReader(Stream stream, int maxLineBytes)
    {
        ArgumentNullException.ThrowIfNull(stream);
        ArgumentOutOfRangeException.ThrowIfLessThan(maxLineBytes, 1);
        _stream = stream;
        _maxLineBytes = maxLineBytes;
        _buffer = ArrayPool<byte>.Shared.Rent(Math.Min(InitialBufferBytes, maxLineBytes + 1));
    }

    /// <summary>The <c>event</c> field of the last event read (null for the default <c>message</c> event).</summary>
    public string? EventName { get; private set; }

    /// <summary>The data of the last event read; valid until the next read.</summary>
    public ReadOnlyMemory<byte> Data => _data.WrittenMemory;

    /// <summary>Reads the next event with data; false at the end of the stream.</summary>
    /// <exception cref="InvalidDataException">A line or an event's data is longer than the bound.</exception>
    public async ValueTask<bool> ReadEventAsync(CancellationToken cancellationToken)
    {
        _data.ResetWrittenCount();
        EventName = null;
        var hasData = false;
        while (await ReadLineAsync(cancellationToken).ConfigureAwait(false))
        {
            var line = _buffer.AsSpan(_lineStart, _lineLength);
            if (line.IsEmpty)
            {
                if (hasData)
                {
                    return true;
                }

                EventName = null;
                continue;
            }

            if (line[0] == (byte)':')
            {
                continue;
            }

            var colon = line.IndexOf((byte)':');
            var field = colon < 0 ? line : line[..colon];
            var value = colon < 0 ? [] : line[(colon + 1)..];
            if (!value.IsEmpty && value[0] == (byte)' ')
            {
                value = value[1..];
            }

            if (field.SequenceEqual("data"u8))
            {
                var extra = hasData ? 1 : 0;
                if (_data.WrittenCount + extra + value.Length > _maxLineBytes)
                {
                    throw new InvalidDataException($"an event's data is longer than {_maxLineBytes} bytes (MaxSseLineBytes)");
                }

                if (hasData)
                {
                    _data.Write("\n"u8);
                }

                _data.Write(value);
                hasData = true;
            }
            else if (field.SequenceEqual("event"u8))
            {
                EventName = Encoding.UTF8.GetString(value.Length > 64 ? value[..64] : value);
            }

            // "id", "retry" and unknown fields do not matter to an OpenAI stream.
        }

        return false;
    }

    private async ValueTask<bool> ReadLineAsync(CancellationToken cancellationToken)
    {
        var scanFrom = _start;
        while (true)
        {
            if (_skipLineFeed && _start < _end)
            {
                // The previous line ended with CR; a LF right after it belongs to the same line break.
                if (_buffer[_start] == (byte)'\n')
                {
                    _start++;
                }

                _skipLineFeed = false;
                scanFrom = _start;
            }

            if (!_skipLineFeed)
            {
                var found = _buffer.AsSpan(scanFrom, _end - scanFrom).IndexOfAny((byte)'\r', (byte)'\n');
                if (found >= 0)
                {
                    var terminator = scanFrom + found;
                    _lineStart = _start;
                    _lineLength = terminator - _start;
                    if (_lineLength > _maxLineBytes)
                    {
                        throw LineTooLong();
                    }

                    _skipLineFeed = _buffer[terminator] == (byte)'\r';
                    _start = terminator + 1;
                    return true;
                }

                scanFrom = _end;
            }

            if (_end - _start > _maxLineBytes)
            {
                throw LineTooLong();
            }

            if (_endOfStream)
            {
                return false;
            }

            if (_end == _buffer.Length)
            {
                MakeRoom(ref scanFrom);
            }

            var read = await _stream.ReadAsync(_buffer.AsMemory(_end), cancellationToken).ConfigureAwait(false);
            if (read == 0)
            {
                _endOfStream = true;
            }
            else
            {
                _end += read;
            }
        }
    }

    private void MakeRoom(ref int scanFrom)
    {
        if (_start > 0)
        {
            var pending = _end - _start;
            _buffer.AsSpan(_start, pending).CopyTo(_buffer);
            scanFrom -= _start;
            _start = 0;
            _end = pending;
        }

        if (_end == _buffer.Length)
        {
            // Only a line longer than the buffer gets here; the checks above keep it within _maxLineBytes + 1.
            var larger = ArrayPool<byte>.Shared.Rent((int)Math.Min((long)_buffer.Length * 2, (long)_maxLineBytes + 1));
            _buffer.AsSpan(0, _end).CopyTo(larger);
            ArrayPool<byte>.Shared.Return(_buffer);
            _buffer = larger;
        }
    }

    private InvalidDataException LineTooLong() =>
        new($"a line of the event stream is longer than {_maxLineBytes} bytes (MaxSseLineBytes)");

    public void Dispose()
    {
        var buffer = _buffer;
        _buffer = [];
        if (buffer.Length > 0)
        {
            ArrayPool<byte>.Shared.Return(buffer);
        }
    }
}
