using System.Globalization;
using System.Text;
using System.Text.Json;
using System.Text.Json.Nodes;
using Enclave.Inference.Backends;
using static Enclave.Inference.Upstream.VendorTranslation;

namespace Enclave.Inference.Upstream;

/// <summary>
/// The Google Gemini API (<c>POST {BaseUrl}/models/{model}:generateContent</c>, streams from
/// <c>:streamGenerateContent?alt=sse</c>, key in <c>x-goog-api-key</c>): OpenAI chat requests become
/// <c>contents</c>/<c>systemInstruction</c>/<c>tools</c>/<c>generationConfig</c>, and answers, streams and errors come
/// back as OpenAI ones. Chat only. docs/vendors.md lists what is translated and what is refused.
/// </summary>
internal sealed class GeminiDialect : UpstreamDialect
{
    private static readonly HashSet<string> Translated = new(StringComparer.Ordinal)
    {
        "model", "messages", "stream", "stream_options", "max_tokens", "max_completion_tokens", "temperature", "top_p",
        "stop", "tools", "tool_choice", "n", "response_format", "seed", "presence_penalty", "frequency_penalty",
    };

    private readonly Uri _root;
    private readonly Uri _healthUri;

    public GeminiDialect(UpstreamBackendOptions options, TimeProvider time)
        : base(options, time)
    {
        _root = options.BaseUri();
        _healthUri = HealthUri(_root);
    }

    public override HttpRequestMessage CreateRequest(UpstreamOperation operation, JsonObject request, StreamField stream, string? key)
    {
        if (operation != UpstreamOperation.Chat)
        {
            throw new BackendException(
                400,
                "invalid_request_error",
                $"upstream backend '{Options.Name}' (gemini) serves chat completions only (/v1/chat/completions); {(operation == UpstreamOperation.Completion ? "/v1/completions" : "/v1/embeddings")} is not available for its models");
        }

        var streaming = stream == StreamField.Streaming;
        var model = Uri.EscapeDataString(ModelOf(request));
        var uri = new Uri(_root, streaming ? $"models/{model}:streamGenerateContent?alt=sse" : $"models/{model}:generateContent");
        var message = Post(uri, TranslateRequest(request), StreamField.AsGiven);
        Authorize(message, key);
        return message;
    }

    public override HttpRequestMessage CreateHealthRequest(string? key)
    {
        var message = new HttpRequestMessage(HttpMethod.Get, _healthUri);
        Authorize(message, key);
        return message;
    }

    /// <summary>The generateContent request for an OpenAI chat request.</summary>
    /// <exception cref="BackendException">400 naming the first parameter Gemini cannot honour.</exception>
    internal JsonObject TranslateRequest(JsonObject request)
    {
        foreach (var (name, value) in request)
        {
            if (!Translated.Contains(name) && value is not null)
            {
                throw Unsupported(Options, name, "the Gemini API has no such parameter");
            }
        }

        var body = new JsonObject();
        var (system, contents) = TranslateMessages(request["messages"]);
        body["contents"] = contents;
        if (system is not null)
        {
            body["systemInstruction"] = new JsonObject { ["parts"] = new JsonArray(new JsonObject { ["text"] = system }) };
        }

        TranslateTools(request, body);
        var config = new JsonObject();
        foreach (var name in (ReadOnlySpan<string>)["max_completion_tokens", "max_tokens"])
        {
            if (request[name] is { } node)
            {
                config["maxOutputTokens"] = Integer(node) is { } value and > 0 ? value : throw Invalid(name, "must be a positive integer");
                break;
            }
        }

        Copy(request, "temperature", config, "temperature");
        Copy(request, "top_p", config, "topP");
        Copy(request, "presence_penalty", config, "presencePenalty");
        Copy(request, "frequency_penalty", config, "frequencyPenalty");
        if (request["seed"] is { } seed)
        {
            config["seed"] = Integer(seed) ?? throw Invalid("seed", "must be an integer");
        }

        switch (request["stop"])
        {
            case null:
                break;
            case JsonValue single when String(single) is { } text:
                config["stopSequences"] = new JsonArray(text);
                break;
            case JsonArray many when many.All(s => String(s) is not null):
                config["stopSequences"] = new JsonArray([.. many.Select(s => (JsonNode)String(s)!)]);
                break;
            default:
                throw Invalid("stop", "must be a string or an array of strings");
        }

        if (Integer(request["n"]) is { } n && n != 1)
        {
            throw Unsupported(Options, "n", "this gateway asks Gemini for one candidate per request");
        }

        if (request["response_format"] is JsonObject format)
        {
            switch (String(format["type"]))
            {
                case "text" or null:
                    break;
                case "json_object":
                    config["responseMimeType"] = "application/json";
                    break;
                case "json_schema":
                    if (format["json_schema"] is not JsonObject definition || definition["schema"] is not JsonObject schema)
                    {
                        throw Invalid("response_format.json_schema", "needs a schema object");
                    }

                    config["responseMimeType"] = "application/json";
                    config["responseSchema"] = GeminiSchema.Translate(Options, schema, "response_format.json_schema.schema");
                    break;
                case var other:
                    throw Unsupported(Options, "response_format", $"'{UpstreamErrors.Sanitize(other)}' is not translated to Gemini (json_object and json_schema are)");
            }
        }

        if (config.Count > 0)
        {
            body["generationConfig"] = config;
        }

        return body;
    }

    protected override JsonObject TranslateAnswer(UpstreamOperation operation, JsonObject request, JsonObject body)
    {
        var candidate = body["candidates"] is JsonArray { Count: > 0 } candidates ? candidates[0] as JsonObject : null;
        var text = new StringBuilder();
        var toolCalls = new JsonArray();
        if (candidate?["content"]?["parts"] is JsonArray parts)
        {
            foreach (var part in parts.OfType<JsonObject>())
            {
                if (String(part["text"]) is { } piece && part["thought"] is null)
                {
                    text.Append(piece);
                }
                else if (part["functionCall"] is JsonObject functionCall)
                {
                    toolCalls.Add(ToolCall(functionCall, toolCalls.Count, withIndex: false));
                }
            }
        }
        else if (candidate is null && body["promptFeedback"] is null)
        {
            throw Malformed(Options, "a body that is not a generateContent response (no candidates, no promptFeedback)");
        }

        var response = ChatCompletion(
            String(body["responseId"]) ?? "gemini",
            String(body["modelVersion"]) ?? "",
            Time.GetUtcNow(),
            text,
            toolCalls,
            candidate is null ? "content_filter" : FinishReason(String(candidate["finishReason"]), toolCalls.Count > 0));
        if (body["usageMetadata"] is JsonObject usage)
        {
            response["usage"] = Usage(usage);
        }

        return response;
    }

    public override UpstreamStreamTranslator StartStream(JsonObject request) =>
        new GeminiStreamTranslator(Options, Time.GetUtcNow().ToUnixTimeSeconds(), IncludeUsage(request));

    /// <summary>
    /// Google's error object (<c>{"error":{"code","message","status","details"}}</c>): the message passes on, and a
    /// 429's <c>RetryInfo.retryDelay</c> (<c>"30s"</c>) stands for <c>Retry-After</c> when the header is absent.
    /// </summary>
    public override BackendException ErrorFromStatus(int status, TimeSpan? retryAfter, JsonObject? body)
    {
        if (retryAfter is null && body?["error"]?["details"] is JsonArray details)
        {
            foreach (var detail in details.OfType<JsonObject>())
            {
                if (String(detail["@type"]) == "type.googleapis.com/google.rpc.RetryInfo"
                    && String(detail["retryDelay"]) is { Length: > 1 } delay && delay.EndsWith('s')
                    && double.TryParse(delay[..^1], NumberStyles.Float, CultureInfo.InvariantCulture, out var seconds)
                    && seconds is >= 0 and <= 86400)
                {
                    retryAfter = TimeSpan.FromSeconds(Math.Ceiling(seconds));
                }
            }
        }

        var error = body?["error"] as JsonObject;
        if (error?["details"] is JsonArray infos && infos.OfType<JsonObject>().Any(d => String(d["reason"]) == "API_KEY_INVALID"))
        {
            status = 401; // Google answers a wrong key with 400 INVALID_ARGUMENT: it is this gateway's key, not the client's request
        }

        var shaped = error is null ? body : new JsonObject { ["error"] = new JsonObject { ["message"] = String(error["message"]) } };
        return UpstreamErrors.FromStatus(Options.Name, status, retryAfter, shaped);
    }

    internal static string FinishReason(string? reason, bool toolCalls) => reason switch
    {
        "MAX_TOKENS" => "length",
        "SAFETY" or "RECITATION" or "BLOCKLIST" or "PROHIBITED_CONTENT" or "SPII" or "IMAGE_SAFETY" => "content_filter",
        _ when toolCalls => "tool_calls",
        _ => "stop",
    };

    internal static JsonObject Usage(JsonObject usage)
    {
        var prompt = Integer(usage["promptTokenCount"]) ?? 0;
        var completion = (Integer(usage["candidatesTokenCount"]) ?? 0) + (Integer(usage["thoughtsTokenCount"]) ?? 0);
        return VendorTranslation.Usage(prompt, completion);
    }

    /// <summary>An OpenAI tool call for a Gemini <c>functionCall</c>; Gemini's own id when it gave one, else <c>call_{n}</c>.</summary>
    internal static JsonObject ToolCall(JsonObject functionCall, int index, bool withIndex)
    {
        var call = new JsonObject();
        if (withIndex)
        {
            call["index"] = index;
        }

        call["id"] = String(functionCall["id"]) ?? $"call_{index}";
        call["type"] = "function";
        call["function"] = new JsonObject
        {
            ["name"] = String(functionCall["name"]),
            ["arguments"] = (functionCall["args"] ?? new JsonObject()).ToJsonString(),
        };
        return call;
    }

    private static void Authorize(HttpRequestMessage message, string? key)
    {
        if (!string.IsNullOrEmpty(key))
        {
            message.Headers.TryAddWithoutValidation("x-goog-api-key", key);
        }
    }

    private static void Copy(JsonObject request, string from, JsonObject config, string to)
    {
        if (request[from] is { } node)
        {
            config[to] = Number(node) ?? throw Invalid(from, "must be a number");
        }
    }

    private (string? System, JsonArray Contents) TranslateMessages(JsonNode? node)
    {
        if (node is not JsonArray input || input.Count == 0)
        {
            throw Invalid("messages", "must be a non-empty array");
        }

        var system = new List<string>();
        var contents = new JsonArray();
        var toolNames = new Dictionary<string, string>(StringComparer.Ordinal);
        JsonArray? responses = null;
        for (var i = 0; i < input.Count; i++)
        {
            var where = $"messages[{i}]";
            var message = input[i] as JsonObject ?? throw Invalid(where, "must be an object");
            var role = String(message["role"]);
            if (role != "tool")
            {
                responses = null;
            }

            switch (role)
            {
                case "system" or "developer":
                    if (contents.Count > 0)
                    {
                        throw Unsupported(Options, where + ".role", "Gemini takes system instructions only before the conversation, not between its turns");
                    }

                    system.Add(TextOf(Options, message["content"], where + ".content"));
                    break;
                case "user":
                    contents.Add(new JsonObject { ["role"] = "user", ["parts"] = UserParts(message["content"], where + ".content") });
                    break;
                case "assistant":
                    contents.Add(new JsonObject { ["role"] = "model", ["parts"] = ModelParts(message, where, toolNames) });
                    break;
                case "tool":
                    var id = String(message["tool_call_id"]) ?? throw Invalid(where + ".tool_call_id", "is required for a tool message");
                    var name = toolNames.TryGetValue(id, out var known)
                        ? known
                        : throw Invalid(where + ".tool_call_id", "names no tool call of an earlier assistant message (Gemini answers functions by name)");
                    if (responses is null)
                    {
                        responses = [];
                        contents.Add(new JsonObject { ["role"] = "user", ["parts"] = responses });
                    }

                    responses.Add(new JsonObject
                    {
                        ["functionResponse"] = new JsonObject
                        {
                            ["name"] = name,
                            ["response"] = new JsonObject { ["content"] = TextOf(Options, message["content"], where + ".content") },
                        },
                    });
                    break;
                default:
                    throw Unsupported(Options, where + ".role", $"Gemini has no '{UpstreamErrors.Sanitize(role ?? "missing")}' role");
            }
        }

        if (contents.Count == 0)
        {
            throw Invalid("messages", "has only system messages; Gemini needs at least one user message");
        }

        return (system.Count == 0 ? null : string.Join("\n\n", system), contents);
    }

    private JsonArray UserParts(JsonNode? content, string where)
    {
        if (content is JsonValue && String(content) is { } text)
        {
            return [new JsonObject { ["text"] = text }];
        }

        if (content is not JsonArray parts)
        {
            throw Invalid(where, "must be a string or an array of content parts");
        }

        var result = new JsonArray();
        for (var i = 0; i < parts.Count; i++)
        {
            var part = parts[i] as JsonObject ?? throw Invalid($"{where}[{i}]", "must be an object");
            switch (String(part["type"]))
            {
                case "text":
                    result.Add(new JsonObject { ["text"] = String(part["text"]) ?? throw Invalid($"{where}[{i}].text", "is required") });
                    break;
                case "image_url":
                    var url = String(part["image_url"]?["url"]) ?? throw Invalid($"{where}[{i}].image_url.url", "is required");
                    if (!TryParseDataUrl(url, out var mediaType, out var data))
                    {
                        throw Unsupported(Options, $"{where}[{i}].image_url.url", "Gemini takes images inline (a data: URL), not by URL");
                    }

                    result.Add(new JsonObject { ["inlineData"] = new JsonObject { ["mimeType"] = mediaType, ["data"] = data } });
                    break;
                case var other:
                    throw Unsupported(Options, $"{where}[{i}].type", $"this gateway sends Gemini text and image parts, not '{UpstreamErrors.Sanitize(other ?? "missing")}'");
            }
        }

        return result;
    }

    private JsonArray ModelParts(JsonObject message, string where, Dictionary<string, string> toolNames)
    {
        var parts = new JsonArray();
        if (message["content"] is { } content && TextOf(Options, content, where + ".content") is { Length: > 0 } text)
        {
            parts.Add(new JsonObject { ["text"] = text });
        }

        if (message["tool_calls"] is JsonArray calls)
        {
            for (var i = 0; i < calls.Count; i++)
            {
                var function = calls[i]?["function"] as JsonObject ?? throw Invalid($"{where}.tool_calls[{i}].function", "is required");
                var name = String(function["name"]) ?? throw Invalid($"{where}.tool_calls[{i}].function.name", "is required");
                JsonNode? args;
                try
                {
                    args = JsonNode.Parse(String(function["arguments"]) ?? "{}", documentOptions: UpstreamJson.DocumentOptions);
                }
                catch (JsonException)
                {
                    args = null;
                }

                if (String(calls[i]!["id"]) is { } id)
                {
                    toolNames[id] = name;
                }

                parts.Add(new JsonObject
                {
                    ["functionCall"] = new JsonObject
                    {
                        ["name"] = name,
                        ["args"] = args as JsonObject ?? throw Invalid($"{where}.tool_calls[{i}].function.arguments", "must be a JSON object in a string"),
                    },
                });
            }
        }

        return parts.Count > 0 ? parts : throw Invalid(where, "is an assistant message with neither content nor tool_calls");
    }

    private void TranslateTools(JsonObject request, JsonObject body)
    {
        if (request["tools"] is JsonArray { Count: > 0 } tools)
        {
            var declarations = new JsonArray();
            for (var i = 0; i < tools.Count; i++)
            {
                var tool = tools[i] as JsonObject;
                if (String(tool?["type"]) != "function" || tool!["function"] is not JsonObject function)
                {
                    throw Unsupported(Options, $"tools[{i}].type", "Gemini takes function tools only");
                }

                if (function["strict"] is JsonValue strict && strict.TryGetValue<bool>(out var isStrict) && isStrict)
                {
                    throw Unsupported(Options, $"tools[{i}].function.strict", "Gemini has no strict schema adherence for function declarations");
                }

                var declaration = new JsonObject { ["name"] = String(function["name"]) ?? throw Invalid($"tools[{i}].function.name", "is required") };
                if (String(function["description"]) is { } description)
                {
                    declaration["description"] = description;
                }

                if (function["parameters"] is { } parameters)
                {
                    declaration["parametersJsonSchema"] = parameters.DeepClone();
                }

                declarations.Add(declaration);
            }

            body["tools"] = new JsonArray(new JsonObject { ["functionDeclarations"] = declarations });
        }

        JsonObject? calling = request["tool_choice"] switch
        {
            null => null,
            var c when String(c) == "auto" => new JsonObject { ["mode"] = "AUTO" },
            var c when String(c) == "required" => new JsonObject { ["mode"] = "ANY" },
            var c when String(c) == "none" => new JsonObject { ["mode"] = "NONE" },
            JsonObject c when String(c["function"]?["name"]) is { } name => new JsonObject { ["mode"] = "ANY", ["allowedFunctionNames"] = new JsonArray(name) },
            _ => throw Invalid("tool_choice", "must be 'auto', 'required', 'none' or {\"type\":\"function\",\"function\":{\"name\":...}}"),
        };
        if (calling is not null)
        {
            body["toolConfig"] = new JsonObject { ["functionCallingConfig"] = calling };
        }
    }
}
