using System.Buffers;
using System.Text.Encodings.Web;
using System.Text.Json;
using System.Text.Json.Nodes;
using Microsoft.AspNetCore.Http;

namespace Enclave.Server.OpenAi;

/// <summary>
/// A non-streamed answer written as compact UTF-8 JSON (<c>application/json; charset=utf-8</c>, with its
/// Content-Length): the same bytes as <c>Results.Text(body.ToJsonString(...))</c> gave, without the UTF-16 string and
/// its re-encoding in between (every API answer passes here). Non-ASCII text stays UTF-8, as before.
/// </summary>
internal static class JsonAnswer
{
    private const string ContentType = "application/json; charset=utf-8";

    // Writers that grew past this (a very long answer) are dropped rather than kept by their thread.
    private const int MaxKeptBytes = 64 * 1024;

    private static readonly JsonWriterOptions WriterOptions = new() { Encoder = JavaScriptEncoder.UnsafeRelaxedJsonEscaping };

    [ThreadStatic]
    private static ArrayBufferWriter<byte>? _buffer;

    [ThreadStatic]
    private static Utf8JsonWriter? _writer;

    /// <summary>The answer as a result: <paramref name="body"/> is written now, so later changes to it are not sent.</summary>
    public static IResult Result(JsonObject body) => new Utf8Result(Utf8(body));

    /// <summary>The compact UTF-8 JSON of <paramref name="body"/>, in an array of its exact length.</summary>
    public static byte[] Utf8(JsonNode body)
    {
        ArgumentNullException.ThrowIfNull(body);

        // Per thread and synchronous (nothing is awaited while the buffer is out), so no two requests share it.
        var buffer = _buffer ?? new ArrayBufferWriter<byte>(1024);
        _buffer = null;
        var writer = _writer;
        if (writer is null)
        {
            writer = new Utf8JsonWriter(buffer, WriterOptions);
        }
        else
        {
            _writer = null;
            writer.Reset(buffer);
        }

        try
        {
            body.WriteTo(writer);
            writer.Flush();
            return buffer.WrittenSpan.ToArray();
        }
        finally
        {
            // Answers may be sensitive: what was written is cleared before the buffer is kept for the next one.
            buffer.Clear();
            writer.Reset();
            if (buffer.Capacity <= MaxKeptBytes)
            {
                _buffer = buffer;
                _writer = writer;
            }
        }
    }

    private sealed class Utf8Result(byte[] utf8) : IResult
    {
        public Task ExecuteAsync(HttpContext httpContext)
        {
            ArgumentNullException.ThrowIfNull(httpContext);
            httpContext.Response.ContentType = ContentType;
            httpContext.Response.ContentLength = utf8.Length;
            return httpContext.Response.Body.WriteAsync(utf8).AsTask();
        }
    }
}
