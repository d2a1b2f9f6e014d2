using System.Text;
using System.Text.Json;
using System.Text.Json.Nodes;
using Enclave.Inference.Backends;
using Enclave.Inference.Upstream;
using Enclave.Inference.Upstream.Aws;

namespace Enclave.Fuzz.Targets;

/// <summary>
/// What an upstream vendor answers (OpenAI, Azure OpenAI, Anthropic, Gemini, Bedrock): the answer body through the
/// steps <c>OpenAiUpstreamBackend</c> takes (<see cref="UpstreamJson.ReadObjectAsync"/>, the error-object check, the
/// dialect's <c>TranslateResponse</c>, <see cref="UpstreamUsage.Read"/>), or the stream through the dialect's event
/// reader (server-sent events, or Bedrock's AWS event-stream framing) and its stream translator, event by event to the
/// end. Rejections are what the backend turns into a 502: <see cref="JsonException"/>, <see cref="InvalidDataException"/>
/// and <see cref="BackendException"/>; anything else would reach the client as a 500 and is a finding.
/// </summary>
/// <remarks>
/// The first byte picks the vendor (modulo 5), answer or stream, and whether the request asked for a forced tool call
/// (translations depend on it). For Bedrock's stream the next byte picks raw bytes (the framing itself, CRCs included)
/// or events the harness frames with valid CRCs (<c>event-type\npayload</c>, separated by a blank line; an event type
/// starting with <c>!</c> is an exception message), so that mutations reach the translator past the checksums.
/// </remarks>
internal static class VendorAnswerTarget
{
    private const int MaxBytes = 1 << 20;

    private static readonly string[] Kinds = ["openai", "azure-openai", "anthropic", "gemini", "bedrock"];

    public static Harness Harness { get; } = new()
    {
        Name = "vendor-answer",
        Parser = "Enclave.Inference.Upstream: the vendor dialects' answer and stream translations, SseEventReader, AwsEventStreamReader",
        Run = Run,
        Seeds = () =>
        [
            Seed("openai-answer.json", 0, stream: false, tools: false, """{"id":"c1","object":"chat.completion","created":1,"model":"m","choices":[{"index":0,"message":{"role":"assistant","content":"hi"},"finish_reason":"stop"}],"usage":{"prompt_tokens":3,"completion_tokens":1,"total_tokens":4}}"""),
            Seed("azure-error.json", 1, stream: false, tools: false, """{"error":{"message":"content filtered","type":"invalid_request_error","code":"content_filter"}}"""),
            Seed("anthropic-answer.json", 2, stream: false, tools: true, """{"id":"msg_1","type":"message","role":"assistant","model":"claude","content":[{"type":"text","text":"let me look"},{"type":"tool_use","id":"toolu_1","name":"get_weather","input":{"city":"Oslo"}}],"stop_reason":"tool_use","usage":{"input_tokens":12,"output_tokens":7}}"""),
            Seed("gemini-answer.json", 3, stream: false, tools: true, """{"candidates":[{"content":{"role":"model","parts":[{"text":"hi"},{"functionCall":{"name":"get_weather","args":{"city":"Oslo"}}}]},"finishReason":"STOP"}],"usageMetadata":{"promptTokenCount":3,"candidatesTokenCount":2,"totalTokenCount":5},"modelVersion":"gemini-2.0"}"""),
            Seed("bedrock-answer.json", 4, stream: false, tools: false, """{"output":{"message":{"role":"assistant","content":[{"text":"hi"},{"toolUse":{"toolUseId":"t1","name":"get_weather","input":{"city":"Oslo"}}}]}},"stopReason":"tool_use","usage":{"inputTokens":3,"outputTokens":2,"totalTokens":5}}"""),
            Seed("openai-stream.txt", 0, stream: true, tools: false, "data: {\"id\":\"c1\",\"object\":\"chat.completion.chunk\",\"created\":1,\"model\":\"m\",\"choices\":[{\"index\":0,\"delta\":{\"role\":\"assistant\",\"content\":\"hi\"},\"finish_reason\":null}]}\n\ndata: {\"id\":\"c1\",\"object\":\"chat.completion.chunk\",\"created\":1,\"model\":\"m\",\"choices\":[{\"index\":0,\"delta\":{},\"finish_reason\":\"stop\"}],\"usage\":{\"prompt_tokens\":3,\"completion_tokens\":1,\"total_tokens\":4}}\n\ndata: [DONE]\n\n"),
            Seed("anthropic-stream.txt", 2, stream: true, tools: true, string.Concat(
                "event: message_start\ndata: {\"type\":\"message_start\",\"message\":{\"id\":\"msg_1\",\"type\":\"message\",\"role\":\"assistant\",\"model\":\"claude\",\"content\":[],\"usage\":{\"input_tokens\":12,\"output_tokens\":1}}}\n\n",
                "event: content_block_start\ndata: {\"type\":\"content_block_start\",\"index\":0,\"content_block\":{\"type\":\"text\",\"text\":\"\"}}\n\n",
                "event: content_block_delta\ndata: {\"type\":\"content_block_delta\",\"index\":0,\"delta\":{\"type\":\"text_delta\",\"text\":\"hi\"}}\n\n",
                "event: content_block_stop\ndata: {\"type\":\"content_block_stop\",\"index\":0}\n\n",
                "event: content_block_start\ndata: {\"type\":\"content_block_start\",\"index\":1,\"content_block\":{\"type\":\"tool_use\",\"id\":\"toolu_1\",\"name\":\"get_weather\",\"input\":{}}}\n\n",
                "event: content_block_delta\ndata: {\"type\":\"content_block_delta\",\"index\":1,\"delta\":{\"type\":\"input_json_delta\",\"partial_json\":\"{\\\"city\\\":\\\"Oslo\\\"}\"}}\n\n",
                "event: content_block_stop\ndata: {\"type\":\"content_block_stop\",\"index\":1}\n\n",
                "event: ping\ndata: {\"type\":\"ping\"}\n\n",
                "event: message_delta\ndata: {\"type\":\"message_delta\",\"delta\":{\"stop_reason\":\"tool_use\"},\"usage\":{\"output_tokens\":9}}\n\n",
                "event: message_stop\ndata: {\"type\":\"message_stop\"}\n\n")),
            Seed("gemini-stream.txt", 3, stream: true, tools: false, string.Concat(
                "data: {\"candidates\":[{\"content\":{\"role\":\"model\",\"parts\":[{\"text\":\"hi \"}]}}],\"modelVersion\":\"gemini-2.0\"}\r\n\r\n",
                "data: {\"candidates\":[{\"content\":{\"role\":\"model\",\"parts\":[{\"text\":\"there\"}]},\"finishReason\":\"STOP\"}],\"usageMetadata\":{\"promptTokenCount\":3,\"candidatesTokenCount\":2,\"totalTokenCount\":5}}\r\n\r\n")),
            BedrockFramed("bedrock-stream.bin", tools: true,
                ("messageStart", """{"role":"assistant"}"""),
                ("contentBlockDelta", """{"contentBlockIndex":0,"delta":{"text":"hi"}}"""),
                ("contentBlockStop", """{"contentBlockIndex":0}"""),
                ("contentBlockStart", """{"contentBlockIndex":1,"start":{"toolUse":{"toolUseId":"t1","name":"get_weather"}}}"""),
                ("contentBlockDelta", """{"contentBlockIndex":1,"delta":{"toolUse":{"input":"{\"city\":\"Oslo\"}"}}}"""),
                ("contentBlockStop", """{"contentBlockIndex":1}"""),
                ("messageStop", """{"stopReason":"tool_use"}"""),
                ("metadata", """{"usage":{"inputTokens":3,"outputTokens":2,"totalTokens":5},"metrics":{"latencyMs":12}}""")),
            BedrockFramed("bedrock-throttled.bin", tools: false, ("!throttlingException", """{"message":"Rate exceeded"}""")),
            BedrockRaw("bedrock-raw.bin",
                AwsEventStreamReader.Encode([(":event-type", "messageStart"), (":content-type", "application/json"), (":message-type", "event")], """{"role":"assistant"}"""u8),
                AwsEventStreamReader.Encode([(":event-type", "messageStop"), (":content-type", "application/json"), (":message-type", "event")], """{"stopReason":"end_turn"}"""u8)),
        ],
    };

    private static void Run(byte[] input)
    {
        if (input.Length == 0 || input.Length > MaxBytes)
        {
            return;
        }

        var selector = input[0];
        var kind = Kinds[selector % Kinds.Length];
        var stream = selector / Kinds.Length % 2 == 1;
        var tools = selector / (Kinds.Length * 2) % 2 == 1;
        var options = new UpstreamBackendOptions
        {
            Name = "fuzz",
            Kind = kind,
            BaseUrl = "http://127.0.0.1:9/v1/",
            ApiVersion = kind == "azure-openai" ? "2024-10-21" : null,
            Region = kind == "bedrock" ? "eu-west-1" : null,
            Models = ["m"],
            MaxSseLineBytes = 64 * 1024,
            MaxResponseBytes = MaxBytes,
        };
        var dialect = UpstreamDialect.For(options, TimeProvider.System);
        var request = Request(tools, stream);
        try
        {
            if (stream)
            {
                var body = kind == "bedrock" && input.Length > 1 && input[1] % 2 == 1 ? Frame(input.AsSpan(2)) : input[(kind == "bedrock" ? Math.Min(2, input.Length) : 1)..];
                Stream(dialect, request, body);
            }
            else
            {
                Answer(dialect, request, input[1..]);
            }
        }
        catch (JsonException)
        {
        }
        catch (InvalidDataException)
        {
        }
        catch (BackendException)
        {
        }
    }

    private static void Answer(UpstreamDialect dialect, JsonObject request, byte[] bytes)
    {
        using var content = new ByteArrayContent(bytes);
        var body = UpstreamJson.ReadObjectAsync(content, MaxBytes, CancellationToken.None).GetAwaiter().GetResult();
        if (body is null || UpstreamErrors.IsErrorObject(body))
        {
            if (body is not null)
            {
                throw UpstreamErrors.FromErrorObject("fuzz", body, chunksBefore: 0);
            }

            return;
        }

        var answer = dialect.TranslateResponse(UpstreamOperation.Chat, request, body);
        _ = UpstreamUsage.Read(answer);
        _ = answer.ToJsonString();
    }

    private static void Stream(UpstreamDialect dialect, JsonObject request, byte[] bytes)
    {
        using var body = new MemoryStream(bytes, writable: false);
        using var reader = dialect.OpenStreamReader(body);
        var translator = dialect.StartStream(request);
        var output = new List<JsonObject>();
        var yielded = 0;
        while (!translator.Done)
        {
            output.Clear();
            if (!reader.ReadEventAsync(CancellationToken.None).AsTask().GetAwaiter().GetResult())
            {
                translator.OnEnd(output);
                Emit(output);
                return;
            }

            translator.OnEvent(reader.EventName, reader.Data.Span, yielded, output);
            yielded += output.Count;
            Emit(output);
        }
    }

    // What the gateway does with each translated chunk: write it out.
    private static void Emit(List<JsonObject> chunks)
    {
        foreach (var chunk in chunks)
        {
            _ = chunk.ToJsonString();
        }
    }

    private static JsonObject Request(bool tools, bool stream)
    {
        var request = new JsonObject
        {
            ["model"] = "m",
            ["messages"] = new JsonArray(new JsonObject { ["role"] = "user", ["content"] = "weather in Oslo?" }),
            ["stream"] = stream,
        };
        if (stream)
        {
            request["stream_options"] = new JsonObject { ["include_usage"] = true };
        }

        if (tools)
        {
            request["tools"] = new JsonArray(new JsonObject
            {
                ["type"] = "function",
                ["function"] = new JsonObject
                {
                    ["name"] = "get_weather",
                    ["parameters"] = new JsonObject { ["type"] = "object", ["properties"] = new JsonObject { ["city"] = new JsonObject { ["type"] = "string" } } },
                },
            });
            request["tool_choice"] = new JsonObject { ["type"] = "function", ["function"] = new JsonObject { ["name"] = "get_weather" } };
        }

        return request;
    }

    // Events as "event-type\npayload", separated by a blank line, each framed with valid CRCs.
    private static byte[] Frame(ReadOnlySpan<byte> events)
    {
        var frames = new List<byte>();
        foreach (var part in Encoding.UTF8.GetString(events).Split("\n\n"))
        {
            var newline = part.IndexOf('\n', StringComparison.Ordinal);
            var type = newline < 0 ? part : part[..newline];
            var payload = Encoding.UTF8.GetBytes(newline < 0 ? string.Empty : part[(newline + 1)..]);
            if (type.Length > 200)
            {
                type = type[..200];
            }

            (string, string)[] headers = type.StartsWith('!')
                ? [(":exception-type", type[1..]), (":content-type", "application/json"), (":message-type", "exception")]
                : [(":event-type", type), (":content-type", "application/json"), (":message-type", "event")];
            frames.AddRange(AwsEventStreamReader.Encode(headers, payload));
        }

        return [.. frames];
    }

    private static (string Name, byte[] Bytes) Seed(string name, int kind, bool stream, bool tools, string body)
    {
        var selector = (byte)(kind + (stream ? Kinds.Length : 0) + (tools ? Kinds.Length * 2 : 0));
        return (name, [selector, .. Encoding.UTF8.GetBytes(body)]);
    }

    private static (string Name, byte[] Bytes) BedrockFramed(string name, bool tools, params (string Type, string Payload)[] events)
    {
        var selector = (byte)(4 + Kinds.Length + (tools ? Kinds.Length * 2 : 0));
        return (name, [selector, 1, .. Encoding.UTF8.GetBytes(string.Join("\n\n", events.Select(e => e.Type + "\n" + e.Payload)))]);
    }

    private static (string Name, byte[] Bytes) BedrockRaw(string name, params byte[][] frames) =>
        (name, [(byte)(4 + Kinds.Length), 0, .. frames.SelectMany(f => f)]);
}
