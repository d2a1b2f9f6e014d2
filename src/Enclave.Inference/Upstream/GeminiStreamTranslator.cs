using System.Text.Json;
using System.Text.Json.Nodes;
using static Enclave.Inference.Upstream.VendorTranslation;

namespace Enclave.Inference.Upstream;

/// <summary>
/// Gemini's <c>streamGenerateContent?alt=sse</c> stream: each event is a whole <c>GenerateContentResponse</c> carrying
/// the next parts; the stream simply ends after the chunk with a <c>finishReason</c> (there is no end event). Text parts
/// become content deltas, <c>functionCall</c> parts whole tool-call deltas, the finish reason the finish chunk, and
/// <c>usageMetadata</c> the usage chunk when the request asked for it.
/// </summary>
internal sealed class GeminiStreamTranslator(UpstreamBackendOptions backend, long created, bool includeUsage) : UpstreamStreamTranslator
{
    private string _id = "gemini";
    private string _model = "";
    private JsonObject? _usage;
    private bool _started;
    private bool _finished;
    private int _toolCalls;

    public override string EndEvent => "a chunk with a finishReason";

    protected override void Translate(string? eventName, ReadOnlySpan<byte> data, int yielded, List<JsonObject> output)
    {
        var response = UpstreamJson.ParseObject(data);
        if (response["error"] is JsonObject)
        {
            var status = Integer(response["error"]!["code"]) is { } code and >= 400 and < 600 ? (int)code : 502;
            throw UpstreamErrors.InStream(UpstreamErrors.FromStatus(backend.Name, status, null, response), yielded);
        }

        _id = String(response["responseId"]) ?? _id;
        _model = String(response["modelVersion"]) ?? _model;
        if (response["usageMetadata"] is JsonObject usage)
        {
            _usage = GeminiDialect.Usage(usage);
        }

        if (!_started)
        {
            _started = true;
            output.Add(Chunk(new JsonObject { ["role"] = "assistant", ["content"] = "" }, null));
        }

        var candidate = response["candidates"] is JsonArray { Count: > 0 } candidates ? candidates[0] as JsonObject : null;
        if (candidate is null)
        {
            if (String(response["promptFeedback"]?["blockReason"]) is not null)
            {
                output.Add(Chunk(new JsonObject(), "content_filter"));
                _finished = true;
            }

            return;
        }

        if (candidate["content"]?["parts"] is JsonArray parts)
        {
            foreach (var part in parts.OfType<JsonObject>())
            {
                if (String(part["text"]) is { } text && part["thought"] is null)
                {
                    output.Add(Chunk(new JsonObject { ["content"] = text }, null));
                }
                else if (part["functionCall"] is JsonObject functionCall)
                {
                    output.Add(Chunk(new JsonObject { ["tool_calls"] = new JsonArray(GeminiDialect.ToolCall(functionCall, _toolCalls++, withIndex: true)) }, null));
                }
            }
        }

        if (String(candidate["finishReason"]) is { } reason)
        {
            output.Add(Chunk(new JsonObject(), GeminiDialect.FinishReason(reason, _toolCalls > 0)));
            _finished = true;
        }
    }

    protected override bool End(List<JsonObject> output)
    {
        if (!_finished)
        {
            return false;
        }

        if (includeUsage && _usage is not null)
        {
            output.Add(VendorTranslation.Chunk(_id, created, _model, null, null, _usage));
        }

        Done = true;
        return true;
    }

    private JsonObject Chunk(JsonObject delta, string? finishReason) => VendorTranslation.Chunk(_id, created, _model, delta, finishReason);
}
