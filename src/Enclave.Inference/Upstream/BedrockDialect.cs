using System.Net.Http.Headers;
using System.Text;
using System.Text.Json;
using System.Text.Json.Nodes;
using Enclave.Inference.Backends;
using Enclave.Inference.Upstream.Aws;
using static Enclave.Inference.Upstream.VendorTranslation;

namespace Enclave.Inference.Upstream;

/// <summary>
/// Amazon Bedrock's Converse API (<c>POST {BaseUrl}/model/{modelId}/converse</c>, streams from
/// <c>/converse-stream</c> in the AWS event-stream framing), every request signed with AWS Signature Version 4 for
/// service <c>bedrock</c> in <see cref="UpstreamBackendOptions.Region"/>. The key the ApiKeyReference names is
/// <c>ACCESS_KEY_ID:SECRET_ACCESS_KEY</c> or <c>ACCESS_KEY_ID:SECRET_ACCESS_KEY:SESSION_TOKEN</c>. Chat only.
/// </summary>
internal sealed class BedrockDialect : UpstreamDialect
{
    public const string Service = "bedrock";

    private static readonly HashSet<string> Translated = new(StringComparer.Ordinal)
    {
        "model", "messages", "stream", "stream_options", "max_tokens", "max_completion_tokens", "temperature", "top_p",
        "stop", "tools", "tool_choice", "n", "response_format",
    };

    private static readonly MediaTypeHeaderValue Json = new("application/json");

    private readonly Uri _root;
    private readonly Uri _healthUri;

    public BedrockDialect(UpstreamBackendOptions options, TimeProvider time)
        : base(options, time)
    {
        _root = options.BaseUri();
        _healthUri = HealthUri(_root);
    }

    public override string StreamMediaType => "application/vnd.amazon.eventstream";

    public override MediaTypeWithQualityHeaderValue AcceptStream { get; } = new("application/vnd.amazon.eventstream");

    public override IStreamEventReader OpenStreamReader(Stream body) => new AwsEventStreamReader(body, Options.MaxSseLineBytes);

    public override HttpRequestMessage CreateRequest(UpstreamOperation operation, JsonObject request, StreamField stream, string? key)
    {
        if (operation != UpstreamOperation.Chat)
        {
            throw new BackendException(
                400,
                "invalid_request_error",
                $"upstream backend '{Options.Name}' (bedrock) serves chat completions only (/v1/chat/completions) through the Converse API; {(operation == UpstreamOperation.Completion ? "/v1/completions" : "/v1/embeddings")} is not available for its models");
        }

        var model = Uri.EscapeDataString(ModelOf(request));
        var uri = new Uri(_root, stream == StreamField.Streaming ? $"model/{model}/converse-stream" : $"model/{model}/converse");
        var payload = Encoding.UTF8.GetBytes(TranslateRequest(request).ToJsonString());
        var message = new HttpRequestMessage(HttpMethod.Post, uri) { Content = new ByteArrayContent(payload) };
        message.Content.Headers.ContentType = Json;
        SigV4Signer.Sign(message, payload, Credentials(key), Options.Region!, Service, Time.GetUtcNow());
        return message;
    }

    public override HttpRequestMessage CreateHealthRequest(string? key)
    {
        var message = new HttpRequestMessage(HttpMethod.Get, _healthUri);
        SigV4Signer.Sign(message, [], Credentials(key), Options.Region!, Service, Time.GetUtcNow());
        return message;
    }

    /// <summary>
    /// The runtime API has no health endpoint: the signed GET of HealthCheckPath counts as up unless it fails with
    /// 5xx or the credentials are refused (401, 403).
    /// </summary>
    public override bool IsHealthy(int status) => status < 500 && status is not (401 or 403);

    /// <summary>The Converse request for an OpenAI chat request.</summary>
    /// <exception cref="BackendException">400 naming the first parameter Bedrock cannot honour.</exception>
    internal JsonObject TranslateRequest(JsonObject request)
    {
        foreach (var (name, value) in request)
        {
            if (!Translated.Contains(name) && value is not null)
            {
                throw Unsupported(Options, name, "the Bedrock Converse API has no such parameter");
            }
        }

        if (Integer(request["n"]) is { } n && n != 1)
        {
            throw Unsupported(Options, "n", "Converse returns one answer per request");
        }

        var formatTool = ForcedFormatTool(Options, request, "Bedrock Converse");

        var body = new JsonObject();
        var (system, messages) = TranslateMessages(request["messages"]);
        body["messages"] = messages;
        if (system is not null)
        {
            body["system"] = new JsonArray(new JsonObject { ["text"] = system });
        }

        var config = new JsonObject();
        foreach (var name in (ReadOnlySpan<string>)["max_completion_tokens", "max_tokens"])
        {
            if (request[name] is { } node)
            {
                config["maxTokens"] = Integer(node) is { } value and > 0 ? value : throw Invalid(name, "must be a positive integer");
                break;
            }
        }

        if (Number(request["temperature"]) is { } temperature)
        {
            config["temperature"] = temperature <= 1 ? temperature : throw Unsupported(Options, "temperature", $"Converse accepts 0..1 (was {temperature})");
        }

        if (Number(request["top_p"]) is { } topP)
        {
            config["topP"] = topP;
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

        if (config.Count > 0)
        {
            body["inferenceConfig"] = config;
        }

        TranslateTools(request, body);
        if (formatTool is { } forced)
        {
            // Converse has no response format: the schema is a tool the model must use, whose input is the answer.
            body["toolConfig"] = new JsonObject
            {
                ["tools"] = new JsonArray(new JsonObject
                {
                    ["toolSpec"] = new JsonObject { ["name"] = forced.Name, ["description"] = forced.Description, ["inputSchema"] = new JsonObject { ["json"] = forced.Schema } },
                }),
                ["toolChoice"] = new JsonObject { ["tool"] = new JsonObject { ["name"] = forced.Name } },
            };
        }

        return body;
    }

    protected override JsonObject TranslateAnswer(UpstreamOperation operation, JsonObject request, JsonObject body)
    {
        if (body["output"]?["message"]?["content"] is not JsonArray content)
        {
            throw Malformed(Options, "a body that is not a Converse response (no output.message.content)");
        }

        var text = new StringBuilder();
        var toolCalls = new JsonArray();
        var forced = ForcedFormatToolName(request);
        foreach (var block in content.OfType<JsonObject>())
        {
            if (String(block["text"]) is { } piece)
            {
                text.Append(piece);
            }
            else if (block["toolUse"] is JsonObject formatUse && forced is not null && String(formatUse["name"]) == forced)
            {
                text.Append((formatUse["input"] ?? new JsonObject()).ToJsonString());
            }
            else if (block["toolUse"] is JsonObject toolUse)
            {
                toolCalls.Add(new JsonObject
                {
                    ["id"] = String(toolUse["toolUseId"]),
                    ["type"] = "function",
                    ["function"] = new JsonObject { ["name"] = String(toolUse["name"]), ["arguments"] = (toolUse["input"] ?? new JsonObject()).ToJsonString() },
                });
            }
        }

        // Converse names no model in its answer: the model ID asked for is versioned (…-v1:0) and is what answered.
        var finish = FinishReason(String(body["stopReason"]));
        var response = ChatCompletion(
            "bedrock-" + Convert.ToHexStringLower(Guid.NewGuid().ToByteArray()), ModelOf(request), Time.GetUtcNow(), text, toolCalls, forced is not null && finish == "tool_calls" ? "stop" : finish);
        if (body["usage"] is JsonObject usage)
        {
            response["usage"] = Usage(Integer(usage["inputTokens"]) ?? 0, Integer(usage["outputTokens"]) ?? 0);
        }

        return response;
    }

    public override UpstreamStreamTranslator StartStream(JsonObject request) =>
        new BedrockStreamTranslator(Options, Time.GetUtcNow().ToUnixTimeSeconds(), ModelOf(request), IncludeUsage(request), ForcedFormatToolName(request));

    /// <summary>AWS errors: <c>{"message"}</c> with the type in <c>x-amzn-ErrorType</c>; 424 (the model failed) is 502.</summary>
    public override BackendException ErrorFromStatus(int status, TimeSpan? retryAfter, JsonObject? body)
    {
        var message = String(body?["message"]) ?? String(body?["Message"]);
        var shaped = message is null ? null : new JsonObject { ["error"] = new JsonObject { ["message"] = message } };
        return UpstreamErrors.FromStatus(Options.Name, status == 424 ? 502 : status, retryAfter, shaped);
    }

    internal static string FinishReason(string? stopReason) => stopReason switch
    {
        "max_tokens" or "model_context_window_exceeded" => "length",
        "tool_use" => "tool_calls",
        "guardrail_intervened" or "content_filtered" => "content_filter",
        _ => "stop",
    };

    /// <summary>The status an exception in a ConverseStream stands for.</summary>
    internal static int StatusOf(string? exceptionType) => exceptionType switch
    {
        "throttlingException" => 429,
        "validationException" => 400,
        "serviceUnavailableException" => 503,
        "modelTimeoutException" => 504,
        _ => 502, // internalServerException, modelStreamErrorException, and types added later
    };

    private AwsCredentials Credentials(string? key) =>
        key is not null && AwsCredentials.Parse(key) is { } credentials
            ? credentials
            : throw new BackendException(
                502,
                "upstream_authentication_error",
                $"upstream backend '{Options.Name}' (bedrock): the key its ApiKeyReference names must be ACCESS_KEY_ID:SECRET_ACCESS_KEY or ACCESS_KEY_ID:SECRET_ACCESS_KEY:SESSION_TOKEN");

    private (string? System, JsonArray Messages) TranslateMessages(JsonNode? node)
    {
        if (node is not JsonArray input || input.Count == 0)
        {
            throw Invalid("messages", "must be a non-empty array");
        }

        var system = new List<string>();
        var messages = new JsonArray();
        JsonArray? results = null;
        for (var i = 0; i < input.Count; i++)
        {
            var where = $"messages[{i}]";
            var message = input[i] as JsonObject ?? throw Invalid(where, "must be an object");
            var role = String(message["role"]);
            if (role != "tool")
            {
                results = null;
            }

            switch (role)
            {
                case "system" or "developer":
                    if (messages.Count > 0)
                    {
                        throw Unsupported(Options, where + ".role", "Converse takes system prompts only before the conversation, not between its turns");
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
                    if (results is null)
                    {
                        results = [];
                        messages.Add(new JsonObject { ["role"] = "user", ["content"] = results });
                    }

                    results.Add(new JsonObject
                    {
                        ["toolResult"] = new JsonObject
                        {
                            ["toolUseId"] = String(message["tool_call_id"]) ?? throw Invalid(where + ".tool_call_id", "is required for a tool message"),
                            ["content"] = new JsonArray(new JsonObject { ["text"] = TextOf(Options, message["content"], where + ".content") }),
                        },
                    });
                    break;
                default:
                    throw Unsupported(Options, where + ".role", $"Converse has no '{UpstreamErrors.Sanitize(role ?? "missing")}' role");
            }
        }

        return messages.Count > 0
            ? (system.Count == 0 ? null : string.Join("\n\n", system), messages)
            : throw Invalid("messages", "has only system messages; Converse needs at least one user message");
    }

    private JsonArray UserContent(JsonNode? content, string where)
    {
        if (content is JsonValue && String(content) is { } text)
        {
            return [new JsonObject { ["text"] = text }];
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
                    blocks.Add(new JsonObject { ["text"] = String(part["text"]) ?? throw Invalid($"{where}[{i}].text", "is required") });
                    break;
                case "image_url":
                    var url = String(part["image_url"]?["url"]) ?? throw Invalid($"{where}[{i}].image_url.url", "is required");
                    if (!TryParseDataUrl(url, out var mediaType, out var data))
                    {
                        throw Unsupported(Options, $"{where}[{i}].image_url.url", "Converse takes images inline (a data: URL), not by URL");
                    }

                    var format = mediaType switch
                    {
                        "image/png" => "png",
                        "image/jpeg" => "jpeg",
                        "image/gif" => "gif",
                        "image/webp" => "webp",
                        _ => throw Unsupported(Options, $"{where}[{i}].image_url.url", $"Converse takes png, jpeg, gif and webp images, not '{UpstreamErrors.Sanitize(mediaType)}'"),
                    };
                    blocks.Add(new JsonObject { ["image"] = new JsonObject { ["format"] = format, ["source"] = new JsonObject { ["bytes"] = data } } });
                    break;
                case var other:
                    throw Unsupported(Options, $"{where}[{i}].type", $"this gateway sends Converse text and image parts, not '{UpstreamErrors.Sanitize(other ?? "missing")}'");
            }
        }

        return blocks;
    }

    private JsonArray AssistantContent(JsonObject message, string where)
    {
        var blocks = new JsonArray();
        if (message["content"] is { } content && TextOf(Options, content, where + ".content") is { Length: > 0 } text)
        {
            blocks.Add(new JsonObject { ["text"] = text });
        }

        if (message["tool_calls"] is JsonArray calls)
        {
            for (var i = 0; i < calls.Count; i++)
            {
                var function = calls[i]?["function"] as JsonObject ?? throw Invalid($"{where}.tool_calls[{i}].function", "is required");
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
                    ["toolUse"] = new JsonObject
                    {
                        ["toolUseId"] = String(calls[i]!["id"]) ?? throw Invalid($"{where}.tool_calls[{i}].id", "is required"),
                        ["name"] = String(function["name"]) ?? throw Invalid($"{where}.tool_calls[{i}].function.name", "is required"),
                        ["input"] = input as JsonObject ?? throw Invalid($"{where}.tool_calls[{i}].function.arguments", "must be a JSON object in a string"),
                    },
                });
            }
        }

        return blocks.Count > 0 ? blocks : throw Invalid(where, "is an assistant message with neither content nor tool_calls");
    }

    private void TranslateTools(JsonObject request, JsonObject body)
    {
        var choice = request["tool_choice"];
        if (choice is not null && String(choice) == "none")
        {
            throw Unsupported(Options, "tool_choice", "Converse has no 'none' tool choice; leave the tools out instead");
        }

        if (request["tools"] is not JsonArray { Count: > 0 } tools)
        {
            return;
        }

        var specs = new JsonArray();
        for (var i = 0; i < tools.Count; i++)
        {
            var tool = tools[i] as JsonObject;
            if (String(tool?["type"]) != "function" || tool!["function"] is not JsonObject function)
            {
                throw Unsupported(Options, $"tools[{i}].type", "Converse takes function tools only");
            }

            if (function["strict"] is JsonValue strict && strict.TryGetValue<bool>(out var isStrict) && isStrict)
            {
                throw Unsupported(Options, $"tools[{i}].function.strict", "Converse has no strict schema adherence for tools");
            }

            var spec = new JsonObject
            {
                ["name"] = String(function["name"]) ?? throw Invalid($"tools[{i}].function.name", "is required"),
                ["inputSchema"] = new JsonObject { ["json"] = function["parameters"]?.DeepClone() ?? new JsonObject { ["type"] = "object" } },
            };
            if (String(function["description"]) is { } description)
            {
                spec["description"] = description;
            }

            specs.Add(new JsonObject { ["toolSpec"] = spec });
        }

        var config = new JsonObject { ["tools"] = specs };
        JsonObject? toolChoice = choice switch
        {
            null => null,
            var c when String(c) == "auto" => new JsonObject { ["auto"] = new JsonObject() },
            var c when String(c) == "required" => new JsonObject { ["any"] = new JsonObject() },
            JsonObject c when String(c["function"]?["name"]) is { } name => new JsonObject { ["tool"] = new JsonObject { ["name"] = name } },
            _ => throw Invalid("tool_choice", "must be 'auto', 'required' or {\"type\":\"function\",\"function\":{\"name\":...}}"),
        };
        if (toolChoice is not null)
        {
            config["toolChoice"] = toolChoice;
        }

        body["toolConfig"] = config;
    }
}
