using System.Text;
using System.Text.Json;
using System.Text.Json.Nodes;
using Enclave.Core.Audit;
using Enclave.Server.OpenAi;
using Microsoft.AspNetCore.Http;

namespace Enclave.Server.Responses;

/// <summary>
/// Stands in for the response body while the chat path answers a Responses request. A chat answer (or error object)
/// is kept and translated once complete; a chat event stream (the path set <c>text/event-stream</c>) is translated
/// chunk by chunk into the Responses API's stream events (<c>response.created</c>, <c>response.in_progress</c>,
/// <c>response.output_item.added</c>, <c>response.content_part.added</c>, <c>response.output_text.delta</c> ...
/// <c>response.completed</c>), each with its <c>sequence_number</c>. The response is stored (when the request's
/// <c>store</c> is not false) before <c>response.completed</c> or the answer leaves.
/// </summary>
internal sealed class ResponsesResponseStream(HttpContext http, Stream inner, ResponseContext context, ResponseService responses, JsonArray conversation, JsonArray inputItems) : ChatAnswerStream(http, inner)
{
    private static readonly JsonSerializerOptions Json = OpenAiError.Json;
    private readonly List<JsonObject> _items = [];
    private readonly Dictionary<int, (JsonObject Item, StringBuilder Arguments)> _calls = [];
    private readonly StringBuilder _text = new();
    private int _sequence;
    private bool _created;
    private bool _done;
    private JsonObject? _message;
    private string? _finish;
    private (int Input, int Output)? _usage;

    /// <summary>After the chat path answered: translates and stores a kept (non-stream) answer, or passes its error on.</summary>
    public async Task FinishAsync()
    {
        if (IsEventStream == true || Kept.Length == 0)
        {
            return;
        }

        Http.Response.Body = Inner;
        Http.Response.ContentLength = null;
        if (Http.Response.StatusCode != StatusCodes.Status200OK)
        {
            // Already an OpenAI error object, as the Responses API answers errors.
            await Inner.WriteAsync(Kept.GetBuffer().AsMemory(0, (int)Kept.Length), Http.RequestAborted).ConfigureAwait(false);
            return;
        }

        var completion = JsonNode.Parse(Kept.GetBuffer().AsMemory(0, (int)Kept.Length).Span) as JsonObject ?? [];
        var response = ResponsesTranslation.ToResponse(context, completion);
        if (context.Store)
        {
            try
            {
                await responses.StoreAsync(ResponsesEndpoints.Row(Http, context, responses, conversation, response, inputItems)).ConfigureAwait(false);
            }
            catch (Exception ex) when (ex is LedgerWriteException or ObjectDisposedException)
            {
                await OpenAiError.Result(StatusCodes.Status503ServiceUnavailable, "server_error", "the audit ledger is unavailable; the response was not stored", retryAfter: TimeSpan.FromSeconds(5))
                    .ExecuteAsync(Http).ConfigureAwait(false);
                return;
            }
        }

        Http.Response.ContentType = "application/json";
        await Http.Response.WriteAsync(response.ToJsonString(Json), Http.RequestAborted).ConfigureAwait(false);
    }

    protected override async ValueTask TranslateAsync(string data, StringBuilder output)
    {
        if (_done)
        {
            return;
        }

        if (data == "[DONE]")
        {
            await CompleteAsync(output).ConfigureAwait(false);
            return;
        }

        JsonObject? chunk;
        try
        {
            chunk = JsonNode.Parse(data) as JsonObject;
        }
        catch (JsonException)
        {
            return;
        }

        if (chunk is null)
        {
            return;
        }

        Start(output);
        if (chunk["error"] is JsonObject error)
        {
            Fail(output, (string?)error["type"] ?? "server_error", (string?)error["message"] ?? "the request failed", (string?)error["param"]);
            return;
        }

        if (chunk["usage"] is JsonObject usage && usage["prompt_tokens"] is JsonValue p && usage["completion_tokens"] is JsonValue c)
        {
            _usage = (p.GetValue<int>(), c.GetValue<int>());
        }

        if (chunk["choices"] is not JsonArray { Count: > 0 } choices || choices[0] is not JsonObject choice)
        {
            return;
        }

        if ((string?)choice["finish_reason"] is { } finish)
        {
            _finish = finish;
        }

        if (choice["delta"] is not JsonObject delta)
        {
            return;
        }

        if (delta["content"] is JsonValue content && content.TryGetValue<string>(out var text) && text.Length > 0)
        {
            if (_message is null)
            {
                _message = ResponsesTranslation.MessageItem(context.NewId("msg"), string.Empty, "in_progress");
                _message["content"] = new JsonArray();
                _items.Add(_message);
                Emit(output, "response.output_item.added", new JsonObject { ["output_index"] = _items.Count - 1, ["item"] = _message.DeepClone() });
                Emit(output, "response.content_part.added", new JsonObject
                {
                    ["item_id"] = (string)_message["id"]!,
                    ["output_index"] = _items.Count - 1,
                    ["content_index"] = 0,
                    ["part"] = ResponsesTranslation.OutputText(string.Empty),
                });
            }

            _text.Append(text);
            Emit(output, "response.output_text.delta", new JsonObject
            {
                ["item_id"] = (string)_message["id"]!,
                ["output_index"] = _items.IndexOf(_message),
                ["content_index"] = 0,
                ["delta"] = text,
                ["logprobs"] = new JsonArray(),
            });
        }

        if (delta["tool_calls"] is JsonArray calls)
        {
            foreach (var call in calls.OfType<JsonObject>())
            {
                var index = (int?)call["index"] ?? 0;
                if (!_calls.TryGetValue(index, out var open))
                {
                    var item = ResponsesTranslation.FunctionCallItem(
                        context.NewId("fc"),
                        (string?)call["id"] ?? context.NewId("call"),
                        (string?)call["function"]?["name"] ?? string.Empty,
                        string.Empty,
                        "in_progress");
                    open = (item, new StringBuilder());
                    _calls[index] = open;
                    _items.Add(item);
                    Emit(output, "response.output_item.added", new JsonObject { ["output_index"] = _items.Count - 1, ["item"] = item.DeepClone() });
                }

                if ((string?)call["function"]?["arguments"] is { Length: > 0 } arguments)
                {
                    open.Arguments.Append(arguments);
                    Emit(output, "response.function_call_arguments.delta", new JsonObject
                    {
                        ["item_id"] = (string)open.Item["id"]!,
                        ["output_index"] = _items.IndexOf(open.Item),
                        ["delta"] = arguments,
                    });
                }
            }
        }
    }

    private void Start(StringBuilder output)
    {
        if (_created)
        {
            return;
        }

        _created = true;
        var response = context.Response("in_progress", [], null);
        Emit(output, "response.created", new JsonObject { ["response"] = response });
        Emit(output, "response.in_progress", new JsonObject { ["response"] = response.DeepClone() });
    }

    private async Task CompleteAsync(StringBuilder output)
    {
        Start(output);
        _done = true;
        for (var i = 0; i < _items.Count; i++)
        {
            var item = _items[i];
            var id = (string)item["id"]!;
            item["status"] = "completed";
            if (ReferenceEquals(item, _message))
            {
                var text = _text.ToString();
                Emit(output, "response.output_text.done", new JsonObject { ["item_id"] = id, ["output_index"] = i, ["content_index"] = 0, ["text"] = text, ["logprobs"] = new JsonArray() });
                Emit(output, "response.content_part.done", new JsonObject { ["item_id"] = id, ["output_index"] = i, ["content_index"] = 0, ["part"] = ResponsesTranslation.OutputText(text) });
                item["content"] = new JsonArray(ResponsesTranslation.OutputText(text));
            }
            else
            {
                var arguments = _calls.Values.First(c => ReferenceEquals(c.Item, item)).Arguments.ToString();
                item["arguments"] = arguments;
                Emit(output, "response.function_call_arguments.done", new JsonObject { ["item_id"] = id, ["output_index"] = i, ["arguments"] = arguments });
            }

            Emit(output, "response.output_item.done", new JsonObject { ["output_index"] = i, ["item"] = item.DeepClone() });
        }

        var status = ResponsesTranslation.FinishStatus(_finish);
        var response = context.Response(status, new JsonArray([.. _items.Select(i => i.DeepClone())]), _usage);
        if (context.Store)
        {
            try
            {
                await responses.StoreAsync(ResponsesEndpoints.Row(Http, context, responses, conversation, response, inputItems)).ConfigureAwait(false);
            }
            catch (Exception ex) when (ex is LedgerWriteException or ObjectDisposedException)
            {
                Fail(output, "server_error", "the audit ledger is unavailable; the response was not stored", null);
                return;
            }
        }

        Emit(output, status == "completed" ? "response.completed" : "response.incomplete", new JsonObject { ["response"] = response });
    }

    private void Fail(StringBuilder output, string code, string message, string? param)
    {
        _done = true;
        Emit(output, "error", new JsonObject { ["code"] = code, ["message"] = message, ["param"] = param });
        var failed = context.Response("failed", new JsonArray([.. _items.Select(i => i.DeepClone())]), _usage);
        failed["error"] = new JsonObject { ["code"] = code, ["message"] = message };
        Emit(output, "response.failed", new JsonObject { ["response"] = failed });
    }

    private void Emit(StringBuilder output, string type, JsonObject fields)
    {
        var payload = new JsonObject { ["type"] = type, ["sequence_number"] = _sequence++ };
        foreach (var (key, value) in fields.ToList())
        {
            fields.Remove(key);
            payload[key] = value;
        }

        output.Append("event: ").Append(type).Append('\n').Append("data: ").Append(payload.ToJsonString(Json)).Append("\n\n");
    }
}
