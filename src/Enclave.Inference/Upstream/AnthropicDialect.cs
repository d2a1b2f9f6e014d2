using System.Text;
using System.Text.Json;
using System.Text.Json.Nodes;
using Enclave.Inference.Backends;
using static Enclave.Inference.Upstream.VendorTranslation;

namespace Enclave.Inference.Upstream;

/// <summary>
/// The Anthropic Messages API (<c>POST {BaseUrl}/messages</c>, <c>x-api-key</c>, <c>anthropic-version</c>): OpenAI chat
/// requests are translated to Messages requests and the answers, streams and errors back. Chat only: completions and
/// embeddings are refused with 400. docs/vendors.md lists what is translated and what is refused.
/// </summary>
internal sealed class AnthropicDialect : UpstreamDialect
{
    /// <summary>The <c>anthropic-version</c> sent when <see cref="UpstreamBackendOptions.ApiVersion"/> is not set.</summary>
    public const string DefaultVersion = "2023-06-01";

    /// <summary>OpenAI request fields translated (<c>n</c> accepted at its default; a JSON <c>response_format</c> as a forced tool).</summary>
    private static readonly HashSet<string> Translated = new(StringComparer.Ordinal)
    {
        "model", "messages", "stream", "stream_options", "max_tokens", "max_completion_tokens", "temperature", "top_p",
        "stop", "tools", "tool_choice", "parallel_tool_calls", "user", "n", "response_format",
    };

    private readonly Uri _messagesUri;
    private readonly Uri _healthUri;
    private readonly string _version;

    public AnthropicDialect(UpstreamBackendOptions options, TimeProvider time)
        : base(options, time)
    {
        var baseUri = options.BaseUri();
        _messagesUri = new Uri(baseUri, "messages");
        _healthUri = HealthUri(baseUri);
        _version = options.ApiVersion ?? DefaultVersion;
    }

    public override HttpRequestMessage CreateRequest(UpstreamOperation operation, JsonObject request, StreamField stream, string? key)
    {
        if (operation != UpstreamOperation.Chat)
        {
            throw new BackendException(
                400,
                "invalid_request_error",
                $"upstream backend '{Options.Name}' (anthropic) serves chat completions only (/v1/chat/completions); {(operation == UpstreamOperation.Completion ? "/v1/completions" : "/v1/embeddings")} is not available for its models");
        }

        var message = Post(_messagesUri, TranslateRequest(request, stream == StreamField.Streaming), StreamField.AsGiven);
        Authorize(message, key);
        return message;
    }

    public override HttpRequestMessage CreateHealthRequest(string? key)
    {
        var message = new HttpRequestMessage(HttpMethod.Get, _healthUri);
        Authorize(message, key);
        return message;
    }

    /// <summary>The Messages request for an OpenAI chat request.</summary>
    /// <exception cref="BackendException">400 naming the first parameter Anthropic cannot honour.</exception>
    internal JsonObject TranslateRequest(JsonObject request, bool stream)
    {
        foreach (var (name, value) in request)
        {
            if (!Translated.Contains(name) && value is not null)
            {
                throw Unsupported(Options, name, "the Anthropic Messages API has no such parameter");
            }
        }

        var body = new JsonObject { ["model"] = ModelOf(request) };
        var (system, messages) = TranslateMessages(request["messages"]);
        if (system is not null)
        {
            body["system"] = system;
        }

        body["messages"] = messages;
        body["max_tokens"] = MaxTokens(request);
        if (Number(request["temperature"]) is { } temperature)
        {
            if (temperature is < 0 or > 1)
            {
                throw Unsupported(Options, "temperature", $"Anthropic accepts 0..1 (was {temperature})");
            }

            body["temperature"] = temperature;
        }

        if (Number(request["top_p"]) is { } topP)
        {
            body["top_p"] = topP;
        }

        switch (request["stop"])
        {
            case null:
                break;
            case JsonValue single when String(single) is { } text:
                body["stop_sequences"] = new JsonArray(text);
                break;
            case JsonArray many when many.All(s => String(s) is not null):
                body["stop_sequences"] = new JsonArray([.. many.Select(s => (JsonNode)String(s)!)]);
                break;
            default:
                throw Invalid("stop", "must be a string or an array of strings");
        }

        if (Integer(request["n"]) is { } n && n != 1)
        {
            throw Unsupported(Options, "n", "Anthropic returns one choice per request");
        }

        var formatTool = ForcedFormatTool(Options, request, "Anthropic");

        if (String(request["user"]) is { } user)
        {
            body["metadata"] = new JsonObject { ["user_id"] = user };
        }

        TranslateTools(request, body);
        if (formatTool is { } forced)
        {
            // Anthropic has no response format: the schema is a tool it must call, whose input is the answer.
            body["tools"] = new JsonArray(new JsonObject { ["name"] = forced.Name, ["description"] = forced.Description, ["input_schema"] = forced.Schema });
            body["tool_choice"] = new JsonObject { ["type"] = "tool", ["name"] = forced.Name };
        }

        if (stream)
        {
            body["stream"] = true;
        }

        return body;
    }

    protected override JsonObject TranslateAnswer(UpstreamOperation operation, JsonObject request, JsonObject body)
    {
        if (String(body["type"]) != "message" || body["content"] is not JsonArray content)
        {
            throw Malformed(Options, "a body that is not a Messages API message (no type 'message' with content)");
        }

        var text = new StringBuilder();
        var toolCalls = new JsonArray();
        var forced = ForcedFormatToolName(request);
        foreach (var block in content)
        {
            switch (String(block?["type"]))
            {
                case "text":
                    text.Append(String(block!["text"]));
                    break;
                case "tool_use" when forced is not null && String(block!["name"]) == forced:
                    text.Append((block!["input"] ?? new JsonObject()).ToJsonString());
                    break;
                case "tool_use":
                    toolCalls.Add(ToolCall(block!.AsObject()));
                    break;
                case "thinking" or "redacted_thinking":
                    break; // Never asked for (no 'thinking' parameter is sent); nothing an OpenAI client could read.
                case var other:
                    throw Malformed(Options, $"a content block of type '{UpstreamErrors.Sanitize(other ?? "none")}', which has no OpenAI equivalent");
            }
        }

        var finish = FinishReason(String(body["stop_reason"]));
        var response = ChatCompletion(String(body["id"]) ?? "msg", String(body["model"]) ?? "", Time.GetUtcNow(), text, toolCalls, forced is not null && finish == "tool_calls" ? "stop" : finish);
        if (body["usage"] is JsonObject usage)
        {
            response["usage"] = Usage(InputTokens(usage), Integer(usage["output_tokens"]) ?? 0);
        }

        return response;
    }

    public override UpstreamStreamTranslator StartStream(JsonObject request) =>
        new AnthropicStreamTranslator(Options, Time.GetUtcNow().ToUnixTimeSeconds(), IncludeUsage(request), ForcedFormatToolName(request));

    /// <summary>
    /// Anthropic's error object (<c>{"type":"error","error":{"type","message"}}</c>) as an OpenAI error; 529
    /// (overloaded) becomes 503 so that clients and the router treat it as the retryable overload it is.
    /// </summary>
    public override BackendException ErrorFromStatus(int status, TimeSpan? retryAfter, JsonObject? body) =>
        UpstreamErrors.FromStatus(Options.Name, status == 529 ? 503 : status, retryAfter, OpenAiError(body));

    /// <summary>An Anthropic error object in an OpenAI shape, the type mapped to OpenAI's names.</summary>
    internal static JsonObject? OpenAiError(JsonObject? body)
    {
        if (body?["error"] is not JsonObject error)
        {
            return body;
        }

        return new JsonObject
        {
            ["error"] = new JsonObject
            {
                ["message"] = String(error["message"]),
                ["type"] = String(error["type"]) switch
                {
                    "rate_limit_error" => "rate_limit_exceeded",
                    "overloaded_error" => "overloaded",
                    "api_error" => "server_error",
                    "timeout_error" => "timeout",
                    var type => type,
                },
            },
        };
    }

    /// <summary>The HTTP status an Anthropic error type stands for (in a stream, where there is no status line).</summary>
    internal static int StatusOf(string? type) => type switch
    {
        "invalid_request_error" => 400,
        "authentication_error" => 401,
        "permission_error" => 403,
        "not_found_error" => 404,
        "request_too_large" => 413,
        "rate_limit_error" => 429,
        "timeout_error" => 504,
        "overloaded_error" => 503,
        _ => 500,
    };

    /// <summary>Prompt tokens: Anthropic counts cache reads and writes apart from <c>input_tokens</c>.</summary>
    internal static long InputTokens(JsonObject usage) =>
        (Integer(usage["input_tokens"]) ?? 0) + (Integer(usage["cache_creation_input_tokens"]) ?? 0) + (Integer(usage["cache_read_input_tokens"]) ?? 0);

    internal static string FinishReason(string? stopReason) => stopReason switch
    {
        "max_tokens" or "model_context_window_exceeded" => "length",
        "tool_use" => "tool_calls",
        "refusal" => "content_filter",
        _ => "stop", // end_turn, stop_sequence, pause_turn
    };

    private static JsonObject ToolCall(JsonObject block) => new()
    {
        ["id"] = String(block["id"]),
        ["type"] = "function",
        ["function"] = new JsonObject
        {
            ["name"] = String(block["name"]),
            ["arguments"] = (block["input"] ?? new JsonObject()).ToJsonString(),
        },
    };

    private void Authorize(HttpRequestMessage message, string? key)
    {
        if (!string.IsNullOrEmpty(key))
        {
            message.Headers.TryAddWithoutValidation("x-api-key", key);
        }

        message.Headers.TryAddWithoutValidation("anthropic-version", _version);
    }

    private long MaxTokens(JsonObject request)
    {
        foreach (var name in (ReadOnlySpan<string>)["max_completion_tokens", "max_tokens"])
        {
            if (request[name] is { } node)
            {
                return Integer(node) is { } value and > 0 ? value : throw Invalid(name, "must be a positive integer");
            }
        }

        return Options.DefaultMaxTokens;
    }

    private (JsonNode? System, JsonArray Messages) TranslateMessages(JsonNode? node)
    {
        if (node is not JsonArray input || input.Count == 0)
        {
            throw Invalid("messages", "must be a non-empty array");
        }

        var system = new List<string>();
        var messages = new JsonArray();
        JsonArray? toolResults = null;
        for (var i = 0; i < input.Count; i++)
        {
            var where = $"messages[{i}]";
            if (input[i] is not JsonObject message)
            {
                throw Invalid(where, "must be an object");
            }

            var role = String(message["role"]);
            if (role != "tool")
            {
                toolResults = null;
            }

            switch (role)
            {
                case "system" or "developer":
                    if (messages.Count > 0)
                    {
                        throw Unsupported(Options, where + ".role", "Anthropic takes system prompts only before the conversation, not between its turns");
                    }

                    system.Add(TextOf(Options, message["content"], where + ".content"));
                    break;
                case "user":
                    messages.Add(new JsonObject { ["role"] = "user", ["content"] = UserContent(message["content"], where + ".content") });
                    break;
                case "assistant":
                    messages.Add(new JsonObject { ["role"] = "assistant", ["content"] = AssistantContent(message, where) });
                    break;
                case "tool":
                    var result = new JsonObject
                    {
                        ["type"] = "tool_result",
                        ["tool_use_id"] = String(message["tool_call_id"]) ?? throw Invalid(where + ".tool_call_id", "is required for a tool message"),
                        ["content"] = TextOf(Options, message["content"], where + ".content"),
                    };
                    if (toolResults is null)
                    {
                        // Consecutive tool messages answer one assistant turn: one user turn of tool_result blocks.
                        toolResults = [];
                        messages.Add(new JsonObject { ["role"] = "user", ["content"] = toolResults });
                    }

                    toolResults.Add(result);
                    break;
                default:
                    throw Unsupported(Options, where + ".role", $"Anthropic has no '{UpstreamErrors.Sanitize(role ?? "missing")}' role");
            }
        }

        if (messages.Count == 0)
        {
            throw Invalid("messages", "has only system messages; Anthropic needs at least one user message");
        }

        return (system.Count == 0 ? null : string.Join("\n\n", system), messages);
    }

    private JsonNode UserContent(JsonNode? content, string where)
    {
        if (content is JsonValue && String(content) is { } text)
        {
            return text;
        }

        if (content is not JsonArray parts)
        {
            throw Invalid(where, "must be a string or an array of content parts");
        }

        var blocks = new JsonArray();
        for (var i = 0; i < parts.Count; i++)
        {
            var part = parts[i] as JsonObject ?? throw Invalid($"{where}[{i}]", "must be an object");
            switch (String(part["type"]))
            {
                case "text":
                    blocks.Add(new JsonObject { ["type"] = "text", ["text"] = String(part["text"]) ?? throw Invalid($"{where}[{i}].text", "is required") });
                    break;
                case "image_url":
                    blocks.Add(Image(part["image_url"], $"{where}[{i}].image_url"));
                    break;
                case var other:
                    throw Unsupported(Options, $"{where}[{i}].type", $"Anthropic takes text and image parts, not '{UpstreamErrors.Sanitize(other ?? "missing")}'");
            }
        }

        return blocks;
    }

    private JsonObject Image(JsonNode? imageUrl, string where)
    {
        var url = String(imageUrl?["url"]) ?? throw Invalid(where + ".url", "is required");
        if (imageUrl!["detail"] is { } detail && String(detail) is not ("auto" or null))
        {
            throw Unsupported(Options, where + ".detail", "Anthropic has no image detail setting");
        }

        if (TryParseDataUrl(url, out var mediaType, out var data))
        {
            if (mediaType is not ("image/jpeg" or "image/png" or "image/gif" or "image/webp"))
            {
                throw Unsupported(Options, where + ".url", $"Anthropic takes image/jpeg, image/png, image/gif and image/webp, not '{UpstreamErrors.Sanitize(mediaType)}'");
            }

            return new JsonObject
            {
                ["type"] = "image",
                ["source"] = new JsonObject { ["type"] = "base64", ["media_type"] = mediaType, ["data"] = data },
            };
        }

        if (url.StartsWith("https://", StringComparison.OrdinalIgnoreCase))
        {
            return new JsonObject { ["type"] = "image", ["source"] = new JsonObject { ["type"] = "url", ["url"] = url } };
        }

        throw Invalid(where + ".url", "must be a data: URL or an https:// URL");
    }

    private JsonArray AssistantContent(JsonObject message, string where)
    {
        var blocks = new JsonArray();
        if (message["content"] is { } content)
        {
            var text = TextOf(Options, content, where + ".content");
            if (text.Length > 0)
            {
                blocks.Add(new JsonObject { ["type"] = "text", ["text"] = text });
            }
        }

        if (message["tool_calls"] is JsonArray calls)
        {
            for (var i = 0; i < calls.Count; i++)
            {
                var call = calls[i] as JsonObject ?? throw Invalid($"{where}.tool_calls[{i}]", "must be an object");
                var function = call["function"] as JsonObject ?? throw Invalid($"{where}.tool_calls[{i}].function", "is required");
                JsonNode? input;
                try
                {
                    input = JsonNode.Parse(String(function["arguments"]) ?? "{}", documentOptions: UpstreamJson.DocumentOptions);
                }
                catch (JsonException)
                {
                    input = null;
                }

                blocks.Add(new JsonObject
                {
                    ["type"] = "tool_use",
                    ["id"] = String(call["id"]) ?? throw Invalid($"{where}.tool_calls[{i}].id", "is required"),
                    ["name"] = String(function["name"]) ?? throw Invalid($"{where}.tool_calls[{i}].function.name", "is required"),
                    ["input"] = input as JsonObject ?? throw Invalid($"{where}.tool_calls[{i}].function.arguments", "must be a JSON object in a string"),
                });
            }
        }

        if (blocks.Count == 0)
        {
            throw Invalid(where, "is an assistant message with neither content nor tool_calls");
        }

        return blocks;
    }

    private void TranslateTools(JsonObject request, JsonObject body)
    {
        if (request["tools"] is JsonArray tools && tools.Count > 0)
        {
            var translated = new JsonArray();
            for (var i = 0; i < tools.Count; i++)
            {
                var tool = tools[i] as JsonObject;
                if (String(tool?["type"]) != "function" || tool!["function"] is not JsonObject function)
                {
                    throw Unsupported(Options, $"tools[{i}].type", "Anthropic takes function tools only");
                }

                if (function["strict"] is JsonValue strict && strict.TryGetValue<bool>(out var isStrict) && isStrict)
                {
                    throw Unsupported(Options, $"tools[{i}].function.strict", "Anthropic has no strict schema adherence for tools");
                }

                var entry = new JsonObject
                {
                    ["name"] = String(function["name"]) ?? throw Invalid($"tools[{i}].function.name", "is required"),
                    ["input_schema"] = function["parameters"]?.DeepClone() ?? new JsonObject { ["type"] = "object", ["properties"] = new JsonObject() },
                };
                if (String(function["description"]) is { } description)
                {
                    entry["description"] = description;
                }

                translated.Add(entry);
            }

            body["tools"] = translated;
        }
        else if (request["tool_choice"] is { } choice && String(choice) is not ("none" or "auto"))
        {
            throw Invalid("tool_choice", "names tools, but the request has no 'tools'");
        }

        JsonObject? toolChoice = request["tool_choice"] switch
        {
            null => null,
            var c when String(c) == "auto" => new JsonObject { ["type"] = "auto" },
            var c when String(c) == "required" => new JsonObject { ["type"] = "any" },
            var c when String(c) == "none" => new JsonObject { ["type"] = "none" },
            JsonObject { } c when String(c["function"]?["name"]) is { } name => new JsonObject { ["type"] = "tool", ["name"] = name },
            _ => throw Invalid("tool_choice", "must be 'auto', 'required', 'none' or {\"type\":\"function\",\"function\":{\"name\":...}}"),
        };
        if (request["parallel_tool_calls"] is JsonValue parallel && parallel.TryGetValue<bool>(out var allowParallel) && !allowParallel)
        {
            toolChoice ??= new JsonObject { ["type"] = "auto" };
            if (String(toolChoice["type"]) != "none")
            {
                toolChoice["disable_parallel_tool_use"] = true;
            }
        }

        if (toolChoice is not null && body.ContainsKey("tools"))
        {
            body["tool_choice"] = toolChoice;
        }
    }
}
