using System.Text.Json;
using System.Text.Json.Nodes;
using static Enclave.Inference.Upstream.VendorTranslation;

namespace Enclave.Inference.Upstream;

/// <summary>
/// ConverseStream's events (<c>messageStart</c>, <c>contentBlockStart</c>, <c>contentBlockDelta</c>,
/// <c>contentBlockStop</c>, <c>messageStop</c>, <c>metadata</c>; exceptions as <c>exception:{type}</c>) as OpenAI
/// chunks. <c>metadata</c> (usage) ends the stream; a body that ends after <c>messageStop</c> without it is complete.
/// </summary>
internal sealed class BedrockStreamTranslator(UpstreamBackendOptions backend, long created, string model, bool includeUsage, string? formatTool = null) : UpstreamStreamTranslator
{
    private long? _formatBlock;
    private readonly string _id = "bedrock-" + Convert.ToHexStringLower(Guid.NewGuid().ToByteArray());
    private readonly Dictionary<long, int> _toolIndexByBlock = [];
    private bool _stopped;

    public override string EndEvent => "its messageStop event";

    protected override void Translate(string? eventName, ReadOnlySpan<byte> data, int yielded, List<JsonObject> output)
    {
        var payload = UpstreamJson.ParseObject(data);
        if (eventName?.StartsWith("exception:", StringComparison.Ordinal) == true || eventName?.StartsWith("error:", StringComparison.Ordinal) == true)
        {
            var type = eventName[(eventName.IndexOf(':', StringComparison.Ordinal) + 1)..];
            var message = new JsonObject { ["error"] = new JsonObject { ["message"] = $"{type}: {String(payload["message"]) ?? String(payload["Message"]) ?? "no message"}" } };
            throw UpstreamErrors.InStream(UpstreamErrors.FromStatus(backend.Name, BedrockDialect.StatusOf(type), null, message), yielded);
        }

        switch (eventName)
        {
            case "messageStart":
                output.Add(Chunk(new JsonObject { ["role"] = "assistant", ["content"] = "" }, null));
                break;
            case "contentBlockStart":
                if (payload["start"]?["toolUse"] is JsonObject formatUse && formatTool is not null && String(formatUse["name"]) == formatTool)
                {
                    // The forced tool of a JSON response format: its input is the answer's content.
                    _formatBlock = Integer(payload["contentBlockIndex"]) ?? throw new JsonException("contentBlockStart has no contentBlockIndex");
                }
                else if (payload["start"]?["toolUse"] is JsonObject toolUse)
                {
                    var block = Integer(payload["contentBlockIndex"]) ?? throw new JsonException("contentBlockStart has no contentBlockIndex");
                    var index = _toolIndexByBlock.Count;
                    _toolIndexByBlock[block] = index;
                    output.Add(Chunk(ToolDelta(index, String(toolUse["toolUseId"]), String(toolUse["name"]), ""), null));
                }

                break;
            case "contentBlockDelta":
                var delta = payload["delta"] as JsonObject ?? throw new JsonException("contentBlockDelta has no delta");
                if (String(delta["text"]) is { } text)
                {
                    output.Add(Chunk(new JsonObject { ["content"] = text }, null));
                }
                else if (delta["toolUse"] is JsonObject input)
                {
                    var block = Integer(payload["contentBlockIndex"]) ?? -1;
                    if (block == _formatBlock)
                    {
                        output.Add(Chunk(new JsonObject { ["content"] = String(input["input"]) ?? "" }, null));
                        break;
                    }

                    if (!_toolIndexByBlock.TryGetValue(block, out var index))
                    {
                        throw new JsonException("a toolUse delta for a block that did not start as toolUse");
                    }

                    output.Add(Chunk(ToolDelta(index, null, null, String(input["input"]) ?? ""), null));
                }

                break;
            case "messageStop":
                _stopped = true;
                var finish = BedrockDialect.FinishReason(String(payload["stopReason"]));
                output.Add(Chunk(new JsonObject(), _formatBlock is not null && finish == "tool_calls" ? "stop" : finish));
                break;
            case "metadata":
                if (includeUsage && payload["usage"] is JsonObject usage)
                {
                    output.Add(VendorTranslation.Chunk(_id, created, model, null, null, Usage(Integer(usage["inputTokens"]) ?? 0, Integer(usage["outputTokens"]) ?? 0)));
                }

                Done = true;
                break;
            default:
                break; // contentBlockStop, and event types added later
        }
    }

    protected override bool End(List<JsonObject> output)
    {
        Done = _stopped;
        return _stopped;
    }

    private JsonObject Chunk(JsonObject delta, string? finishReason) => VendorTranslation.Chunk(_id, created, model, delta, finishReason);

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
