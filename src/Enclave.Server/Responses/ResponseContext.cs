using System.Security.Cryptography;
using System.Text.Json.Nodes;

namespace Enclave.Server.Responses;

/// <summary>
/// One response being made: its id and creation time, and the request's settings that the response object echoes
/// (instructions, chain, tools in the Responses form, sampling, text format, metadata, store).
/// </summary>
internal sealed class ResponseContext
{
    private ResponseContext(string id, DateTimeOffset created, JsonObject request)
    {
        Id = id;
        Created = created;
        Request = request;
    }

    public string Id { get; }

    public DateTimeOffset Created { get; }

    /// <summary>The Responses request as the client sent it.</summary>
    public JsonObject Request { get; }

    public string Model => (string)Request["model"]!;

    /// <summary>Whether the response is to be stored (the API's default: yes).</summary>
    public bool Store => ResponsesTranslation.Bool(Request, "store") ?? true;

    public string? PreviousId => ResponsesTranslation.String(Request, "previous_response_id");

    /// <summary>Whether the request asked to be answered in the background (<c>background: true</c>).</summary>
    public bool Background => ResponsesTranslation.Bool(Request, "background") ?? false;

    public static ResponseContext Create(JsonObject request, DateTimeOffset now) => new(NewId("resp", 24), now, request);

    /// <summary>A new item id with <paramref name="prefix"/> (<c>msg</c>, <c>fc</c>).</summary>
    public string NewId(string prefix) => NewId(prefix, 16);

    private static string NewId(string prefix, int bytes) => prefix + "_" + Convert.ToHexStringLower(RandomNumberGenerator.GetBytes(bytes));

    /// <summary>The response object with <paramref name="status"/> (<c>failed</c> with <paramref name="error"/>), <paramref name="output"/> and, when known, token usage.</summary>
    public JsonObject Response(string status, JsonArray output, (int Input, int Output)? usage, (string Code, string Message)? error = null)
    {
        var text = Request["text"] is JsonObject t && t["format"] is JsonObject f ? f.DeepClone() : new JsonObject { ["type"] = "text" };
        return new JsonObject
        {
            ["id"] = Id,
            ["object"] = "response",
            ["created_at"] = Created.ToUnixTimeSeconds(),
            ["status"] = status,
            ["background"] = Background,
            ["error"] = error is { } e ? new JsonObject { ["code"] = e.Code, ["message"] = e.Message } : null,
            ["incomplete_details"] = status == "incomplete" ? new JsonObject { ["reason"] = "max_output_tokens" } : null,
            ["instructions"] = Request["instructions"]?.DeepClone(),
            ["max_output_tokens"] = Request["max_output_tokens"]?.DeepClone(),
            ["model"] = Model,
            ["output"] = output,
            ["parallel_tool_calls"] = Request["parallel_tool_calls"]?.DeepClone() ?? true,
            ["previous_response_id"] = PreviousId,
            ["store"] = Store,
            ["temperature"] = Request["temperature"]?.DeepClone() ?? 1.0,
            ["text"] = new JsonObject { ["format"] = text },
            ["tool_choice"] = Request["tool_choice"]?.DeepClone() ?? "auto",
            ["tools"] = Request["tools"]?.DeepClone() ?? new JsonArray(),
            ["top_p"] = Request["top_p"]?.DeepClone() ?? 1.0,
            ["truncation"] = "disabled",
            ["usage"] = usage is { } u
                ? new JsonObject
                {
                    ["input_tokens"] = u.Input,
                    ["input_tokens_details"] = new JsonObject { ["cached_tokens"] = 0 },
                    ["output_tokens"] = u.Output,
                    ["output_tokens_details"] = new JsonObject { ["reasoning_tokens"] = 0 },
                    ["total_tokens"] = u.Input + u.Output,
                }
                : null,
            ["user"] = Request["user"]?.DeepClone(),
            ["metadata"] = Request["metadata"]?.DeepClone() ?? new JsonObject(),
        };
    }
}
