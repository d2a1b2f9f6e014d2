using System.Globalization;
using System.Text.Json;
using System.Text.Json.Nodes;
using Enclave.Core.Audit;
using Enclave.Policy.Labels;
using Enclave.Server.Hosting;
using Enclave.Server.OpenAi;
using Enclave.State.Responses;
using Microsoft.AspNetCore.Builder;
using Microsoft.AspNetCore.Http;
using Microsoft.AspNetCore.Routing;

namespace Enclave.Server.Responses;

/// <summary>
/// The Responses API: <c>POST /v1/responses</c> (answered through the same request path as
/// <c>/v1/chat/completions</c>: authentication, labels and policy, quotas, ledger, retention; the request is translated
/// to a chat request and the answer or stream translated back), <c>GET</c> and <c>DELETE /v1/responses/{id}</c> over
/// the stored responses (<see cref="ResponseService"/>: owner only, admins per their clearance), their input items
/// (<c>GET /v1/responses/{id}/input_items</c>), background responses (<c>background: true</c>) and their cancellation
/// (<c>POST /v1/responses/{id}/cancel</c>).
/// </summary>
internal static class ResponsesEndpoints
{
    public const string Path = "/v1/responses";

    public static void MapResponses(this RouteGroupBuilder v1)
    {
        v1.MapPost("/responses", (HttpContext http, RequestHandler handler, ResponseService responses, BackgroundResponses background, ServerSettings settings) => CreateAsync(http, handler, responses, background, settings));
        v1.MapGet("/responses/{id}", GetAsync);
        v1.MapDelete("/responses/{id}", DeleteAsync);
        v1.MapGet("/responses/{id}/input_items", InputItemsAsync);
        v1.MapPost("/responses/{id}/cancel", CancelAsync);
    }

    /// <summary>The query parameters of <c>GET /v1/responses/{id}/input_items</c>.</summary>
    private static readonly HashSet<string> InputItemsQuery = new(StringComparer.Ordinal) { "after", "before", "limit", "order", "include", "include[]" };

    /// <summary>
    /// <c>GET /v1/responses/{id}/input_items</c>: the request's input items as a list page (<c>object</c> <c>list</c>,
    /// <c>data</c>, <c>first_id</c>, <c>last_id</c>, <c>has_more</c>), newest first unless <c>order=asc</c>, at most
    /// <c>limit</c> (1 to 100, default 20) after or before the item named by <c>after</c> / <c>before</c>.
    /// </summary>
    private static async Task<IResult> InputItemsAsync(string id, HttpContext http, ResponseService responses)
    {
        var query = http.Request.Query;
        var unknown = query.Keys.Where(k => !InputItemsQuery.Contains(k)).Order(StringComparer.Ordinal).ToList();
        if (unknown.Count > 0)
        {
            return OpenAiError.InvalidRequest($"unknown query parameter{(unknown.Count > 1 ? "s" : string.Empty)}: {string.Join(", ", unknown)}", unknown[0], "unknown_parameter");
        }

        if (query.FirstOrDefault(p => p.Value.Count > 1 && p.Key is not ("include" or "include[]")) is { Key: { } repeated })
        {
            return OpenAiError.InvalidRequest($"query parameter '{repeated}' is given more than once", repeated);
        }

        if (query.Where(p => p.Key is "include" or "include[]").SelectMany(p => p.Value).FirstOrDefault(v => !string.IsNullOrEmpty(v)) is { } include)
        {
            return OpenAiError.InvalidRequest($"'include' \"{include}\" is not supported: input items carry no additional data in this enclave", "include");
        }

        var limit = 20;
        if (query.TryGetValue("limit", out var limitText)
            && (!int.TryParse(limitText.ToString(), NumberStyles.None, CultureInfo.InvariantCulture, out limit) || limit is < 1 or > 100))
        {
            return OpenAiError.InvalidRequest("'limit' must be an integer between 1 and 100", "limit");
        }

        var order = query.TryGetValue("order", out var orderText) ? orderText.ToString() : "desc";
        if (order is not ("asc" or "desc"))
        {
            return OpenAiError.InvalidRequest("'order' must be \"asc\" or \"desc\"", "order");
        }

        if (responses.Find(id, http.User) is not { } row)
        {
            return NotFound(id);
        }

        var items = (JsonNode.Parse(row.InputItems) as JsonArray ?? []).OfType<JsonObject>().ToList();
        if (order == "desc")
        {
            items.Reverse();
        }

        // The items strictly between the cursors; a page from the start of that range, or, with only 'before', the
        // page just before it (as list endpoints page backwards).
        var start = 0;
        var end = items.Count;
        foreach (var (name, isAfter) in new[] { ("after", true), ("before", false) })
        {
            if (!query.TryGetValue(name, out var cursor))
            {
                continue;
            }

            var at = items.FindIndex(i => (string?)i["id"] == cursor.ToString());
            if (at < 0)
            {
                return OpenAiError.InvalidRequest($"'{name}' names no input item of response '{id}'", name);
            }

            start = isAfter ? Math.Max(start, at + 1) : start;
            end = isAfter ? end : Math.Min(end, at);
        }

        end = Math.Max(start, end);
        var backwards = query.ContainsKey("before") && !query.ContainsKey("after");
        var (from, to) = backwards ? (Math.Max(start, end - limit), end) : (start, Math.Min(end, start + limit));
        var page = items.GetRange(from, to - from);
        var hasMore = backwards ? from > start : to < end;
        try
        {
            await responses.RecordReadAsync(row, http.User).ConfigureAwait(false);
        }
        catch (Exception ex) when (ex is LedgerWriteException or ObjectDisposedException)
        {
            return Unavailable();
        }

        return Results.Json(
            new JsonObject
            {
                ["object"] = "list",
                ["data"] = new JsonArray([.. page.Select(i => (JsonNode)i.DeepClone())]),
                ["first_id"] = page.Count > 0 ? (string?)page[0]["id"] : null,
                ["last_id"] = page.Count > 0 ? (string?)page[^1]["id"] : null,
                ["has_more"] = hasMore,
            },
            OpenAiError.Json);
    }

    /// <summary>
    /// <c>POST /v1/responses/{id}/cancel</c>: a background response still queued or in progress is cancelled (its run
    /// stopped, its status <c>cancelled</c>) and returned; one already cancelled is returned as it is (cancelling twice
    /// changes nothing); one that is not a background response, or that has ended otherwise, is a 400, as OpenAI answers.
    /// </summary>
    private static async Task<IResult> CancelAsync(string id, HttpContext http, ResponseService responses, BackgroundResponses background)
    {
        if (responses.Find(id, http.User) is not { } row)
        {
            return NotFound(id);
        }

        if (JsonNode.Parse(row.Response) is not JsonObject stored || stored["background"]?.GetValueKind() != JsonValueKind.True)
        {
            return OpenAiError.InvalidRequest("Only responses created with background set to true can be cancelled.");
        }

        if (row.Status is "queued" or "in_progress")
        {
            string? cancelled;
            try
            {
                cancelled = await responses.CancelAsync(row, http.User).ConfigureAwait(false);
            }
            catch (Exception ex) when (ex is LedgerWriteException or ObjectDisposedException)
            {
                return Unavailable();
            }

            if (cancelled is not null)
            {
                await background.CancelAsync(row.Id).ConfigureAwait(false);
                return Results.Text(cancelled, "application/json", System.Text.Encoding.UTF8);
            }

            // It ended meanwhile: answered as one that had ended.
            if (responses.Find(id, http.User) is not { } ended)
            {
                return NotFound(id);
            }

            row = ended;
        }

        return row.Status == "cancelled"
            ? Results.Text(row.Response, "application/json", System.Text.Encoding.UTF8)
            : OpenAiError.InvalidRequest($"Cannot cancel a {row.Status} response.");
    }

    private static IResult NotFound(string id, string? param = null) =>
        OpenAiError.NotFound($"Response with id '{id}' not found.", param, code: "not_found");

    private static async Task<IResult> GetAsync(string id, HttpContext http, ResponseService responses)
    {
        if (responses.Find(id, http.User) is not { } row)
        {
            return NotFound(id);
        }

        try
        {
            await responses.RecordReadAsync(row, http.User).ConfigureAwait(false);
        }
        catch (Exception ex) when (ex is LedgerWriteException or ObjectDisposedException)
        {
            return Unavailable();
        }

        return Results.Text(row.Response, "application/json", System.Text.Encoding.UTF8);
    }

    private static async Task<IResult> DeleteAsync(string id, HttpContext http, ResponseService responses)
    {
        if (responses.Find(id, http.User) is not { } row)
        {
            return NotFound(id);
        }

        try
        {
            await responses.DeleteAsync(row, http.User).ConfigureAwait(false);
        }
        catch (Exception ex) when (ex is LedgerWriteException or ObjectDisposedException)
        {
            return Unavailable();
        }

        return Results.Json(new JsonObject { ["id"] = row.Id, ["object"] = "response", ["deleted"] = true });
    }

    private static IResult Unavailable() =>
        OpenAiError.Result(StatusCodes.Status503ServiceUnavailable, "server_error", "the audit ledger is unavailable; the request was not processed", retryAfter: TimeSpan.FromSeconds(5));

    private static async Task<IResult> CreateAsync(HttpContext http, RequestHandler handler, ResponseService responses, BackgroundResponses background, ServerSettings settings)
    {
        var (read, error) = await handler.ReadBodyAsync(http).ConfigureAwait(false);
        if (error is not null)
        {
            return error;
        }

        var request = read!.Body; // translated into a chat request: the client's bytes are not forwarded

        StoredResponse? previous = null;
        JsonArray? earlier = null;
        JsonObject chat;
        JsonArray added;
        try
        {
            if (ResponsesTranslation.String(request!, "previous_response_id") is { } previousId)
            {
                previous = responses.Find(previousId, http.User);
                if (previous is null)
                {
                    return NotFound(previousId, "previous_response_id");
                }

                if (previous.Status is not ("completed" or "incomplete"))
                {
                    return OpenAiError.InvalidRequest(
                        $"response '{previousId}' is {previous.Status}; only a completed (or incomplete) response can be continued",
                        "previous_response_id");
                }

                // The whole conversation is sent again each turn: bound it as a request body is bounded.
                if (previous.Conversation.Length > settings.MaxRequestBytes)
                {
                    return OpenAiError.InvalidRequest(
                        $"the conversation of response '{previousId}' is longer than the enclave's request limit ({settings.MaxRequestBytes} bytes); start a new conversation",
                        "previous_response_id");
                }

                earlier = JsonNode.Parse(previous.Conversation) as JsonArray ?? [];
            }

            (chat, added) = ResponsesTranslation.ToChatRequest(request!, earlier);
        }
        catch (ResponsesRequestException ex)
        {
            return OpenAiError.InvalidRequest(ex.Message, ex.Param);
        }

        var context = ResponseContext.Create(request!, responses.Clock.GetUtcNow());
        var header = http.Request.Headers[RequestLabelExtractor.HeaderName];
        var classification = previous is null ? null : responses.ChainedClassification(previous, header.Count == 0 ? null : header.ToString());
        var conversation = new JsonArray([.. (earlier ?? []).Concat(added).Select(m => m?.DeepClone())]);
        var inputItems = ResponsesTranslation.InputItems(request!, context);
        if (context.Background)
        {
            return await CreateInBackgroundAsync(http, handler, responses, background, context, chat, classification, conversation, inputItems).ConfigureAwait(false);
        }

        var original = http.Response.Body;
        await using var capture = new ResponsesResponseStream(http, original, context, responses, conversation, inputItems);
        http.Response.Body = capture;
        try
        {
            var result = await handler.HandleAsync(http, Operation.Chat, chat, classification).ConfigureAwait(false);
            await result.ExecuteAsync(http).ConfigureAwait(false);
            await capture.FinishAsync().ConfigureAwait(false);
        }
        finally
        {
            http.Response.Body = original;
        }

        return Results.Empty;
    }

    /// <summary>
    /// A background response: admitted as any request, stored at once as <c>queued</c> (<c>response.stored</c>) and
    /// answered with that; the backend call runs after (<see cref="BackgroundResponses"/>), moving the stored status to
    /// <c>in_progress</c> and then to its end, with its <c>request.completed</c> when it ends.
    /// </summary>
    private static async Task<IResult> CreateInBackgroundAsync(
        HttpContext http, RequestHandler handler, ResponseService responses, BackgroundResponses background, ResponseContext context, JsonObject chat, string? classification, JsonArray conversation, JsonArray inputItems)
    {
        if (!background.TryReserve())
        {
            return OpenAiError.Result(
                StatusCodes.Status429TooManyRequests,
                "rate_limit_exceeded",
                $"this enclave replica already runs {background.Limit} background responses (Responses:MaxBackground); try again when one has ended",
                code: "rate_limit_exceeded",
                retryAfter: TimeSpan.FromSeconds(5));
        }

        var detached = false;
        try
        {
            return await handler.HandleAsync(http, Operation.Chat, chat, classification, detach: async answer =>
            {
                var queued = context.Response("queued", [], null);
                try
                {
                    await responses.StoreAsync(Row(http, context, responses, conversation, queued, inputItems)).ConfigureAwait(false);
                }
                catch (Exception ex) when (ex is LedgerWriteException or ObjectDisposedException)
                {
                    return Unavailable();
                }

                detached = true;
                background.Run(context.Id, cancel => RunAsync(context, responses, background, conversation, answer, cancel));
                return Results.Text(queued.ToJsonString(OpenAiError.Json), "application/json", System.Text.Encoding.UTF8);
            }).ConfigureAwait(false);
        }
        finally
        {
            if (!detached)
            {
                background.Release();
            }
        }
    }

    /// <summary>The run of a background response: the chat path's answer translated and stored with the status it ends in.</summary>
    private static async Task RunAsync(ResponseContext context, ResponseService responses, BackgroundResponses background, JsonArray conversation, Func<CancellationToken, Task<IResult>> answer, CancellationToken cancel)
    {
        var store = responses.Store;
        store.Transition(context.Id, "in_progress", context.Response("in_progress", [], null).ToJsonString(OpenAiError.Json));
        IResult result;
        try
        {
            result = await answer(cancel).ConfigureAwait(false);
        }
        catch (Exception ex) when (ex is LedgerWriteException or ObjectDisposedException)
        {
            result = Unavailable();
        }

        if (cancel.IsCancellationRequested)
        {
            // Cancelled or deleted through the API (on any replica): its row already says so, and this changes nothing.
            // Otherwise the server is stopping.
            store.Transition(context.Id, "failed", context.Response("failed", [], null, ("server_error", "the enclave stopped before the response was complete")).ToJsonString(OpenAiError.Json));
            return;
        }

        var (status, body) = await background.CaptureAsync(result).ConfigureAwait(false);
        var parsed = body.Length == 0 ? null : JsonNode.Parse(body) as JsonObject;
        if (status == StatusCodes.Status200OK && parsed is not null)
        {
            var response = ResponsesTranslation.ToResponse(context, parsed);
            var output = (JsonArray)response["output"]!;
            var whole = new JsonArray([.. conversation.Select(m => m?.DeepClone()).Concat(ResponsesTranslation.ToConversation(output).Select(m => m?.DeepClone()))]);
            store.Transition(context.Id, (string)response["status"]!, response.ToJsonString(OpenAiError.Json), whole.ToJsonString(OpenAiError.Json));
            return;
        }

        var error = parsed?["error"] as JsonObject;
        var failed = context.Response("failed", [], null, ((string?)error?["code"] ?? (string?)error?["type"] ?? "server_error", (string?)error?["message"] ?? "the request failed inside the enclave"));
        store.Transition(context.Id, "failed", failed.ToJsonString(OpenAiError.Json));
    }

    /// <summary>The row to store for a response (a finished one, or a background one as it is queued).</summary>
    internal static StoredResponse Row(HttpContext http, ResponseContext context, ResponseService responses, JsonArray conversation, JsonObject response, JsonArray inputItems)
    {

        var output = (JsonArray)response["output"]!;
        var whole = new JsonArray([.. conversation.Select(m => m?.DeepClone()).Concat(ResponsesTranslation.ToConversation(output).Select(m => m?.DeepClone()))]);
        return new StoredResponse
        {
            Id = context.Id,
            Owner = ResponseService.Actor(http.User),
            Label = responses.LabelOf(http),
            Model = context.Model,
            Created = context.Created,
            PreviousId = context.PreviousId,
            RequestId = http.Response.Headers["X-Request-Id"].ToString(),
            AdmittedIndex = long.Parse(http.Response.Headers[OpenAiEndpoints.LedgerIndexHeader].ToString(), CultureInfo.InvariantCulture),
            Conversation = whole.ToJsonString(OpenAiError.Json),
            Response = response.ToJsonString(OpenAiError.Json),
            Status = (string)response["status"]!,
            InputItems = inputItems.ToJsonString(OpenAiError.Json),
        };
    }
}
