using System.Text;
using System.Text.Json;
using System.Text.Json.Nodes;
using Enclave.Server.OpenAi;
using Microsoft.AspNetCore.Builder;
using Microsoft.AspNetCore.Http;
using Microsoft.AspNetCore.Routing;

namespace Enclave.Server.Anthropic;

/// <summary>
/// <c>POST /v1/messages</c>, the Anthropic Messages API, served by any allowed backend through the same request path as
/// <c>/v1/chat/completions</c> (<see cref="RequestHandler"/>: authentication, labels and policy, quotas, ledger,
/// retention): the Anthropic request is translated to the internal chat request, and the answer, stream or error that
/// path gives is translated back (errors as Anthropic error objects).
/// </summary>
internal static class MessagesEndpoints
{
    public const string Path = "/v1/messages";

    public static void MapAnthropicMessages(this RouteGroupBuilder v1) =>
        v1.MapPost("/messages", (HttpContext http, RequestHandler handler) => HandleAsync(http, handler));

    private static async Task<IResult> HandleAsync(HttpContext http, RequestHandler handler)
    {
        var original = http.Response.Body;
        await using var capture = new MessagesResponseStream(http, original);
        http.Response.Body = capture;
        try
        {
            var (request, error) = await handler.ReadBodyAsync(http).ConfigureAwait(false);
            IResult result;
            string? model = null;
            if (error is not null)
            {
                result = error;
            }
            else
            {
                JsonObject chat;
                try
                {
                    chat = MessagesTranslation.ToChatRequest(request!.Body);
                }
                catch (MessagesRequestException ex)
                {
                    http.Response.Body = original;
                    await AnthropicError.WriteAsync(http, StatusCodes.Status400BadRequest, ex.Message).ConfigureAwait(false);
                    return Results.Empty;
                }

                model = (string)chat["model"]!;
                capture.Model = model;
                result = await handler.HandleAsync(http, Operation.Chat, chat).ConfigureAwait(false);
            }

            await result.ExecuteAsync(http).ConfigureAwait(false);
            await capture.FinishAsync(model).ConfigureAwait(false);
        }
        finally
        {
            http.Response.Body = original;
        }

        return Results.Empty;
    }
}

/// <summary>
/// Stands in for the response body while the chat path answers: an event stream (the path set
/// <c>text/event-stream</c>) is translated chunk by chunk into Anthropic stream events as it is written; anything else
/// (an answer or an error object) is kept and translated once complete.
/// </summary>
internal sealed class MessagesResponseStream(HttpContext http, Stream inner) : ChatAnswerStream(http, inner)
{
    private static readonly JsonSerializerOptions Json = OpenAiError.Json;
    private bool _started;
    private string _type = string.Empty;
    private int _index = -1;
    private string? _stopReason;
    private bool _calledATool;
    private JsonObject? _usage;
    private bool _stopped;

    public string? Model { get; set; }

    /// <summary>After the chat path answered: translates a kept (non-stream) answer or error.</summary>
    public async Task FinishAsync(string? model)
    {
        if (IsEventStream == true || Kept.Length == 0)
        {
            return;
        }

        var status = Http.Response.StatusCode;
        JsonNode? body;
        try
        {
            body = JsonNode.Parse(Kept.GetBuffer().AsMemory(0, (int)Kept.Length).Span);
        }
        catch (JsonException)
        {
            body = null;
        }

        Http.Response.Body = Inner;
        Http.Response.ContentLength = null;
        if (status == StatusCodes.Status200OK && body is JsonObject completion && model is not null)
        {
            Http.Response.ContentType = "application/json";
            await Http.Response.WriteAsync(MessagesTranslation.ToMessage(completion, model).ToJsonString(Json), Http.RequestAborted).ConfigureAwait(false);
            return;
        }

        var message = (body?["error"]?["message"] as JsonValue)?.TryGetValue<string>(out var m) == true ? m : $"the request failed with HTTP status {status}";
        await AnthropicError.WriteAsync(Http, status, message).ConfigureAwait(false);
    }

    protected override ValueTask TranslateAsync(string data, StringBuilder output)
    {
        Translate(data, output);
        return ValueTask.CompletedTask;
    }

    private void Translate(string data, StringBuilder output)
    {
        if (data == "[DONE]")
        {
            Stop(output);
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

        if (chunk["error"] is JsonObject error)
        {
            Event(output, "error", new JsonObject { ["type"] = "error", ["error"] = new JsonObject { ["type"] = "api_error", ["message"] = (string?)error["message"] } });
            return;
        }

        if (!_started)
        {
            _started = true;
            Event(output, "message_start", new JsonObject
            {
                ["type"] = "message_start",
                ["message"] = new JsonObject
                {
                    ["id"] = MessagesTranslation.MessageId(chunk),
                    ["type"] = "message",
                    ["role"] = "assistant",
                    ["model"] = Model,
                    ["content"] = new JsonArray(),
                    ["stop_reason"] = null,
                    ["stop_sequence"] = null,
                    ["usage"] = new JsonObject { ["input_tokens"] = 0, ["output_tokens"] = 0 },
                },
            });
            Event(output, "ping", new JsonObject { ["type"] = "ping" });
        }

        if (chunk["usage"] is JsonObject usage)
        {
            _usage = usage;
        }

        if ((chunk["choices"] as JsonArray)?.FirstOrDefault() is not JsonObject choice)
        {
            return;
        }

        var delta = choice["delta"] as JsonObject;
        if (delta?["content"] is JsonValue c && c.TryGetValue<string>(out var text) && text.Length > 0)
        {
            Open(output, "text", () => new JsonObject { ["type"] = "text", ["text"] = string.Empty }, force: false);
            Delta(output, new JsonObject { ["type"] = "text_delta", ["text"] = text });
        }

        if (delta?["tool_calls"] is JsonArray calls)
        {
            foreach (var call in calls.OfType<JsonObject>())
            {
                if (call["id"] is JsonValue id)
                {
                    var name = (string?)call["function"]?["name"];
                    Open(output, "tool_use", () => new JsonObject { ["type"] = "tool_use", ["id"] = id.DeepClone(), ["name"] = name, ["input"] = new JsonObject() }, force: true);
                    _calledATool = true;
                }

                if ((string?)call["function"]?["arguments"] is { Length: > 0 } arguments && _type == "tool_use")
                {
                    Delta(output, new JsonObject { ["type"] = "input_json_delta", ["partial_json"] = arguments });
                }
            }
        }

        if (choice["finish_reason"] is JsonValue f && f.TryGetValue<string>(out var finish))
        {
            _stopReason = MessagesTranslation.StopReason(finish, _calledATool);
        }
    }

    private void Open(StringBuilder output, string type, Func<JsonObject> block, bool force)
    {
        if (_type == type && !force)
        {
            return;
        }

        Close(output);
        _index++;
        _type = type;
        Event(output, "content_block_start", new JsonObject { ["type"] = "content_block_start", ["index"] = _index, ["content_block"] = block() });
    }

    private void Close(StringBuilder output)
    {
        if (_type.Length > 0)
        {
            Event(output, "content_block_stop", new JsonObject { ["type"] = "content_block_stop", ["index"] = _index });
            _type = string.Empty;
        }
    }

    private void Delta(StringBuilder output, JsonObject delta) =>
        Event(output, "content_block_delta", new JsonObject { ["type"] = "content_block_delta", ["index"] = _index, ["delta"] = delta });

    private void Stop(StringBuilder output)
    {
        if (_stopped)
        {
            return;
        }

        _stopped = true;
        Close(output);
        Event(output, "message_delta", new JsonObject
        {
            ["type"] = "message_delta",
            ["delta"] = new JsonObject { ["stop_reason"] = _stopReason ?? "end_turn", ["stop_sequence"] = null },
            ["usage"] = MessagesTranslation.Usage(_usage),
        });
        Event(output, "message_stop", new JsonObject { ["type"] = "message_stop" });
    }

    private static void Event(StringBuilder output, string name, JsonObject data) =>
        output.Append("event: ").Append(name).Append("\ndata: ").Append(data.ToJsonString(Json)).Append("\n\n");
}
