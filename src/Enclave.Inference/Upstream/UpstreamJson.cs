using System.Buffers;
using System.Net.Http.Headers;
using System.Text.Encodings.Web;
using System.Text.Json;
using System.Text.Json.Nodes;
using Enclave.Core;
using Enclave.Inference.Backends;

namespace Enclave.Inference.Upstream;

/// <summary>How a request body is written to an upstream.</summary>
internal enum StreamField
{
    /// <summary>As the caller gave it (embeddings).</summary>
    AsGiven,

    /// <summary>Without <c>stream</c> and <c>stream_options</c> (vLLM refuses <c>stream_options</c> without streaming).</summary>
    NotStreaming,

    /// <summary>With <c>stream: true</c>; <c>stream_options</c> kept.</summary>
    Streaming,
}

/// <summary>Writing request bodies and reading response bodies of upstreams, with size bounds.</summary>
internal static class UpstreamJson
{
    /// <summary>Upstream JSON is untrusted: bounded depth, and duplicate keys rejected rather than one silently winning.</summary>
    internal static readonly JsonDocumentOptions DocumentOptions = new()
    {
        MaxDepth = 64,
        AllowDuplicateProperties = false,
    };

    private static readonly JsonWriterOptions WriterOptions = new()
    {
        // The body goes to a JSON parser, never into HTML: keep non-ASCII text as UTF-8 instead of \uXXXX escapes.
        Encoder = JavaScriptEncoder.UnsafeRelaxedJsonEscaping,
    };

    private static readonly MediaTypeHeaderValue JsonMediaType = new("application/json") { CharSet = "utf-8" };

    // Writers that grew past this (a very large request) are dropped rather than kept by their thread.
    private const int MaxKeptBytes = 64 * 1024;

    [ThreadStatic]
    private static ArrayBufferWriter<byte>? _scratch;

    [ThreadStatic]
    private static Utf8JsonWriter? _scratchWriter;

    /// <summary>
    /// The body of <paramref name="request"/>, with a Content-Length: the client's bytes as they came when the gateway
    /// did not change the request and its <c>stream</c> fields are already what <paramref name="stream"/> writes (no
    /// <c>stream</c> nor <c>stream_options</c> for a call without streaming, <c>"stream": true</c> for a streaming
    /// one); otherwise the object written out as <see cref="CreateContent(JsonObject, StreamField)"/> does.
    /// </summary>
    public static HttpContent CreateContent(InferenceRequest request, StreamField stream)
    {
        ArgumentNullException.ThrowIfNull(request);
        if (!request.HasClientBytes || !NeedsNoRewrite(request.Root, stream))
        {
            return CreateContent(request.Body, stream);
        }

        // The bytes belong to the request (never a pooled buffer), so the handler may send them after this returns.
        var content = new ReadOnlyMemoryContent(request.ClientBytes);
        content.Headers.ContentType = JsonMediaType;
        return content;
    }

    // Read on the client's element (no object tree built): a member present as JSON null counts as present.
    private static bool NeedsNoRewrite(JsonElement body, StreamField stream) => stream switch
    {
        StreamField.AsGiven => true,
        StreamField.NotStreaming => !body.TryGetProperty("stream"u8, out _) && !body.TryGetProperty("stream_options"u8, out _),
        _ => body.TryGetProperty("stream"u8, out var value) && value.ValueKind == JsonValueKind.True,
    };

    /// <summary>
    /// The request body, with a Content-Length; the caller's object is not modified. Written through this thread's
    /// scratch buffer and copied into an array of its exact length: the content owns its bytes, since the handler may
    /// still be sending them after the call that made it returned (no pooled array is handed to it).
    /// </summary>
    public static HttpContent CreateContent(JsonObject request, StreamField stream)
    {
        var buffer = _scratch ?? new ArrayBufferWriter<byte>(1024);
        _scratch = null;
        var writer = _scratchWriter;
        if (writer is null)
        {
            writer = new Utf8JsonWriter(buffer, WriterOptions);
        }
        else
        {
            _scratchWriter = null;
            writer.Reset(buffer);
        }

        byte[] body;
        try
        {
            Write(writer, request, stream);
            writer.Flush();
            body = buffer.WrittenSpan.ToArray();
        }
        finally
        {
            // Prompts may be sensitive: cleared before the buffer is kept for the next request on this thread.
            buffer.Clear();
            writer.Reset();
            if (buffer.Capacity <= MaxKeptBytes)
            {
                _scratch = buffer;
                _scratchWriter = writer;
            }
        }

        var content = new ReadOnlyMemoryContent(body);
        content.Headers.ContentType = JsonMediaType;
        return content;
    }

    private static void Write(Utf8JsonWriter writer, JsonObject request, StreamField stream)
    {
        if (stream == StreamField.AsGiven)
        {
            request.WriteTo(writer);
            return;
        }

        writer.WriteStartObject();
        var count = request.Count;
        for (var i = 0; i < count; i++)
        {
            var (name, value) = request.GetAt(i);
            if (name == "stream" || (name == "stream_options" && stream == StreamField.NotStreaming))
            {
                continue;
            }

            writer.WritePropertyName(name);
            if (value is null)
            {
                writer.WriteNullValue();
            }
            else
            {
                value.WriteTo(writer);
            }
        }

        if (stream == StreamField.Streaming)
        {
            writer.WriteBoolean("stream", true);
        }

        writer.WriteEndObject();
    }

    /// <summary>
    /// Parses one JSON object strictly (<see cref="StrictJson.Parse"/>: every string and member name valid text, no
    /// duplicate member names, at most <see cref="DocumentOptions"/>' depth); <see cref="JsonException"/> when it is
    /// not one. An upstream's answer is untrusted: without the string check, a string with invalid UTF-8 was accepted
    /// here and threw <see cref="InvalidOperationException"/> when a dialect or the error mapping first read it, which
    /// answered the client 500 instead of 502 (found by the <c>vendor-answer</c> fuzz harness).
    /// </summary>
    public static JsonObject ParseObject(ReadOnlySpan<byte> utf8)
    {
        // The node copies what it keeps, so the caller may reuse the buffer.
        return StrictJson.Parse(utf8, DocumentOptions.MaxDepth) as JsonObject ?? throw new JsonException("the JSON value is not an object");
    }

    /// <summary>
    /// Reads at most <paramref name="maxBytes"/> of <paramref name="content"/> and parses it as a JSON object;
    /// null when the body is larger (not read further). A Content-Length above the bound is refused without reading.
    /// </summary>
    public static async Task<JsonObject?> ReadObjectAsync(HttpContent content, int maxBytes, CancellationToken cancellationToken)
    {
        if (content.Headers.ContentLength is { } declared && declared > maxBytes)
        {
            return null;
        }

        var stream = await content.ReadAsStreamAsync(cancellationToken).ConfigureAwait(false);
        await using (stream.ConfigureAwait(false))
        {
            var initial = (int)Math.Min(content.Headers.ContentLength ?? 16 * 1024, maxBytes) + 1;
            var buffer = ArrayPool<byte>.Shared.Rent(Math.Max(initial, 256));
            var length = 0;
            try
            {
                while (true)
                {
                    if (length == buffer.Length)
                    {
                        if (length > maxBytes)
                        {
                            return null;
                        }

                        var larger = ArrayPool<byte>.Shared.Rent((int)Math.Min((long)buffer.Length * 2, (long)maxBytes + 1));
                        buffer.AsSpan(0, length).CopyTo(larger);
                        ArrayPool<byte>.Shared.Return(buffer);
                        buffer = larger;
                    }

                    var read = await stream.ReadAsync(buffer.AsMemory(length), cancellationToken).ConfigureAwait(false);
                    if (read == 0)
                    {
                        break;
                    }

                    length += read;
                    if (length > maxBytes)
                    {
                        return null;
                    }
                }

                return ParseObject(buffer.AsSpan(0, length));
            }
            finally
            {
                ArrayPool<byte>.Shared.Return(buffer);
            }
        }
    }
}
