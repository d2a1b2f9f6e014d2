using System.Globalization;
using System.Text.Json;
using System.Text.Json.Nodes;

namespace Enclave.Server.Responses;

/// <summary>
/// The Responses API (<c>POST /v1/responses</c>) translated onto the chat request every backend already serves, and
/// the chat answer translated back into a response object. What the translation cannot carry is refused with a 400
/// naming the parameter, never dropped.
/// </summary>
internal static class ResponsesTranslation
{
    /// <summary>The most metadata keys a response carries (as OpenAI's API allows).</summary>
    public const int MaxMetadataKeys = 16;

    private static readonly HashSet<string> Supported =
    [
        "model", "input", "instructions", "previous_response_id", "tools", "tool_choice", "parallel_tool_calls", "text",
        "temperature", "top_p", "max_output_tokens", "stream", "store", "metadata", "user", "truncation", "include",
        "background", "service_tier",
    ];

    /// <summary>
    /// Checks a Responses request and builds the chat request for it: <paramref name="previous"/> (the conversation
    /// of the response named by <c>previous_response_id</c>, as chat messages) first, then the input items; the
    /// instructions as the first system message (they are not carried into a chain, as OpenAI does).
    /// </summary>
    /// <returns>The chat request, and the conversation this request adds (input items as chat messages, without instructions).</returns>
    /// <exception cref="ResponsesRequestException">Something the request asks cannot be served; names the parameter.</exception>
    public static (JsonObject Chat, JsonArray Added) ToChatRequest(JsonObject request, JsonArray? previous)
    {
        ArgumentNullException.ThrowIfNull(request);
        var unsupported = request.Select(p => p.Key).Where(k => !Supported.Contains(k)).ToList();
        if (unsupported.Count > 0)
        {
            throw new ResponsesRequestException(
                $"unsupported parameter{(unsupported.Count == 1 ? string.Empty : "s")} for the Responses API in this enclave: {string.Join(", ", unsupported.Select(u => $"'{u}'"))}",
                unsupported[0]);
        }

        var model = String(request, "model") ?? throw new ResponsesRequestException("'model' is required", "model");
        var chat = new JsonObject { ["model"] = model };
        var messages = new JsonArray();
        if (String(request, "instructions") is { } instructions)
        {
            messages.Add(new JsonObject { ["role"] = "system", ["content"] = instructions });
        }

        if (previous is not null)
        {
            foreach (var message in previous)
            {
                messages.Add(message?.DeepClone());
            }
        }

        var added = Input(request["input"] ?? throw new ResponsesRequestException("'input' is required", "input"));
        foreach (var message in added)
        {
            messages.Add(message?.DeepClone());
        }

        chat["messages"] = messages;
        if (request["tools"] is { } tools)
        {
            chat["tools"] = Tools(tools);
        }

        if (request["tool_choice"] is { } choice)
        {
            chat["tool_choice"] = ToolChoice(choice);
        }

        if (Bool(request, "parallel_tool_calls") is { } parallel)
        {
            chat["parallel_tool_calls"] = parallel;
        }

        if (request["text"] is { } text && Format(text) is { } format)
        {
            chat["response_format"] = format;
        }

        foreach (var name in (ReadOnlySpan<string>)["temperature", "top_p"])
        {
            if (request[name] is { } value)
            {
                if (value.GetValueKind() != JsonValueKind.Number)
                {
                    throw new ResponsesRequestException($"'{name}' must be a number", name);
                }

                chat[name] = value.DeepClone();
            }
        }

        if (request["max_output_tokens"] is { } max)
        {
            if (max is not JsonValue v || !v.TryGetValue<long>(out var tokens) || tokens < 1)
            {
                throw new ResponsesRequestException("'max_output_tokens' must be a positive integer", "max_output_tokens");
            }

            chat["max_tokens"] = tokens;
        }

        if (Bool(request, "stream") == true)
        {
            chat["stream"] = true;
            chat["stream_options"] = new JsonObject { ["include_usage"] = true };
        }

        if (String(request, "user") is { } user)
        {
            chat["user"] = user;
        }

        Bool(request, "store");
        Metadata(request);
        if (String(request, "truncation") is { } truncation && truncation != "disabled")
        {
            throw new ResponsesRequestException($"'truncation' \"{truncation}\" is not supported; only \"disabled\" (a request over the context window fails)", "truncation");
        }

        if (request["include"] is { } include && (include is not JsonArray items || items.Count > 0))
        {
            throw new ResponsesRequestException("'include' is not supported: no additional output data is available in this enclave", "include");
        }

        if (Bool(request, "background") == true)
        {
            if (Bool(request, "stream") == true)
            {
                throw new ResponsesRequestException("'background' responses are not streamed in this enclave; create it without 'stream' and poll GET /v1/responses/{id}", "stream");
            }

            if (Bool(request, "store") == false)
            {
                throw new ResponsesRequestException("'background' responses must be stored: 'store' cannot be false", "store");
            }
        }

        if (String(request, "service_tier") is { } tier && tier is not ("auto" or "default"))
        {
            throw new ResponsesRequestException($"'service_tier' \"{tier}\" is not supported; only \"auto\" or \"default\"", "service_tier");
        }

        String(request, "previous_response_id");
        return (chat, added);
    }

    /// <summary>
    /// The request's input as the Responses API lists it (<c>GET /v1/responses/{id}/input_items</c>): each item with its
    /// <c>type</c>, an <c>id</c> (the client's, or a new one), <c>status</c>, and message content as content parts. Call
    /// after <see cref="ToChatRequest"/> accepted the request.
    /// </summary>
    public static JsonArray InputItems(JsonObject request, ResponseContext context)
    {
        ArgumentNullException.ThrowIfNull(request);
        ArgumentNullException.ThrowIfNull(context);
        if (request["input"] is JsonValue text && text.GetValueKind() == JsonValueKind.String)
        {
            return [new JsonObject
            {
                ["id"] = context.NewId("msg"),
                ["type"] = "message",
                ["role"] = "user",
                ["status"] = "completed",
                ["content"] = new JsonArray(new JsonObject { ["type"] = "input_text", ["text"] = text.GetValue<string>() }),
            }];
        }

        var items = new JsonArray();
        foreach (var node in (JsonArray)request["input"]!)
        {
            var item = (JsonObject)node!.DeepClone();
            var type = (string?)item["type"] ?? "message";
            item["type"] = type;
            if (item["id"] is not JsonValue id || id.GetValueKind() != JsonValueKind.String)
            {
                item["id"] = context.NewId(type switch { "function_call" => "fc", "function_call_output" => "fco", _ => "msg" });
            }

            item["status"] ??= "completed";
            if (type == "message" && item["content"] is JsonValue content && content.GetValueKind() == JsonValueKind.String)
            {
                item["content"] = new JsonArray((string?)item["role"] == "assistant"
                    ? OutputText(content.GetValue<string>())
                    : new JsonObject { ["type"] = "input_text", ["text"] = content.GetValue<string>() });
            }

            items.Add(item);
        }

        return items;
    }

    /// <summary>The metadata object (string values, at most <see cref="MaxMetadataKeys"/> keys), or null.</summary>
    public static JsonObject? Metadata(JsonObject request)
    {
        if (request["metadata"] is null)
        {
            return null;
        }

        if (request["metadata"] is not JsonObject metadata || metadata.Count > MaxMetadataKeys
            || metadata.Any(p => p.Key.Length > 64 || p.Value is not JsonValue v || v.GetValueKind() != JsonValueKind.String || v.GetValue<string>().Length > 512))
        {
            throw new ResponsesRequestException($"'metadata' must be an object of at most {MaxMetadataKeys} string values (keys up to 64, values up to 512 characters)", "metadata");
        }

        return metadata;
    }

    /// <summary>A string field, or null when absent; any other JSON type is refused.</summary>
    public static string? String(JsonObject request, string name)
    {
        var node = request[name];
        if (node is null)
        {
            return null;
        }

        return node is JsonValue v && v.GetValueKind() == JsonValueKind.String ? v.GetValue<string>() : throw new ResponsesRequestException($"'{name}' must be a string", name);
    }

    /// <summary>A boolean field, or null when absent; any other JSON type is refused.</summary>
    public static bool? Bool(JsonObject request, string name)
    {
        var node = request[name];
        if (node is null)
        {
            return null;
        }

        return node.GetValueKind() switch
        {
            JsonValueKind.True => true,
            JsonValueKind.False => false,
            _ => throw new ResponsesRequestException($"'{name}' must be true or false", name),
        };
    }

    private static JsonArray Input(JsonNode input)
    {
        if (input is JsonValue text && text.GetValueKind() == JsonValueKind.String)
        {
            return [new JsonObject { ["role"] = "user", ["content"] = text.GetValue<string>() }];
        }

        if (input is not JsonArray items || items.Count == 0)
        {
            throw new ResponsesRequestException("'input' must be a string or a non-empty array of input items", "input");
        }

        var messages = new JsonArray();
        JsonObject? calls = null; // consecutive function_call items become one assistant message with several tool calls
        for (var i = 0; i < items.Count; i++)
        {
            var where = $"input[{i}]";
            if (items[i] is not JsonObject item)
            {
                throw new ResponsesRequestException($"'{where}' must be an object", where);
            }

            var type = item["type"] is null ? "message" : String(item, "type");
            if (type == "function_call")
            {
                var call = new JsonObject
                {
                    ["id"] = Required(item, "call_id", where),
                    ["type"] = "function",
                    ["function"] = new JsonObject { ["name"] = Required(item, "name", where), ["arguments"] = Required(item, "arguments", where) },
                };
                if (calls is null)
                {
                    calls = new JsonObject { ["role"] = "assistant", ["content"] = null, ["tool_calls"] = new JsonArray() };
                    messages.Add(calls);
                }

                ((JsonArray)calls["tool_calls"]!).Add(call);
                continue;
            }

            calls = null;
            messages.Add(type switch
            {
                "message" => Message(item, where),
                "function_call_output" => new JsonObject
                {
                    ["role"] = "tool",
                    ["tool_call_id"] = Required(item, "call_id", where),
                    ["content"] = Required(item, "output", where),
                },
                _ => throw new ResponsesRequestException($"input items of type '{type}' are not supported; use message, function_call or function_call_output", where + ".type"),
            });
        }

        return messages;
    }

    private static JsonObject Message(JsonObject item, string where)
    {
        var role = Required(item, "role", where);
        if (role is not ("user" or "assistant" or "system" or "developer"))
        {
            throw new ResponsesRequestException($"'{where}.role' must be user, assistant, system or developer (was '{role}')", where + ".role");
        }

        foreach (var key in item.Select(p => p.Key))
        {
            if (key is not ("type" or "role" or "content" or "id" or "status"))
            {
                throw new ResponsesRequestException($"'{where}.{key}' is not supported", $"{where}.{key}");
            }
        }

        var chatRole = role == "developer" ? "system" : role;
        var content = item["content"];
        if (content is JsonValue s && s.GetValueKind() == JsonValueKind.String)
        {
            return new JsonObject { ["role"] = chatRole, ["content"] = s.GetValue<string>() };
        }

        if (content is not JsonArray parts || parts.Count == 0)
        {
            throw new ResponsesRequestException($"'{where}.content' must be a string or a non-empty array of content parts", where + ".content");
        }

        var chatParts = new JsonArray();
        var textOnly = true;
        for (var j = 0; j < parts.Count; j++)
        {
            var at = $"{where}.content[{j}]";
            if (parts[j] is not JsonObject part)
            {
                throw new ResponsesRequestException($"'{at}' must be an object", at);
            }

            var type = Required(part, "type", at);
            switch (type)
            {
                case "input_text" or "output_text":
                    chatParts.Add(new JsonObject { ["type"] = "text", ["text"] = Required(part, "text", at) });
                    break;
                case "input_image" when role == "user":
                    var url = part["image_url"] is null ? throw new ResponsesRequestException($"'{at}.image_url' is required (file_id images are not supported)", at + ".image_url") : String(part, "image_url")!;
                    var image = new JsonObject { ["url"] = url };
                    if (String(part, "detail") is { } detail)
                    {
                        image["detail"] = detail;
                    }

                    chatParts.Add(new JsonObject { ["type"] = "image_url", ["image_url"] = image });
                    textOnly = false;
                    break;
                default:
                    throw new ResponsesRequestException($"content parts of type '{type}' are not supported here; use input_text or input_image", at + ".type");
            }
        }

        // Text-only content is sent as one string, the form every backend and chat template reads.
        return new JsonObject
        {
            ["role"] = chatRole,
            ["content"] = textOnly ? string.Concat(chatParts.Select(p => (string)p!["text"]!)) : chatParts,
        };
    }

    private static JsonArray Tools(JsonNode tools)
    {
        if (tools is not JsonArray list)
        {
            throw new ResponsesRequestException("'tools' must be an array", "tools");
        }

        var chat = new JsonArray();
        for (var i = 0; i < list.Count; i++)
        {
            var where = $"tools[{i}]";
            if (list[i] is not JsonObject tool)
            {
                throw new ResponsesRequestException($"'{where}' must be an object", where);
            }

            var type = Required(tool, "type", where);
            if (type != "function")
            {
                throw new ResponsesRequestException($"tools of type '{type}' are not supported in this enclave; only function tools", where + ".type");
            }

            var function = new JsonObject { ["name"] = Required(tool, "name", where) };
            if (String(tool, "description") is { } description)
            {
                function["description"] = description;
            }

            if (tool["parameters"] is { } parameters)
            {
                function["parameters"] = parameters.DeepClone();
            }

            if (Bool(tool, "strict") is { } strict)
            {
                function["strict"] = strict;
            }

            chat.Add(new JsonObject { ["type"] = "function", ["function"] = function });
        }

        return chat;
    }

    private static JsonNode ToolChoice(JsonNode choice)
    {
        if (choice is JsonValue v && v.GetValueKind() == JsonValueKind.String && v.GetValue<string>() is "auto" or "none" or "required")
        {
            return v.DeepClone();
        }

        if (choice is JsonObject o && String(o, "type") == "function" && String(o, "name") is { } name)
        {
            return new JsonObject { ["type"] = "function", ["function"] = new JsonObject { ["name"] = name } };
        }

        throw new ResponsesRequestException("'tool_choice' must be \"auto\", \"none\", \"required\" or {\"type\":\"function\",\"name\":...}", "tool_choice");
    }

    private static JsonObject? Format(JsonNode text)
    {
        if (text is not JsonObject options)
        {
            throw new ResponsesRequestException("'text' must be an object", "text");
        }

        foreach (var key in options.Select(p => p.Key))
        {
            if (key != "format" && !(key == "verbosity" && String(options, "verbosity") == "medium"))
            {
                throw new ResponsesRequestException($"'text.{key}' is not supported", $"text.{key}");
            }
        }

        if (options["format"] is null)
        {
            return null;
        }

        if (options["format"] is not JsonObject format)
        {
            throw new ResponsesRequestException("'text.format' must be an object", "text.format");
        }

        switch (String(format, "type"))
        {
            case "text":
                return null;
            case "json_object":
                return new JsonObject { ["type"] = "json_object" };
            case "json_schema":
                var schema = new JsonObject { ["name"] = Required(format, "name", "text.format") };
                if (format["schema"] is not JsonObject s)
                {
                    throw new ResponsesRequestException("'text.format.schema' must be a JSON Schema object", "text.format.schema");
                }

                schema["schema"] = s.DeepClone();
                if (String(format, "description") is { } description)
                {
                    schema["description"] = description;
                }

                if (Bool(format, "strict") is { } strict)
                {
                    schema["strict"] = strict;
                }

                return new JsonObject { ["type"] = "json_schema", ["json_schema"] = schema };
            default:
                throw new ResponsesRequestException("'text.format.type' must be text, json_object or json_schema", "text.format.type");
        }
    }

    private static string Required(JsonObject item, string name, string where) =>
        String(item, name) ?? throw new ResponsesRequestException($"'{where}.{name}' is required", $"{where}.{name}");

    /// <summary>
    /// The response object for a chat answer: its message and function calls as output items, usage in the Responses
    /// form, and the request's settings echoed as OpenAI does.
    /// </summary>
    public static JsonObject ToResponse(ResponseContext context, JsonObject completion)
    {
        ArgumentNullException.ThrowIfNull(context);
        ArgumentNullException.ThrowIfNull(completion);
        var choice = completion["choices"] is JsonArray { Count: > 0 } choices ? choices[0] as JsonObject : null;
        var message = choice?["message"] as JsonObject;
        var output = new JsonArray();
        var content = message?["content"] is JsonValue c && c.TryGetValue<string>(out var text) ? text : null;
        if (!string.IsNullOrEmpty(content))
        {
            output.Add(MessageItem(context.NewId("msg"), content, "completed"));
        }

        if (message?["tool_calls"] is JsonArray calls)
        {
            foreach (var call in calls.OfType<JsonObject>())
            {
                output.Add(FunctionCallItem(
                    context.NewId("fc"),
                    (string?)call["id"] ?? context.NewId("call"),
                    (string?)call["function"]?["name"] ?? string.Empty,
                    (string?)call["function"]?["arguments"] ?? string.Empty,
                    "completed"));
            }
        }

        var usage = completion["usage"] as JsonObject;
        return context.Response(
            FinishStatus((string?)choice?["finish_reason"]),
            output,
            usage is null ? null : ((int?)usage["prompt_tokens"] ?? 0, (int?)usage["completion_tokens"] ?? 0));
    }

    /// <summary><c>completed</c>, or <c>incomplete</c> when the answer stopped at the token limit or a content filter.</summary>
    public static string FinishStatus(string? finishReason) => finishReason is "length" or "content_filter" ? "incomplete" : "completed";

    /// <summary>A message output item.</summary>
    public static JsonObject MessageItem(string id, string text, string status) => new()
    {
        ["type"] = "message",
        ["id"] = id,
        ["status"] = status,
        ["role"] = "assistant",
        ["content"] = new JsonArray(OutputText(text)),
    };

    /// <summary>An output_text content part.</summary>
    public static JsonObject OutputText(string text) => new() { ["type"] = "output_text", ["text"] = text, ["annotations"] = new JsonArray() };

    /// <summary>A function_call output item.</summary>
    public static JsonObject FunctionCallItem(string id, string callId, string name, string arguments, string status) => new()
    {
        ["type"] = "function_call",
        ["id"] = id,
        ["call_id"] = callId,
        ["name"] = name,
        ["arguments"] = arguments,
        ["status"] = status,
    };

    /// <summary>The output items as chat messages, to continue the conversation in a chained request.</summary>
    public static JsonArray ToConversation(JsonArray output)
    {
        ArgumentNullException.ThrowIfNull(output);
        var messages = new JsonArray();
        var text = string.Concat(output.OfType<JsonObject>().Where(i => (string?)i["type"] == "message")
            .SelectMany(i => ((JsonArray)i["content"]!).OfType<JsonObject>()).Select(p => (string?)p["text"]));
        var calls = new JsonArray([.. output.OfType<JsonObject>().Where(i => (string?)i["type"] == "function_call").Select(i => (JsonNode)new JsonObject
        {
            ["id"] = (string?)i["call_id"],
            ["type"] = "function",
            ["function"] = new JsonObject { ["name"] = (string?)i["name"], ["arguments"] = (string?)i["arguments"] },
        })]);
        var assistant = new JsonObject { ["role"] = "assistant", ["content"] = text.Length == 0 ? null : text };
        if (calls.Count > 0)
        {
            assistant["tool_calls"] = calls;
        }

        messages.Add(assistant);
        return messages;
    }

    /// <summary>Unix seconds, as the API writes times.</summary>
    public static long UnixSeconds(DateTimeOffset time) => time.ToUnixTimeSeconds();

    /// <summary>A JSON number that is an integer as text (for messages).</summary>
    public static string Invariant(long value) => value.ToString(CultureInfo.InvariantCulture);
}

/// <summary>A Responses request that cannot be served; <see cref="Param"/> names what to change.</summary>
internal sealed class ResponsesRequestException(string message, string? param) : Exception(message)
{
    public string? Param { get; } = param;
}
