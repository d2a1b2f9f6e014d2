using System.Text.Json;
using System.Text.Json.Nodes;
using static Enclave.Inference.Upstream.VendorTranslation;

namespace Enclave.Inference.Upstream;

/// <summary>
/// Anthropic's streaming events (<c>message_start</c>, <c>content_block_start</c>, <c>content_block_delta</c>,
/// <c>content_block_stop</c>, <c>message_delta</c>, <c>message_stop</c>, <c>ping</c>, <c>error</c>) as OpenAI chunks:
/// the role first, text and tool-call argument deltas as they come, the finish reason, and the usage chunk when the
/// request asked for it. <c>message_stop</c> ends the stream.
/// </summary>
internal sealed class AnthropicStreamTranslator(UpstreamBackendOptions backend, long created, bool includeUsage, string? formatTool = null) : UpstreamStreamTranslator
{
    private readonly Dictionary<long, int> _toolIndexByBlock = [];
    private string _id = "msg";
    private string _model = "";
    private long _inputTokens;
    private long _outputTokens;
    private bool _started;
    private long? _formatBlock;

    public override string EndEvent => "its message_stop event";

    protected override void Translate(string? eventName, ReadOnlySpan<byte> data, int yielded, List<JsonObject> output)
    {
        var payload = UpstreamJson.ParseObject(data);
        var type = String(payload["type"]) ?? eventName;
        if (!_started && type is not ("message_start" or "ping" or "error"))
        {
            throw new JsonException($"the stream began with '{UpstreamErrors.Sanitize(type ?? "no type")}', not message_start");
        }

        switch (type)
        {
            case "message_start":
                var message = payload["message"] as JsonObject ?? throw new JsonException("message_start has no message");
                _started = true;
                _id = String(message["id"]) ?? _id;
                _model = String(message["model"]) ?? _model;
                if (message["usage"] is JsonObject startUsage)
                {
                    _inputTokens = AnthropicDialect.InputTokens(startUsage);
                    _outputTokens = Integer(startUsage["output_tokens"]) ?? 0;
                }

                output.Add(Chunk(new JsonObject { ["role"] = "assistant", ["content"] = "" }, null));
                break;
            case "content_block_start":
                var block = payload["content_block"] as JsonObject ?? throw new JsonException("content_block_start has no content_block");
                var index = Integer(payload["index"]) ?? throw new JsonException("content_block_start has no index");
                switch (String(block["type"]))
                {
                    case "text" when String(block["text"]) is { Length: > 0 } text:
                        output.Add(Chunk(new JsonObject { ["content"] = text }, null));
                        break;
                    case "tool_use" when formatTool is not null && String(block["name"]) == formatTool:
                        _formatBlock = index; // the forced tool of a JSON response format: its input is the answer's content
                        break;
                    case "tool_use":
                        var toolIndex = _toolIndexByBlock.Count;
                        _toolIndexByBlock[index] = toolIndex;
                        output.Add(Chunk(ToolDelta(toolIndex, String(block["id"]), String(block["name"]), ""), null));
                        break;
                }

                break;
            case "content_block_delta":
                var delta = payload["delta"] as JsonObject ?? throw new JsonException("content_block_delta has no delta");
                switch (String(delta["type"]))
                {
                    case "text_delta":
                        output.Add(Chunk(new JsonObject { ["content"] = String(delta["text"]) ?? "" }, null));
                        break;
                    case "input_json_delta":
                        var blockIndex = Integer(payload["index"]) ?? -1;
                        if (blockIndex == _formatBlock)
                        {
                            output.Add(Chunk(new JsonObject { ["content"] = String(delta["partial_json"]) ?? "" }, null));
                            break;
                        }

                        if (!_toolIndexByBlock.TryGetValue(blockIndex, out var tool))
                        {
                            throw new JsonException("input_json_delta for a block that is not a tool_use block");
                        }

                        output.Add(Chunk(ToolDelta(tool, null, null, String(delta["partial_json"]) ?? ""), null));
                        break;
                }

                break;
            case "message_delta":
                if (payload["usage"] is JsonObject deltaUsage)
                {
                    _outputTokens = Integer(deltaUsage["output_tokens"]) ?? _outputTokens;
                    if (deltaUsage.ContainsKey("input_tokens"))
                    {
                        _inputTokens = AnthropicDialect.InputTokens(deltaUsage);
                    }
                }

                if (String(payload["delta"]?["stop_reason"]) is { } stopReason)
                {
                    var finish = AnthropicDialect.FinishReason(stopReason);
                    output.Add(Chunk(new JsonObject(), _formatBlock is not null && finish == "tool_calls" ? "stop" : finish));
                }

                break;
            case "message_stop":
                if (includeUsage)
                {
                    output.Add(VendorTranslation.Chunk(_id, created, _model, null, null, Usage(_inputTokens, _outputTokens)));
                }

                Done = true;
                break;
            case "error":
                var error = payload["error"] as JsonObject;
                var mapped = UpstreamErrors.FromStatus(backend.Name, AnthropicDialect.StatusOf(String(error?["type"])), null, AnthropicDialect.OpenAiError(payload));
                throw UpstreamErrors.InStream(mapped, yielded);
            default:
                break; // ping, content_block_stop, and event types added later: nothing to pass on
        }
    }

    private JsonObject Chunk(JsonObject delta, string? finishReason) => VendorTranslation.Chunk(_id, created, _model, delta, finishReason);

    private static JsonObject ToolDelta(int index, string? id, string? name, string arguments)
    {
        var call = new JsonObject { ["index"] = index };
        if (id is not null)
        {
            call["id"] = id;
            call["type"] = "function";
        }

        var function = new JsonObject();
        if (name is not null)
        {
            function["name"] = name;
        }

        function["arguments"] = arguments;
        call["function"] = function;
        return new JsonObject { ["tool_calls"] = new JsonArray(call) };
    }
}
