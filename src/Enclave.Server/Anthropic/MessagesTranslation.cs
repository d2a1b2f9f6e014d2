using System.Text.Json;
using System.Text.Json.Nodes;

namespace Enclave.Server.Anthropic;

/// <summary>
/// The inbound Anthropic Messages API translated to the enclave's internal request (the OpenAI chat request every
/// backend takes) and its answer translated back. The outbound direction (OpenAI to a vendor's Anthropic API) lives
/// in <c>Enclave.Inference.Upstream.AnthropicDialect</c>; this is its mirror for clients written for Claude.
/// </summary>
internal static class MessagesTranslation
{
    /// <summary>The request members translated; any other is refused with a 400 naming it, never dropped.</summary>
    private static readonly HashSet<string> Known = new(StringComparer.Ordinal)
    {
        "model", "messages", "system", "max_tokens", "stop_sequences", "temperature", "top_p", "top_k", "tools", "tool_choice", "stream", "metadata",
    };

    /// <summary>Translates an Anthropic Messages request; throws <see cref="MessagesRequestException"/> naming what is wrong.</summary>
    public static JsonObject ToChatRequest(JsonObject request)
    {
        foreach (var (name, value) in request)
        {
            if (!Known.Contains(name) && value is not null)
            {
                throw new MessagesRequestException($"'{Sanitize(name)}': this enclave's /v1/messages does not support this parameter; remove it");
            }
        }

        var chat = new JsonObject();
        if (request["model"] is JsonValue model && model.TryGetValue<string>(out var modelName))
        {
            chat["model"] = modelName;
        }
        else
        {
            throw new MessagesRequestException("'model': a model name (string) is required");
        }

        if (request["max_tokens"] is not JsonValue max || !max.TryGetValue<long>(out var maxTokens) || maxTokens < 1)
        {
            throw new MessagesRequestException("'max_tokens': a positive integer is required");
        }

        chat["max_tokens"] = maxTokens;
        var messages = new JsonArray();
        switch (request["system"])
        {
            case null:
                break;
            case JsonValue s when s.TryGetValue<string>(out var system):
                messages.Add(new JsonObject { ["role"] = "system", ["content"] = system });
                break;
            case JsonArray blocks:
                messages.Add(new JsonObject { ["role"] = "system", ["content"] = TextOf(blocks, "system") });
                break;
            default:
                throw new MessagesRequestException("'system': must be a string or an array of text blocks");
        }

        if (request["messages"] is not JsonArray { Count: > 0 } turns)
        {
            throw new MessagesRequestException("'messages': a non-empty array is required");
        }

        for (var i = 0; i < turns.Count; i++)
        {
            AddTurn(messages, turns[i] as JsonObject ?? throw new MessagesRequestException($"'messages[{i}]': must be an object"), $"messages[{i}]");
        }

        chat["messages"] = messages;
        if (request["stop_sequences"] is JsonArray stops)
        {
            chat["stop"] = new JsonArray([.. stops.Select(s => s is JsonValue v && v.TryGetValue<string>(out var t) ? (JsonNode)t : throw new MessagesRequestException("'stop_sequences': must be an array of strings"))]);
        }

        foreach (var name in (string[])["temperature", "top_p", "top_k"])
        {
            if (request[name] is { } value)
            {
                chat[name] = value is JsonValue v && v.TryGetValue<double>(out var number) ? number : throw new MessagesRequestException($"'{name}': must be a number");
            }
        }

        if (request["tools"] is JsonArray tools)
        {
            chat["tools"] = new JsonArray([.. tools.Select((t, i) => (JsonNode)Tool(t as JsonObject, $"tools[{i}]"))]);
        }

        if (request["tool_choice"] is JsonObject choice)
        {
            chat["tool_choice"] = TypeOf(choice) switch
            {
                "auto" => "auto",
                "any" => "required",
                "none" => "none",
                "tool" when choice["name"] is JsonValue n && n.TryGetValue<string>(out var toolName) => new JsonObject { ["type"] = "function", ["function"] = new JsonObject { ["name"] = toolName } },
                _ => throw new MessagesRequestException("'tool_choice.type': must be auto, any, none, or tool with a name"),
            };
        }

        if (request["metadata"] is JsonObject metadata && metadata["user_id"] is JsonValue user && user.TryGetValue<string>(out var userId))
        {
            chat["user"] = userId;
        }

        if (request["stream"] is JsonValue stream && stream.TryGetValue<bool>(out var streaming) && streaming)
        {
            chat["stream"] = true;
            chat["stream_options"] = new JsonObject { ["include_usage"] = true };
        }

        return chat;
    }

    private static void AddTurn(JsonArray messages, JsonObject turn, string where)
    {
        var role = turn["role"] is JsonValue r && r.TryGetValue<string>(out var roleName) ? roleName : null;
        if (role is not ("user" or "assistant"))
        {
            throw new MessagesRequestException($"'{where}.role': must be 'user' or 'assistant'");
        }

        if (turn["content"] is JsonValue v && v.TryGetValue<string>(out var text))
        {
            messages.Add(new JsonObject { ["role"] = role, ["content"] = text });
            return;
        }

        var blocks = turn["content"] as JsonArray ?? throw new MessagesRequestException($"'{where}.content': must be a string or an array of content blocks");

        var parts = new JsonArray();
        var toolCalls = new JsonArray();
        for (var i = 0; i < blocks.Count; i++)
        {
            var at = $"{where}.content[{i}]";
            var block = blocks[i] as JsonObject ?? throw new MessagesRequestException($"'{at}': must be an object");
            switch (TypeOf(block))
            {
                case "text":
                    parts.Add(new JsonObject { ["type"] = "text", ["text"] = String(block["text"], at + ".text") });
                    break;
                case "image" when role == "user":
                    parts.Add(new JsonObject { ["type"] = "image_url", ["image_url"] = new JsonObject { ["url"] = ImageUrl(block["source"] as JsonObject, at + ".source") } });
                    break;
                case "tool_use" when role == "assistant":
                    toolCalls.Add(new JsonObject
                    {
                        ["id"] = String(block["id"], at + ".id"),
                        ["type"] = "function",
                        ["function"] = new JsonObject
                        {
                            ["name"] = String(block["name"], at + ".name"),
                            ["arguments"] = (block["input"] ?? new JsonObject()).ToJsonString(),
                        },
                    });
                    break;
                case "tool_result" when role == "user":
                    // OpenAI carries a tool's result as its own 'tool' message, before the rest of the user's turn.
                    var content = block["content"] switch
                    {
                        null => string.Empty,
                        JsonValue c when c.TryGetValue<string>(out var s) => s,
                        JsonArray c => TextOf(c, at + ".content"),
                        _ => throw new MessagesRequestException($"'{at}.content': must be a string or an array of text blocks"),
                    };
                    if (block["is_error"] is JsonValue e && e.TryGetValue<bool>(out var isError) && isError)
                    {
                        content = "Error: " + content;
                    }

                    messages.Add(new JsonObject { ["role"] = "tool", ["tool_call_id"] = String(block["tool_use_id"], at + ".tool_use_id"), ["content"] = content });
                    break;
                default:
                    throw new MessagesRequestException($"'{at}.type': this enclave takes text and image blocks from the user, text and tool_use from the assistant, and tool_result from the user; not '{Sanitize(block["type"]?.ToJsonString() ?? "missing")}' here");
            }
        }

        if (parts.Count == 0 && toolCalls.Count == 0)
        {
            return;
        }

        var message = new JsonObject { ["role"] = role };
        message["content"] = parts.Count == 0 ? null : parts.All(p => (string?)p!["type"] == "text") ? string.Concat(parts.Select(p => (string?)p!["text"])) : parts;
        if (toolCalls.Count > 0)
        {
            message["tool_calls"] = toolCalls;
        }

        messages.Add(message);
    }

    private static string ImageUrl(JsonObject? source, string where)
    {
        if (source is null)
        {
            throw new MessagesRequestException($"'{where}': an image needs a source");
        }

        return TypeOf(source) switch
        {
            "base64" => $"data:{String(source["media_type"], where + ".media_type")};base64,{String(source["data"], where + ".data")}",
            "url" => String(source["url"], where + ".url"),
            _ => throw new MessagesRequestException($"'{where}.type': must be 'base64' or 'url'"),
        };
    }

    private static JsonObject Tool(JsonObject? tool, string where)
    {
        if (tool is null)
        {
            throw new MessagesRequestException($"'{where}': must be an object");
        }

        if (tool["type"] is not null && TypeOf(tool) is not "custom")
        {
            throw new MessagesRequestException($"'{where}.type': server tools ('{Sanitize(tool["type"]!.ToJsonString())}') are not supported by this enclave; send client tools with an input_schema");
        }

        var function = new JsonObject { ["name"] = String(tool["name"], where + ".name") };
        if (tool["description"] is JsonValue d && d.TryGetValue<string>(out var description))
        {
            function["description"] = description;
        }

        function["parameters"] = (tool["input_schema"] as JsonObject ?? throw new MessagesRequestException($"'{where}.input_schema': an object (JSON Schema) is required")).DeepClone();
        return new JsonObject { ["type"] = "function", ["function"] = function };
    }

    private static string TextOf(JsonArray blocks, string where) => string.Concat(blocks.Select((b, i) =>
        b is JsonObject o && TypeOf(o) == "text"
            ? String(o["text"], $"{where}[{i}].text")
            : throw new MessagesRequestException($"'{where}[{i}]': only text blocks are accepted here")));

    private static string? TypeOf(JsonObject o) => o["type"] is JsonValue v && v.TryGetValue<string>(out var s) ? s : null;

    private static string String(JsonNode? node, string where) =>
        node is JsonValue v && v.TryGetValue<string>(out var s) ? s : throw new MessagesRequestException($"'{where}': a string is required");

    /// <summary>
    /// The Anthropic stop reason of an OpenAI finish reason (the mirror of AnthropicDialect.FinishReason). An answer
    /// that called a tool stopped for <c>tool_use</c> in Anthropic's terms even where OpenAI says <c>stop</c> (a named
    /// <c>tool_choice</c>, which Anthropic's <c>tool_choice</c> of type tool becomes).
    /// </summary>
    public static string? StopReason(string? finishReason, bool calledATool = false) => finishReason switch
    {
        null => null,
        "length" => "max_tokens",
        "tool_calls" or "function_call" => "tool_use",
        "stop" when calledATool => "tool_use",
        "content_filter" => "refusal",
        _ => "end_turn",
    };

    /// <summary>Translates an OpenAI chat completion into an Anthropic message.</summary>
    public static JsonObject ToMessage(JsonObject completion, string model)
    {
        var content = new JsonArray();
        var choice = (completion["choices"] as JsonArray)?.FirstOrDefault() as JsonObject;
        var message = choice?["message"] as JsonObject;
        if (message?["content"] is JsonValue text && text.TryGetValue<string>(out var answer) && answer.Length > 0)
        {
            content.Add(new JsonObject { ["type"] = "text", ["text"] = answer });
        }

        if (message?["tool_calls"] is JsonArray calls)
        {
            foreach (var call in calls.OfType<JsonObject>())
            {
                content.Add(new JsonObject
                {
                    ["type"] = "tool_use",
                    ["id"] = (string?)call["id"] ?? "toolu_" + Guid.NewGuid().ToString("N"),
                    ["name"] = (string?)call["function"]?["name"],
                    ["input"] = Arguments((string?)call["function"]?["arguments"]),
                });
            }
        }

        var usage = completion["usage"] as JsonObject;
        return new JsonObject
        {
            ["id"] = MessageId(completion),
            ["type"] = "message",
            ["role"] = "assistant",
            ["model"] = model,
            ["content"] = content,
            ["stop_reason"] = StopReason((string?)choice?["finish_reason"] ?? "stop", content.Any(b => (string?)b?["type"] == "tool_use")),
            ["stop_sequence"] = null,
            ["usage"] = Usage(usage),
        };
    }

    public static JsonObject Usage(JsonObject? usage) => new()
    {
        ["input_tokens"] = (long?)usage?["prompt_tokens"] ?? 0,
        ["output_tokens"] = (long?)usage?["completion_tokens"] ?? 0,
    };

    public static string MessageId(JsonObject completion) =>
        "msg_" + ((string?)completion["id"] is { Length: > 0 } id ? id.Replace("chatcmpl-", string.Empty, StringComparison.Ordinal) : Guid.NewGuid().ToString("N"));

    /// <summary>A tool call's arguments (a JSON string) as the object Anthropic's <c>input</c> is.</summary>
    public static JsonNode Arguments(string? arguments)
    {
        if (string.IsNullOrWhiteSpace(arguments))
        {
            return new JsonObject();
        }

        try
        {
            return JsonNode.Parse(arguments) as JsonObject ?? new JsonObject { ["value"] = arguments };
        }
        catch (JsonException)
        {
            return new JsonObject { ["arguments"] = arguments };
        }
    }

    private static string Sanitize(string text) => text.Length > 64 ? text[..64] + "..." : text;
}

/// <summary>An Anthropic request this enclave cannot translate; its message names the parameter.</summary>
internal sealed class MessagesRequestException(string message) : Exception(message);
