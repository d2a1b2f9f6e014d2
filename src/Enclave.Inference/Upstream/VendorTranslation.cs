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

    /// <summary>The name of the forced tool a <c>json_object</c> response format is sent as.</summary>
    public const string JsonObjectToolName = "json_output";

    /// <summary>
    /// A JSON <c>response_format</c> as the tool a vendor without a response format of its own is forced to call
    /// (Anthropic, Bedrock Converse): its name (the schema's name; <see cref="JsonObjectToolName"/> for
    /// <c>json_object</c>), its input schema (the JSON schema; any object for <c>json_object</c>) and description; null
    /// for no format or <c>text</c>. The tool's input is the answer: the translation back turns the call into content.
    /// </summary>
    /// <exception cref="BackendException">400: an unknown format type, a json_schema without name or schema, or a JSON format together with <c>tools</c>.</exception>
    public static (string Name, JsonObject Schema, string? Description)? ForcedFormatTool(UpstreamBackendOptions backend, JsonObject request, string vendor)
    {
        ArgumentNullException.ThrowIfNull(request);
        if (request["response_format"] is not JsonObject format)
        {
            return null;
        }

        (string, JsonObject, string?) tool;
        switch (String(format["type"]))
        {
            case "text" or null:
                return null;
            case "json_object":
                tool = (JsonObjectToolName, new JsonObject { ["type"] = "object" }, "Give the answer as this tool's input, a JSON object.");
                break;
            case "json_schema":
                if (format["json_schema"] is not JsonObject definition || String(definition["name"]) is not { Length: > 0 } name
                    || definition["schema"] is not JsonObject schema)
                {
                    throw Invalid("response_format.json_schema", "needs a name and a schema object");
                }

                tool = (name, (JsonObject)schema.DeepClone(), String(definition["description"]) ?? "Give the answer as this tool's input.");
                break;
            case var other:
                throw Unsupported(backend, "response_format", $"'{UpstreamErrors.Sanitize(other)}' is not a response format {vendor} is sent (text, json_object and json_schema are)");
        }

        if (request["tools"] is JsonArray { Count: > 0 })
        {
            throw Unsupported(backend, "response_format", $"{vendor} receives a JSON response format as a forced tool call, which cannot be combined with 'tools'");
        }

        return tool;
    }

    /// <summary>The name of the forced tool that carries the answer (see <see cref="ForcedFormatTool"/>), or null.</summary>
    public static string? ForcedFormatToolName(JsonObject request) =>
        request["response_format"] is JsonObject format
            ? String(format["type"]) switch
            {
                "json_object" => JsonObjectToolName,
                "json_schema" => String(format["json_schema"]?["name"]),
                _ => null,
            }
            : null;

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
