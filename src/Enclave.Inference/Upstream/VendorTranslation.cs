using System.Text;
using System.Text.Json;
using System.Text.Json.Nodes;
using Enclave.Inference.Backends;

namespace Enclave.Inference.Upstream;

/// <summary>Pieces shared by the translations between the OpenAI API and vendors' APIs.</summary>
internal static class VendorTranslation
{
    /// <summary>400 for a parameter the vendor cannot honour: named, never silently dropped.</summary>
    public static BackendException Unsupported(UpstreamBackendOptions backend, string parameter, string why) =>
        new(
            400,
            "invalid_request_error",
            $"upstream backend '{backend.Name}' ({backend.Kind}) cannot honour '{parameter}': {why}; remove it from the request or use a model served by another kind of backend");

    /// <summary>400 for a request that is not a valid OpenAI request where the translation needs it to be.</summary>
    public static BackendException Invalid(string parameter, string what) =>
        new(400, "invalid_request_error", $"'{parameter}' {what}");

    /// <summary>502 for a vendor answer that is not what the vendor documents.</summary>
    public static BackendException Malformed(UpstreamBackendOptions backend, string what) =>
        new(502, "upstream_error", $"upstream backend '{backend.Name}' ({backend.Kind}) answered with {what}");

    /// <summary>The text of a string content or of an array of text parts (system, assistant and tool messages).</summary>
    public static string TextOf(UpstreamBackendOptions backend, JsonNode? content, string where)
    {
        switch (content)
        {
            case null:
                return "";
            case JsonValue when String(content) is { } text:
                return text;
            case JsonArray parts:
                var builder = new StringBuilder();
                for (var i = 0; i < parts.Count; i++)
                {
                    if (String(parts[i]?["type"]) != "text" || String(parts[i]!["text"]) is not { } text)
                    {
                        throw Unsupported(backend, $"{where}[{i}]", "only text parts are accepted here");
                    }

                    builder.Append(text);
                }

                return builder.ToString();
            default:
                throw Invalid(where, "must be a string or an array of text parts");
        }
    }

    /// <summary>
    /// An OpenAI <c>chat.completion</c> of one choice from a vendor's translated answer: the assistant message (null
    /// content when it holds only tool calls) and its finish reason; the caller adds usage.
    /// </summary>
    public static JsonObject ChatCompletion(string id, string model, DateTimeOffset created, StringBuilder text, JsonArray toolCalls, string? finishReason)
    {
        var message = new JsonObject
        {
            ["role"] = "assistant",
            ["content"] = text.Length == 0 && toolCalls.Count > 0 ? null : text.ToString(),
        };
        if (toolCalls.Count > 0)
        {
            message["tool_calls"] = toolCalls;
        }

        return new JsonObject
        {
            ["id"] = id,
            ["object"] = "chat.completion",
            ["created"] = created.ToUnixTimeSeconds(),
            ["model"] = model,
            ["choices"] = new JsonArray(new JsonObject { ["index"] = 0, ["message"] = message, ["finish_reason"] = finishReason }),
        };
    }

    public static string? String(JsonNode? node) => node is JsonValue value && value.TryGetValue<string>(out var text) ? text : null;

    public static long? Integer(JsonNode? node) =>
        node is JsonValue value && value.TryGetValue<long>(out var number) ? number
        : node is JsonValue other && other.TryGetValue<int>(out var small) ? small
        : null;

    public static double? Number(JsonNode? node) =>
        node is JsonValue value && value.GetValueKind() == JsonValueKind.Number ? value.GetValue<double>() : null;

    /// <summary>An OpenAI <c>chat.completion.chunk</c> with one choice (<paramref name="delta"/>) or none (usage).</summary>
    public static JsonObject Chunk(string id, long created, string model, JsonObject? delta, string? finishReason, JsonObject? usage = null)
    {
        var chunk = new JsonObject
        {
            ["id"] = id,
            ["object"] = "chat.completion.chunk",
            ["created"] = created,
            ["model"] = model,
            ["choices"] = delta is null
                ? new JsonArray()
                : new JsonArray(new JsonObject { ["index"] = 0, ["delta"] = delta, ["finish_reason"] = finishReason }),
        };
        if (usage is not null)
        {
            chunk["usage"] = usage;
        }

        return chunk;
    }

    /// <summary>The OpenAI <c>usage</c> object.</summary>
    public static JsonObject Usage(long prompt, long completion) => new()
    {
        ["prompt_tokens"] = prompt,
        ["completion_tokens"] = completion,
        ["total_tokens"] = prompt + completion,
    };

    /// <summary>Whether the request asks for a usage chunk at the end of a stream (<c>stream_options.include_usage</c>).</summary>
    public static bool IncludeUsage(JsonObject request) =>
        request["stream_options"] is JsonObject options && options["include_usage"] is JsonValue value
        && value.TryGetValue<bool>(out var include) && include;

    /// <summary>
    /// A <c>data:</c> URL's media type and base64 payload (<c>data:image/png;base64,...</c>); false for another URL.
    /// </summary>
    public static bool TryParseDataUrl(string url, out string mediaType, out string base64)
    {
        mediaType = "";
        base64 = "";
        if (!url.StartsWith("data:", StringComparison.OrdinalIgnoreCase))
        {
            return false;
        }

        var comma = url.IndexOf(',', StringComparison.Ordinal);
        var header = comma < 0 ? "" : url[5..comma];
        if (comma < 0 || !header.EndsWith(";base64", StringComparison.OrdinalIgnoreCase))
        {
            throw Invalid("image_url.url", "is a data: URL that is not base64 (data:<media type>;base64,<data>)");
        }

        mediaType = header[..^";base64".Length];
        base64 = url[(comma + 1)..];
        return true;
    }
}
