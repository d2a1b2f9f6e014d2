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
/// the stored responses (<see cref="ResponseService"/>: owner only, admins per their clearance).
/// </summary>
internal static class ResponsesEndpoints
{
    public const string Path = "/v1/responses";

    public static void MapResponses(this RouteGroupBuilder v1)
    {
        v1.MapPost("/responses", (HttpContext http, RequestHandler handler, ResponseService responses, ServerSettings settings) => CreateAsync(http, handler, responses, settings));
        v1.MapGet("/responses/{id}", GetAsync);
        v1.MapDelete("/responses/{id}", DeleteAsync);
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

    private static async Task<IResult> CreateAsync(HttpContext http, RequestHandler handler, ResponseService responses, ServerSettings settings)
    {
        var (request, error) = await handler.ReadBodyAsync(http).ConfigureAwait(false);
        if (error is not null)
        {
            return error;
        }

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
        var original = http.Response.Body;
        await using var capture = new ResponsesResponseStream(http, original, context, responses, conversation);
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

    /// <summary>The row to store for a finished response.</summary>
    internal static StoredResponse Row(HttpContext http, ResponseContext context, ResponseService responses, JsonArray conversation, JsonObject response)
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
        };
    }
}
