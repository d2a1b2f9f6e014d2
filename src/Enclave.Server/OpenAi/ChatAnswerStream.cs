using System.Text;
using Microsoft.AspNetCore.Http;

namespace Enclave.Server.OpenAi;

/// <summary>
/// Stands in for the response body while the chat path answers a request that arrived in another API's shape (the
/// Anthropic Messages API, the Responses API): when the chat path sets <c>text/event-stream</c>, each complete SSE
/// frame's <c>data:</c> is handed to <see cref="TranslateAsync"/> as it is written and what that appends goes to the
/// client; anything else (an answer or an error object) is kept in <see cref="Kept"/> and translated by the subclass
/// once complete.
/// </summary>
internal abstract class ChatAnswerStream(HttpContext http, Stream inner) : Stream
{
    private readonly MemoryStream _pending = new();

    /// <summary>The request being answered.</summary>
    protected HttpContext Http { get; } = http;

    /// <summary>The real response body.</summary>
    protected Stream Inner { get; } = inner;

    /// <summary>A non-stream answer (or error object) as the chat path wrote it.</summary>
    protected MemoryStream Kept { get; } = new();

    /// <summary>Whether the chat path answered with an event stream; null before its first write.</summary>
    protected bool? IsEventStream { get; private set; }

    public override bool CanRead => false;

    public override bool CanSeek => false;

    public override bool CanWrite => true;

    public override long Length => throw new NotSupportedException();

    public override long Position { get => throw new NotSupportedException(); set => throw new NotSupportedException(); }

    public override void Flush()
    {
    }

    public override Task FlushAsync(CancellationToken cancellationToken) =>
        IsEventStream == true ? Inner.FlushAsync(cancellationToken) : Task.CompletedTask;

    public override int Read(byte[] buffer, int offset, int count) => throw new NotSupportedException();

    public override long Seek(long offset, SeekOrigin origin) => throw new NotSupportedException();

    public override void SetLength(long value) => throw new NotSupportedException();

    public override void Write(byte[] buffer, int offset, int count) => WriteAsync(buffer.AsMemory(offset, count)).AsTask().GetAwaiter().GetResult();

    public override Task WriteAsync(byte[] buffer, int offset, int count, CancellationToken cancellationToken) =>
        WriteAsync(buffer.AsMemory(offset, count), cancellationToken).AsTask();

    public override async ValueTask WriteAsync(ReadOnlyMemory<byte> buffer, CancellationToken cancellationToken = default)
    {
        IsEventStream ??= Http.Response.ContentType?.StartsWith("text/event-stream", StringComparison.Ordinal) == true;
        if (IsEventStream == false)
        {
            Kept.Write(buffer.Span);
            return;
        }

        _pending.Write(buffer.Span);
        var text = Encoding.UTF8.GetString(_pending.GetBuffer(), 0, (int)_pending.Length);
        var end = text.LastIndexOf("\n\n", StringComparison.Ordinal);
        if (end < 0)
        {
            return;
        }

        var rest = Encoding.UTF8.GetBytes(text[(end + 2)..]);
        _pending.SetLength(0);
        _pending.Write(rest);
        var output = new StringBuilder();
        foreach (var frame in text[..end].Split("\n\n", StringSplitOptions.RemoveEmptyEntries))
        {
            if (frame.StartsWith("data: ", StringComparison.Ordinal))
            {
                await TranslateAsync(frame["data: ".Length..], output).ConfigureAwait(false);
            }
        }

        if (output.Length > 0)
        {
            await Inner.WriteAsync(Encoding.UTF8.GetBytes(output.ToString()), cancellationToken).ConfigureAwait(false);
        }
    }

    /// <summary>Translates one chat stream frame's data (a chunk, or <c>[DONE]</c>) into the other API's events, appended to <paramref name="output"/>.</summary>
    protected abstract ValueTask TranslateAsync(string data, StringBuilder output);

    protected override void Dispose(bool disposing)
    {
        if (disposing)
        {
            Kept.Dispose();
            _pending.Dispose();
        }

        base.Dispose(disposing);
    }
}
