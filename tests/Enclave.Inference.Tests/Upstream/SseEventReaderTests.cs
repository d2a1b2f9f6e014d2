using System.Text;
using Enclave.Inference.Upstream;
using FsCheck.Xunit;

namespace Enclave.Inference.Tests.Upstream;

public sealed class SseEventReaderTests
{
    [Property(MaxTest = 300)]
    public bool Events_ReadBackTheSame_WhateverTheLineEndingsAndHowTheBytesAreSplit(string[] texts, byte[] splits, byte endings)
    {
        var events = (texts ?? [])
            .Select(t => new string((t ?? "").Where(c => c is >= ' ' and <= '~' or 'é' or '€').ToArray()))
            .Where(t => t.Length > 0)
            .ToList();
        var newlines = new[] { "\n", "\r\n", "\r" };
        var wire = new StringBuilder();
        for (var i = 0; i < events.Count; i++)
        {
            var newline = newlines[(endings + i) % 3];
            if (i % 4 == 1)
            {
                wire.Append(": keep-alive").Append(newline);
            }

            wire.Append("data: ").Append(events[i]).Append(newline).Append(newline);
        }

        var read = ReadAll(Encoding.UTF8.GetBytes(wire.ToString()), splits, maxLine: 4096);
        return read.SequenceEqual(events);
    }

    [Fact]
    public void MultiLineData_IsJoinedWithLineFeeds_AndOtherFieldsAreIgnored()
    {
        var wire = "event: message\nid: 7\nretry: 1000\ndata:first\ndata: second\n\n: comment\ndata\n\n"u8.ToArray();

        Assert.Equal(["first\nsecond", ""], ReadAll(wire, [], 1024));
    }

    [Fact]
    public void ABlankLineWithoutData_DispatchesNothing()
    {
        Assert.Equal(["x"], ReadAll("\n\n\r\n: only a comment\n\ndata: x\n\n"u8.ToArray(), [], 1024));
    }

    [Fact]
    public void AnEventCutOffByTheEndOfTheStream_IsDropped()
    {
        Assert.Equal(["whole"], ReadAll("data: whole\n\ndata: trunc"u8.ToArray(), [], 1024));
        Assert.Equal(["whole"], ReadAll("data: whole\n\ndata: no blank line\n"u8.ToArray(), [], 1024));
    }

    [Fact]
    public void ALineLongerThanTheBound_FailsInsteadOfGrowing()
    {
        var wire = Encoding.ASCII.GetBytes("data: " + new string('x', 5000) + "\n\n");

        var error = Assert.Throws<InvalidDataException>(() => ReadAll(wire, [200], 1024));

        Assert.Contains("1024", error.Message, StringComparison.Ordinal);
    }

    [Fact]
    public void ALineWithoutAnyLineBreak_FailsAtTheBound()
    {
        var wire = Encoding.ASCII.GetBytes(new string('x', 100_000));

        Assert.Throws<InvalidDataException>(() => ReadAll(wire, [], 1024));
    }

    [Fact]
    public void DataLinesAddingUpAboveTheBound_Fail()
    {
        var line = "data: " + new string('y', 600) + "\n";
        var wire = Encoding.ASCII.GetBytes(line + line + "\n");

        Assert.Throws<InvalidDataException>(() => ReadAll(wire, [], 1024));
    }

    [Fact]
    public void ALineExactlyAtTheBound_IsAccepted()
    {
        var data = new string('z', 1024 - "data: ".Length);
        var wire = Encoding.ASCII.GetBytes("data: " + data + "\r\n\r\n");

        Assert.Equal([data], ReadAll(wire, [1, 2, 3], 1024));
    }

    private static List<string> ReadAll(byte[] wire, byte[] splits, int maxLine)
    {
        using var stream = new SplittingStream(wire, splits);
        using var reader = new SseEventReader(stream, maxLine);
        var events = new List<string>();
        while (reader.ReadEventAsync(CancellationToken.None).AsTask().GetAwaiter().GetResult())
        {
            events.Add(Encoding.UTF8.GetString(reader.Data.Span));
        }

        return events;
    }

    /// <summary>Returns the bytes in reads of the given sizes (1..8 each, cycling), as a network would.</summary>
    private sealed class SplittingStream(byte[] data, byte[] splits) : Stream
    {
        private int _position;
        private int _read;

        public override bool CanRead => true;

        public override bool CanSeek => false;

        public override bool CanWrite => false;

        public override long Length => data.Length;

        public override long Position
        {
            get => _position;
            set => throw new NotSupportedException();
        }

        public override int Read(byte[] buffer, int offset, int count) => Read(buffer.AsSpan(offset, count));

        public override int Read(Span<byte> buffer)
        {
            var size = splits.Length == 0 ? buffer.Length : 1 + (splits[_read++ % splits.Length] % 8);
            var n = Math.Min(Math.Min(size, buffer.Length), data.Length - _position);
            data.AsSpan(_position, n).CopyTo(buffer);
            _position += n;
            return n;
        }

        public override ValueTask<int> ReadAsync(Memory<byte> buffer, CancellationToken cancellationToken = default) =>
            ValueTask.FromResult(Read(buffer.Span));

        public override void Flush()
        {
        }

        public override long Seek(long offset, SeekOrigin origin) => throw new NotSupportedException();

        public override void SetLength(long value) => throw new NotSupportedException();

        public override void Write(byte[] buffer, int offset, int count) => throw new NotSupportedException();
    }
}
