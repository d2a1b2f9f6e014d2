using System.Security.Claims;
using System.Text;
using System.Text.Json.Nodes;
using Enclave.Core.Audit;
using Enclave.Inference.Backends;
using Enclave.Server.OpenAi;
using Enclave.State.Retrieval;
using Microsoft.AspNetCore.Http;

namespace Enclave.Server.Retrieval;

/// <summary>
/// Retrieval before the engine, for chat completions that carry a <c>file_search</c> tool
/// (<c>{"type":"file_search","file_search":{"vector_store_ids":[...],"max_num_results":N}}</c>, an Enclave extension
/// in the Responses API's shape): the last user message is searched in those stores (filtered by the caller's
/// clearance, a <c>retrieval.searched</c> entry), the chunks found go into a system message, each after its portion
/// marking, so the policy labels the request by what it now holds; the tool is removed and the request goes on as any
/// chat request. The answer carries <c>enclave_citations</c>: file, chunk ID, label, document digest, score of each
/// chunk given to the model (streamed: on the first chunk, before the answer's text). Requests without the tool pass
/// through untouched.
/// </summary>
internal sealed class FileSearchStep(IRetrievalStore store, RetrievalService retrieval, RetrievalOptions options)
{
    public async Task<IResult> HandleAsync(HttpContext http, RequestHandler handler)
    {
        var (read, error) = await handler.ReadBodyAsync(http).ConfigureAwait(false);
        if (error is not null)
        {
            return error;
        }

        if (!HasFileSearchTool(read!.Root))
        {
            return await handler.HandleAsync(http, Operation.Chat, read).ConfigureAwait(false); // as the client sent it
        }

        var request = read.Body;
        var tools = (JsonArray)request["tools"]!;
        var tool = (JsonObject)tools.First(t => t is JsonObject o && o["type"]?.GetValue<string>() == "file_search")!;
        var settings = tool["file_search"] as JsonObject ?? tool;
        if (settings["vector_store_ids"] is not JsonArray ids || ids.Count is 0 or > 10 || !ids.All(i => i is JsonValue iv && iv.TryGetValue<string>(out _)))
        {
            return OpenAiError.InvalidRequest("file_search needs 'vector_store_ids': an array of 1 to 10 vector store IDs", "tools", "invalid_value");
        }

        var top = 5;
        if (settings["max_num_results"] is { } max && (max is not JsonValue mv || !mv.TryGetValue<int>(out top) || top < 1 || top > options.MaxResults))
        {
            return OpenAiError.InvalidRequest($"file_search 'max_num_results' must be an integer from 1 to {options.MaxResults}", "tools", "invalid_value");
        }

        var query = request["messages"] is JsonArray messages
            ? messages.OfType<JsonObject>().LastOrDefault(m => m["role"]?.GetValueKind() == System.Text.Json.JsonValueKind.String && m["role"]!.GetValue<string>() == "user")?["content"] switch
            {
                JsonValue c when c.TryGetValue<string>(out var text) => text,
                JsonArray parts => string.Join("\n", parts.OfType<JsonObject>().Select(p => p["text"] is JsonValue t && t.TryGetValue<string>(out var pt) ? pt : null).Where(p => p is not null)),
                _ => null,
            }
            : null;
        if (string.IsNullOrWhiteSpace(query) || request["messages"] is not JsonArray chat)
        {
            return OpenAiError.InvalidRequest("file_search searches with the last user message, which must have text", "messages", "invalid_value");
        }

        var actor = http.User.FindFirstValue(ClaimTypes.NameIdentifier) ?? "anonymous";
        var marking = http.Request.Headers[Enclave.Policy.Labels.RequestLabelExtractor.HeaderName] is { Count: > 0 } h ? h.ToString() : null;
        var found = new List<SearchResult>();
        var searches = new List<long>();
        try
        {
            foreach (var id in ids.Select(i => i!.GetValue<string>()).Distinct(StringComparer.Ordinal))
            {
                if (store.GetVectorStore(id) is not { } vs)
                {
                    return OpenAiError.NotFound($"No such vector store: {id}", "tools", "vector_store_not_found");
                }

                var searched = await retrieval.SearchAsync(http.User, actor, vs, query, top, marking, http.RequestAborted).ConfigureAwait(false);
                searches.Add(searched.LedgerIndex);
                found.AddRange(searched.Results);
            }
        }
        catch (RetrievalException ex)
        {
            return OpenAiError.Result(ex.Reason == RetrievalError.InvalidLabel ? StatusCodes.Status400BadRequest : StatusCodes.Status403Forbidden, ex.Reason == RetrievalError.InvalidLabel ? "invalid_request_error" : "permission_error", ex.Message);
        }
        catch (LedgerWriteException)
        {
            return OpenAiError.Result(StatusCodes.Status503ServiceUnavailable, "server_error", "the audit ledger is unavailable; the request was not processed", retryAfter: TimeSpan.FromSeconds(5));
        }

        var used = found.OrderByDescending(r => r.Score).Take(top).ToList();
        var context = new StringBuilder("Answer from these excerpts of the enclave's documents when they are relevant; cite them by their chunk ID.\n");
        foreach (var r in used)
        {
            // Each excerpt after its own portion marking: the policy's marking scanner labels the request by what it holds.
            context.Append('\n').Append(retrieval.Scheme.FormatPortion(retrieval.Parse(r.Chunk.Label))).Append(" [").Append(r.Chunk.ChunkId).Append(", ")
                .Append(r.File.Filename).Append("] ").Append(r.Chunk.Text).Append('\n');
        }

        var rest = new JsonArray([.. tools.Where(t => !ReferenceEquals(t, tool)).Select(t => t!.DeepClone())]);
        if (rest.Count == 0)
        {
            request.Remove("tools");
            request.Remove("tool_choice");
        }
        else
        {
            request["tools"] = rest;
        }

        chat.Insert(0, new JsonObject { ["role"] = "system", ["content"] = context.ToString() });
        var citations = new JsonArray([.. used.Select(r => (JsonNode)new JsonObject
        {
            ["file_id"] = r.File.Id,
            ["filename"] = r.File.Filename,
            ["chunk_id"] = r.Chunk.ChunkId,
            ["label"] = r.Chunk.Label,
            ["sha256"] = r.File.Sha256,
            ["score"] = Math.Round(r.Score, 6),
        })]);
        return await handler.HandleAsync(http, Operation.Chat, new InferenceRequest(request), decorate: body => body["enclave_citations"] = citations.DeepClone(), retrieval: searches).ConfigureAwait(false);
    }

    // Whether "tools" holds a {"type":"file_search"} tool (read on the element: a request without one builds no tree).
    private static bool HasFileSearchTool(System.Text.Json.JsonElement request)
    {
        if (RequestHandler.Member(request, "tools") is not { ValueKind: System.Text.Json.JsonValueKind.Array } tools)
        {
            return false;
        }

        foreach (var tool in tools.EnumerateArray())
        {
            if (RequestHandler.StringMember(tool, "type") == "file_search")
            {
                return true;
            }
        }

        return false;
    }
}
