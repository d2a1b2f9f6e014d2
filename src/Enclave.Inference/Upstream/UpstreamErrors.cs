using System.Text;
using System.Text.Json.Nodes;
using Enclave.Inference.Backends;

namespace Enclave.Inference.Upstream;

/// <summary>Maps what an upstream answered to a <see cref="BackendException"/> a client of this gateway understands.</summary>
internal static class UpstreamErrors
{
    /// <summary>Longest part of an upstream's error message passed on.</summary>
    internal const int MaxMessageChars = 512;

    /// <summary>
    /// The error for an upstream's non-2xx answer. <paramref name="error"/> is its body when that was a small JSON object:
    /// <c>{"error":{"message","type","param","code"}}</c> (OpenAI, llama.cpp), <c>{"object":"error","message",...}</c>
    /// (older vLLM) or <c>{"error":"text"}</c> (Ollama).
    /// </summary>
    public static BackendException FromStatus(string backend, int status, TimeSpan? retryAfter, JsonObject? error)
    {
        var (message, type) = Describe(error);
        var what = message is null ? $"HTTP {status}" : $"HTTP {status}: {message}";
        return status switch
        {
            401 or 403 or 407 => new BackendException(
                502,
                "upstream_authentication_error",
                $"upstream backend '{backend}' refused this gateway's credentials ({what}); check the API key that its ApiKeyReference names"),
            408 => new BackendException(504, "timeout", $"upstream backend '{backend}' timed out ({what})", retryAfter),
            429 => new BackendException(429, type ?? "rate_limit_exceeded", $"upstream backend '{backend}' is rate limiting ({what})", retryAfter),
            >= 400 and < 500 => new BackendException(status, type ?? "invalid_request_error", $"upstream backend '{backend}' rejected the request ({what})"),
            >= 500 and < 600 => new BackendException(status, type ?? DefaultType(status), $"upstream backend '{backend}' failed ({what})", retryAfter),
            _ => new BackendException(502, "upstream_error", $"upstream backend '{backend}' answered with an unexpected {what}"),
        };
    }

    /// <summary>An error object sent where a result was expected (a 200 body, or an event of a stream).</summary>
    public static BackendException FromErrorObject(string backend, JsonObject body, int chunksBefore)
    {
        var inner = body["error"] as JsonObject ?? body;
        var status = inner["code"] is JsonValue code && code.TryGetValue<int>(out var c) && c is >= 400 and < 600 ? c : 502;
        return InStream(FromStatus(backend, status, null, body), chunksBefore);
    }

    /// <summary>An error met in a stream: as is before its first chunk, <c>stream_interrupted</c> after.</summary>
    public static BackendException InStream(BackendException mapped, int chunksBefore)
    {
        if (chunksBefore == 0)
        {
            return mapped;
        }

        return new BackendException(
            mapped.StatusCode,
            "stream_interrupted",
            $"{mapped.Message}, in the stream after {chunksBefore} chunk(s); the partial answer was already passed on and is not retried");
    }

    /// <summary>Whether a body is an error object rather than a result.</summary>
    public static bool IsErrorObject(JsonObject body) =>
        body["error"] is JsonObject or JsonValue
        || (body["object"] is JsonValue kind && kind.TryGetValue<string>(out var text) && text == "error");

    private static (string? Message, string? Type) Describe(JsonObject? body)
    {
        if (body is null)
        {
            return (null, null);
        }

        JsonObject? error = body["error"] switch
        {
            JsonObject nested => nested,
            JsonValue text when text.TryGetValue<string>(out var s) => new JsonObject { ["message"] = s },
            _ => body["object"] is JsonValue kind && kind.TryGetValue<string>(out var k) && k == "error" ? body : null,
        };

        if (error is null)
        {
            return (null, null);
        }

        var message = error["message"] is JsonValue m && m.TryGetValue<string>(out var ms) ? Sanitize(ms) : null;
        var type = error["type"] is JsonValue t && t.TryGetValue<string>(out var ts) && IsSnakeCaseToken(ts) ? ts : null;
        return (message, type);
    }

    private static string DefaultType(int status) => status switch
    {
        503 => "overloaded",
        504 => "timeout",
        _ => "server_error",
    };

    /// <summary>OpenAI error types are snake_case tokens; anything else (vLLM's <c>BadRequestError</c>) gets the type of its status.</summary>
    private static bool IsSnakeCaseToken(string text) =>
        text.Length is > 0 and <= 64 && char.IsAsciiLetterLower(text[0])
        && text.All(ch => char.IsAsciiLetterLower(ch) || char.IsAsciiDigit(ch) || ch == '_');

    /// <summary>One line, bounded, without control characters (it may reach logs).</summary>
    internal static string Sanitize(string text)
    {
        var builder = new StringBuilder(Math.Min(text.Length, MaxMessageChars + 1));
        foreach (var ch in text)
        {
            if (builder.Length == MaxMessageChars)
            {
                builder.Append('…');
                break;
            }

            builder.Append(char.IsControl(ch) ? ' ' : ch);
        }

        return builder.ToString().Trim();
    }
}
