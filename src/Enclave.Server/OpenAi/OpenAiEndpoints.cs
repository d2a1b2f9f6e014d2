using System.Diagnostics;
using System.Security.Claims;
using System.Security.Cryptography;
using System.Text.Json;
using System.Text.Json.Nodes;
using Enclave.Core;
using Enclave.Core.Audit;
using Enclave.Inference.Backends;
using Enclave.Policy.Labels;
using Enclave.Policy.Quotas;
using Enclave.Policy.Requests;
using Enclave.Server.Audit;
using Enclave.Server.Hosting;
using Enclave.Server.Policy;
using Microsoft.AspNetCore.Builder;
using Microsoft.AspNetCore.Http;
using Microsoft.AspNetCore.Routing;
using Microsoft.Extensions.Logging;

namespace Enclave.Server.OpenAi;

/// <summary>The OpenAI-compatible API under <c>/v1</c>.</summary>
internal static class OpenAiEndpoints
{
    public const string LedgerIndexHeader = "Enclave-Ledger-Index";

    public static RouteGroupBuilder MapOpenAi(this IEndpointRouteBuilder app)
    {
        var v1 = app.MapGroup("/v1").RequireAuthorization();
        // A model above the caller's clearance is invisible: not listed, not found (EnclavePolicy.MaySee).
        v1.MapGet("/models", (HttpContext http, ModelCatalog catalog, EnclavePolicy policy) =>
        {
            var data = new JsonArray([.. catalog.List().Where(m => policy.MaySee(http.User, m)).Select(m => (JsonNode)new JsonObject
            {
                ["id"] = m.Id,
                ["object"] = "model",
                ["created"] = m.Created.ToUnixTimeSeconds(),
                ["owned_by"] = m.OwnedBy,
            })]);
            return Results.Json(new JsonObject { ["object"] = "list", ["data"] = data });
        });
        v1.MapGet("/models/{id}", (string id, HttpContext http, ModelCatalog catalog, EnclavePolicy policy) => catalog.TryResolve(id, out var m) && policy.MaySee(http.User, m)
            ? Results.Json(new JsonObject { ["id"] = m.Id, ["object"] = "model", ["created"] = m.Created.ToUnixTimeSeconds(), ["owned_by"] = m.OwnedBy })
            : OpenAiError.NotFound($"The model '{id}' does not exist or you do not have access to it.", "model"));
        // A file_search tool is served by retrieval before the engine (Retrieval/FileSearchStep.cs); other requests pass through.
        v1.MapPost("/chat/completions", (HttpContext http, RequestHandler handler, Retrieval.FileSearchStep fileSearch) => fileSearch.HandleAsync(http, handler));
        v1.MapPost("/completions", (HttpContext http, RequestHandler handler) => handler.HandleAsync(http, Operation.Completion));
        v1.MapPost("/embeddings", (HttpContext http, RequestHandler handler) => handler.HandleAsync(http, Operation.Embeddings));
        Responses.ResponsesEndpoints.MapResponses(v1);
        Anthropic.MessagesEndpoints.MapAnthropicMessages(v1);
        Retrieval.RetrievalEndpoints.MapRetrieval(v1);
        return v1;
    }
}

internal enum Operation
{
    Chat,
    Completion,
    Embeddings,
}

/// <summary>
/// One API request: parse, resolve the model, decide by policy (labels, clearance, backends, egress) and quota, admit
/// into the ledger with the decision (or record the denial), call an allowed backend, record the outcome.
/// </summary>
internal sealed partial class RequestHandler(
    ModelCatalog catalog,
    RequestAuditor auditor,
    ServerSettings settings,
    TimeProvider clock,
    Telemetry.EnclaveTelemetry telemetry,
    EnclavePolicy policy,
    QuotaService quotas,
    ILogger<RequestHandler> logger,
    Enclave.State.Retention.ContentRetentionStore? retention = null,
    Intel.Live.IntelRequestScreen? intel = null)
{
    private static readonly JsonSerializerOptions Compact = new() { WriteIndented = false, Encoder = System.Text.Encodings.Web.JavaScriptEncoder.UnsafeRelaxedJsonEscaping };

    /// <param name="http">The request; its body is read unless <paramref name="parsed"/> is given.</param>
    /// <param name="operation">Which API operation.</param>
    /// <param name="parsed">
    /// A request already read (by <see cref="Retrieval.FileSearchStep"/>: as the client sent it, or with retrieved
    /// excerpts) or translated to the OpenAI form (by <c>/v1/messages</c>, <see cref="Anthropic.MessagesEndpoints"/>).
    /// </param>
    /// <param name="classification">
    /// The classification marking to evaluate instead of the request's <c>Enclave-Classification</c> header (the
    /// Responses API gives the join of a chained response's label and the header); null to read the header.
    /// </param>
    /// <param name="decorate">Adds fields to a non-streamed answer before it is hashed and sent, or to a stream's first chunk (retrieval's citations).</param>
    /// <param name="retrieval">The ledger indexes of the retrieval searches whose chunks the request holds, recorded in its admission (lineage).</param>
    /// <param name="detach">
    /// For a request answered later (the Responses API's <c>background</c>; never with <c>stream</c>): called once the
    /// request is admitted (<c>Enclave-Ledger-Index</c> and <c>X-Request-Id</c> set) with the rest of the work (the
    /// backend call and its <c>request.completed</c>) to run under the token it is given, the answer it produces then;
    /// what <paramref name="detach"/> returns is the answer now.
    /// </param>
    public async Task<IResult> HandleAsync(HttpContext http, Operation operation, InferenceRequest? parsed = null, string? classification = null, Action<JsonObject>? decorate = null, IReadOnlyList<long>? retrieval = null, Func<Func<CancellationToken, Task<IResult>>, Task<IResult>>? detach = null)
    {
        var started = clock.GetTimestamp();
        var (read, error) = parsed is null ? await ReadBodyAsync(http).ConfigureAwait(false) : (parsed, null);
        if (error is not null)
        {
            return error;
        }

        // Read from the request's element (no JsonNode tree: one is built only if a backend asks for the Body).
        var request = read!.Root;
        if (StringMember(request, "model") is not { Length: > 0 } model)
        {
            return OpenAiError.InvalidRequest("you must provide a model parameter", "model", "missing_required_parameter");
        }

        var inputName = operation switch
        {
            Operation.Chat => "messages",
            Operation.Completion => "prompt",
            _ => "input",
        };
        var input = Member(request, inputName);
        if (input.ValueKind == JsonValueKind.Undefined || (operation == Operation.Chat && (input.ValueKind != JsonValueKind.Array || input.GetArrayLength() == 0)))
        {
            return OpenAiError.InvalidRequest($"'{inputName}' is required" + (operation == Operation.Chat ? " and must be a non-empty array" : string.Empty), inputName, "missing_required_parameter");
        }

        if (WrongType(request) is { } wrongType)
        {
            return wrongType;
        }

        if (!catalog.TryResolve(model, out var route))
        {
            return UnknownModel(model);
        }

        var actor = http.User.FindFirstValue(ClaimTypes.NameIdentifier) ?? "anonymous";
        var requestId = NewRequestId();
        var clientAddress = http.Connection.RemoteIpAddress;
        var address = clientAddress is null ? null : (clientAddress.IsIPv4MappedToIPv6 ? clientAddress.MapToIPv4() : clientAddress).ToString();
        var user = StringMember(request, "user");
        if (!policy.MaySee(http.User, route))
        {
            // Above the caller's clearance: answered exactly as an unknown model (no ledger index, no request id in the
            // answer, before any check that would tell the model's kind), while the ledger records the real rule.
            var hidden = policy.HiddenModel(http.User, route);
            return await DenyAsync(http, requestId, actor, model, input, hidden.Status, hidden.Rule!, hidden.ToLedger(policy.Scheme), UnknownModel(model), new Who(address, user, null, http.Items[RequestAuditor.ViaItem] as string), answerHeaders: false).ConfigureAwait(false);
        }

        var wantsEmbedding = operation == Operation.Embeddings;
        if (route.Kind != "any" && (route.Kind == "embedding") != wantsEmbedding)
        {
            return OpenAiError.InvalidRequest($"model '{model}' is a {route.Kind} model and does not support this endpoint", "model", "model_not_supported");
        }

        var stream = Member(request, "stream").ValueKind == JsonValueKind.True;
        if (stream && wantsEmbedding)
        {
            return OpenAiError.InvalidRequest("embeddings cannot be streamed", "stream");
        }

        var screened = intel?.Screen(clientAddress, user, actor, http.User.Identity?.Name);
        var who = new Who(address, user, screened is null ? null : IntelDetails(screened), http.Items[RequestAuditor.ViaItem] as string);
        if (screened is { Deny: true })
        {
            var denied = screened.Hits.First(h => h.Action == "deny");
            return await DenyAsync(http, requestId, actor, model, input, StatusCodes.Status403Forbidden, "intel", new JsonObject { ["rule"] = "intel", ["reason"] = "intel" },
                OpenAiError.Result(
                    StatusCodes.Status403Forbidden,
                    "permission_error",
                    $"the request was refused: its {denied.What} matches a threat-intelligence indicator of this enclave; ask the enclave's security officer, quoting request id {requestId}",
                    code: "intel_denied"),
                who,
                screened).ConfigureAwait(false);
        }

        var header = http.Request.Headers[RequestLabelExtractor.HeaderName];
        var outcome = policy.Evaluate(http.User, classification ?? (header.Count == 0 ? null : header.ToString()), request, route);
        http.Items[typeof(PolicyOutcome)] = outcome; // the decision, for a caller that translated the request (its label)
        if (!outcome.Allowed)
        {
            return await DenyAsync(http, requestId, actor, model, input, outcome.Status, outcome.Rule!, outcome.ToLedger(policy.Scheme),
                OpenAiError.Result(
                    outcome.Status,
                    outcome.Status == StatusCodes.Status400BadRequest ? "invalid_request_error" : "permission_error",
                    outcome.Message!,
                    param: outcome.Status == StatusCodes.Status400BadRequest ? RequestLabelExtractor.HeaderName : null,
                    code: outcome.Status == StatusCodes.Status400BadRequest ? "invalid_classification" : "policy_denied"),
                who).ConfigureAwait(false);
        }

        var quota = quotas.TryAdmit(http.User);
        if (!quota.Allowed)
        {
            var perMinute = quota.Rule is QuotaService.RequestsPerMinute or QuotaService.TokensPerMinute;
            return await DenyAsync(http, requestId, actor, model, input, StatusCodes.Status429TooManyRequests, quota.Rule!, outcome.ToLedger(policy.Scheme),
                OpenAiError.Result(
                    StatusCodes.Status429TooManyRequests,
                    perMinute ? "rate_limit_exceeded" : "insufficient_quota",
                    quota.Message!,
                    code: perMinute ? "rate_limit_exceeded" : "insufficient_quota",
                    retryAfter: quota.RetryAfter),
                who).ConfigureAwait(false);
        }

        // The canonical prompt is kept only for content retention; otherwise only its digest is taken (no copy).
        var promptBytes = retention is null ? null : RequestAuditor.CanonicalBytes(input);
        var promptSha256 = promptBytes is null ? RequestAuditor.Digest(input) : RequestAuditor.Digest(promptBytes);
        long admitted;
        try
        {
            admitted = await auditor.AdmitAsync(actor, new RequestAdmittedDetails
            {
                RequestId = requestId,
                Endpoint = http.Request.Path.Value!,
                Model = model,
                Backend = route.BackendName,
                Stream = stream,
                PromptSha256 = promptSha256,
                Policy = outcome.ToLedger(policy.Scheme),
                ClientAddress = who.ClientAddress,
                User = who.User,
                Intel = who.Intel,
                Retrieval = retrieval,
                Via = who.Via,
            }, CancellationToken.None).ConfigureAwait(false); // once queued it will be written; its completion must follow
        }
        catch (Exception ex) when (ex is LedgerWriteException or ObjectDisposedException)
        {
            // Fail closed: no audit record, no answer.
            return LedgerUnavailable();
        }

        http.Response.Headers[OpenAiEndpoints.LedgerIndexHeader] = admitted.ToString(System.Globalization.CultureInfo.InvariantCulture);
        http.Response.Headers["X-Request-Id"] = requestId;
        if (screened is not null)
        {
            await intel!.RaiseAsync(screened, admitted, requestId, actor, CancellationToken.None).ConfigureAwait(false);
        }
        if (route.BackendModel is { } backendModel && !string.Equals(backendModel, model, StringComparison.Ordinal))
        {
            // The one rewrite of the gateway's own: the body goes out written from a new object, not as the client's bytes.
            read = read.WithModel(backendModel);
        }

        using var activity = Telemetry.EnclaveTelemetry.ActivitySource.StartActivity("enclave.inference");
        activity?.SetTag("enclave.model", model);
        var backend = route.SelectBackend(outcome.Selection());
        activity?.SetTag("enclave.route", route.BackendName);
        activity?.SetTag("enclave.ledger_index", admitted);
        var completion = new CompletedRequest
        {
            Endpoint = http.Request.Path.Value!,
            RequestId = requestId,
            Actor = actor,
            Model = model,
            AdmittedIndex = admitted,
            Backend = route.BackendName,
            ModelDigest = route.Digest,
            Outcome = "ok",
            Status = StatusCodes.Status200OK,
            Latency = TimeSpan.Zero,
            Via = who.Via,
        };

        if (stream && detach is null)
        {
            await StreamAsync(http, operation, backend, read, model, completion, started, promptBytes, decorate).ConfigureAwait(false);
            return Results.Empty;
        }

        return detach is null ? await AnswerAsync(http.RequestAborted).ConfigureAwait(false) : await detach(AnswerAsync).ConfigureAwait(false);

        async Task<IResult> AnswerAsync(CancellationToken cancel)
        {
            try
            {
                var response = operation switch
                {
                    Operation.Chat => await backend.ChatAsync(read, cancel).ConfigureAwait(false),
                    Operation.Completion => await backend.CompletionAsync(read, cancel).ConfigureAwait(false),
                    _ => await backend.EmbeddingsAsync(read, cancel).ConfigureAwait(false),
                };
                response.Body["model"] = model;
                decorate?.Invoke(response.Body);
                var answer = wantsEmbedding ? response.Body["data"] : response.Body["choices"];
                string answerSha256;
                if (retention is null)
                {
                    answerSha256 = RequestAuditor.Digest(answer);
                }
                else
                {
                    var answerBytes = RequestAuditor.CanonicalBytes(answer);
                    await RetainAsync(completion, promptBytes, answerBytes).ConfigureAwait(false);
                    answerSha256 = RequestAuditor.Digest(answerBytes);
                }

                var finished = FinishAsync(completion with
                {
                    Latency = clock.GetElapsedTime(started),
                    Usage = response.Usage,
                    AnswerSha256 = answerSha256,
                }, backend);
                if (settings.Audit.CompletionBeforeAnswer)
                {
                    // Audit:CompletionDurability "before-answer" (default): no answer leaves without its durable record.
                    try
                    {
                        await finished.ConfigureAwait(false);
                    }
                    catch (Exception ex) when (ex is LedgerWriteException or ObjectDisposedException)
                    {
                        Log.CompletionNotRecorded(logger, requestId, ex.GetType().Name);
                        return LedgerUnavailable();
                    }
                }
                else
                {
                    // "after-answer": the entry is queued before the answer leaves and written by the ledger's next group
                    // commit, but the answer does not wait for it; a crash in between loses the record of a delivered answer.
                    ObserveCompletion(finished, requestId);
                }

                return JsonAnswer.Result(response.Body);
            }
            catch (BackendException ex)
            {
                await FinishAsync(completion with { Outcome = "error", Status = ex.StatusCode, Latency = clock.GetElapsedTime(started), Error = ex.ErrorType }, backend).ConfigureAwait(false);
                return OpenAiError.Result(ex.StatusCode, ex.ErrorType, ex.Message, ex.Param, retryAfter: ex.RetryAfter ?? (ex.StatusCode is 429 or 503 ? TimeSpan.FromSeconds(1) : null));
            }
            catch (OperationCanceledException) when (cancel.IsCancellationRequested)
            {
                await FinishAsync(completion with { Outcome = "cancelled", Status = 499, Latency = clock.GetElapsedTime(started) }, backend).ConfigureAwait(false);
                return Results.Empty;
            }
            catch (Exception ex) when (ex is not LedgerWriteException)
            {
                // Anything else (a timeout, a bug) is still a recorded outcome; the client gets no internals.
                await FinishAsync(completion with { Outcome = "error", Status = 500, Latency = clock.GetElapsedTime(started), Error = ex.GetType().Name }, backend).ConfigureAwait(false);
                return OpenAiError.Result(StatusCodes.Status500InternalServerError, "server_error", $"the request failed inside the enclave; request id {requestId}");
            }
        }
    }

    /// <summary>
    /// Fields every backend reads the same way, checked for their JSON type before any backend sees the request:
    /// <c>"stream":"yes"</c> is a 400 naming the parameter, never read as false.
    /// </summary>
    private static IResult? WrongType(JsonElement request)
    {
        static bool IsBoolean(JsonElement value) => value.ValueKind is JsonValueKind.Undefined or JsonValueKind.True or JsonValueKind.False;

        if (!IsBoolean(Member(request, "stream")))
        {
            return OpenAiError.InvalidRequest("'stream' must be true or false", "stream", "invalid_type");
        }

        var options = Member(request, "stream_options");
        if (options.ValueKind is not (JsonValueKind.Undefined or JsonValueKind.Object)
            || (options.ValueKind == JsonValueKind.Object && !IsBoolean(Member(options, "include_usage"))))
        {
            return OpenAiError.InvalidRequest("'stream_options' must be an object whose include_usage is true or false", "stream_options", "invalid_type");
        }

        if (Member(request, "user").ValueKind is not (JsonValueKind.Undefined or JsonValueKind.String))
        {
            return OpenAiError.InvalidRequest("'user' must be a string", "user", "invalid_type");
        }

        return null;
    }

    /// <summary>
    /// The member <paramref name="name"/> of an object; <see cref="JsonValueKind.Undefined"/> when it is absent or JSON
    /// null, as a <see cref="JsonObject"/>'s indexer reads both as null (<c>"stream": null</c> is no stream).
    /// </summary>
    internal static JsonElement Member(JsonElement obj, string name) =>
        obj.ValueKind == JsonValueKind.Object && obj.TryGetProperty(name, out var value) && value.ValueKind != JsonValueKind.Null ? value : default;

    /// <summary>The member <paramref name="name"/> when it is a string; null otherwise.</summary>
    internal static string? StringMember(JsonElement obj, string name) =>
        Member(obj, name) is { ValueKind: JsonValueKind.String } value ? value.GetString() : null;

    // decorate adds fields to the first chunk sent (retrieval's citations), before the answer's text.
    private async Task StreamAsync(HttpContext http, Operation operation, IInferenceBackend backend, InferenceRequest request, string model, CompletedRequest completion, long started, byte[]? promptBytes, Action<JsonObject>? decorate)
    {
        // With retention on, the answer kept is the concatenation of the chunks' canonical choices: the bytes hashed.
        using var retained = retention is null ? null : new MemoryStream();
        var stream = operation == Operation.Chat
            ? backend.ChatStreamAsync(request, http.RequestAborted)
            : backend.CompletionStreamAsync(request, http.RequestAborted);
        using var answerHash = IncrementalHash.CreateHash(HashAlgorithmName.SHA256);
        TokenUsage? usage = null;
        long chunks = 0;
        var started200 = false;
        try
        {
            await foreach (var chunk in stream.ConfigureAwait(false))
            {
                if (!started200)
                {
                    http.Response.StatusCode = StatusCodes.Status200OK;
                    http.Response.ContentType = "text/event-stream";
                    http.Response.Headers.CacheControl = "no-cache";
                    started200 = true;
                }

                chunk["model"] = model;
                if (decorate is not null)
                {
                    decorate(chunk);
                    decorate = null;
                }

                // An upstream's chunk is untrusted: counts that are not plausible are ignored, as for a chunk without
                // usage, never read with GetValue, which threw mid-stream, after the 200 (a string or 1e20 count).
                if (chunk["usage"] is JsonObject { } u && u["completion_tokens"] is not null && Enclave.Inference.Upstream.UpstreamUsage.Read(chunk) is { } chunkUsage)
                {
                    usage = chunkUsage;
                }

                if (chunk["choices"] is JsonArray { Count: > 0 } choices)
                {
                    chunks++;
                    var canonical = RequestAuditor.CanonicalBytes(choices);
                    answerHash.AppendData(canonical);
                    retained?.Write(canonical);
                }

                await http.Response.WriteAsync("data: " + chunk.ToJsonString(Compact) + "\n\n", http.RequestAborted).ConfigureAwait(false);
                await http.Response.Body.FlushAsync(http.RequestAborted).ConfigureAwait(false);
            }

            if (!started200)
            {
                http.Response.StatusCode = StatusCodes.Status200OK;
                http.Response.ContentType = "text/event-stream";
            }

            var done = completion with
            {
                Latency = clock.GetElapsedTime(started),
                Usage = usage,
                AnswerSha256 = Convert.ToHexStringLower(answerHash.GetHashAndReset()),
            };
            var estimated = chunks + ((http.Request.ContentLength ?? 0) / 4);
            if (settings.Audit.CompletionBeforeAnswer)
            {
                // The stream is complete for the client only at [DONE]: its record is durable first.
                await RetainAsync(completion, promptBytes, retained?.ToArray()).ConfigureAwait(false);
                try
                {
                    await FinishAsync(done, backend, estimatedTokens: estimated).ConfigureAwait(false);
                }
                catch (Exception ex) when (ex is LedgerWriteException or ObjectDisposedException)
                {
                    Log.CompletionNotRecorded(logger, completion.RequestId, ex.GetType().Name);
                    var error = new JsonObject { ["error"] = new JsonObject { ["message"] = "the audit ledger is unavailable; the answer is not complete", ["type"] = "server_error", ["param"] = null, ["code"] = null } };
                    await http.Response.WriteAsync("data: " + error.ToJsonString(Compact) + "\n\n", CancellationToken.None).ConfigureAwait(false);
                    return;
                }

                await http.Response.WriteAsync("data: [DONE]\n\n", http.RequestAborted).ConfigureAwait(false);
                await http.Response.Body.FlushAsync(http.RequestAborted).ConfigureAwait(false);
            }
            else
            {
                await http.Response.WriteAsync("data: [DONE]\n\n", http.RequestAborted).ConfigureAwait(false);
                await http.Response.Body.FlushAsync(http.RequestAborted).ConfigureAwait(false);
                await RetainAsync(completion, promptBytes, retained?.ToArray()).ConfigureAwait(false);
                await FinishAsync(done, backend, estimatedTokens: estimated).ConfigureAwait(false);
            }
        }
        catch (BackendException ex)
        {
            await FinishAsync(completion with { Outcome = "error", Status = ex.StatusCode, Latency = clock.GetElapsedTime(started), Error = ex.ErrorType }, backend).ConfigureAwait(false);
            if (!started200)
            {
                await OpenAiError.Result(ex.StatusCode, ex.ErrorType, ex.Message, ex.Param, retryAfter: ex.RetryAfter ?? (ex.StatusCode is 429 or 503 ? TimeSpan.FromSeconds(1) : null)).ExecuteAsync(http).ConfigureAwait(false);
            }
            else
            {
                // The status line is gone; tell the client in the stream, as OpenAI does, and end it.
                var error = new JsonObject { ["error"] = new JsonObject { ["message"] = ex.Message, ["type"] = ex.ErrorType, ["param"] = ex.Param, ["code"] = null } };
                await http.Response.WriteAsync("data: " + error.ToJsonString(Compact) + "\n\n", CancellationToken.None).ConfigureAwait(false);
            }
        }
        catch (OperationCanceledException) when (http.RequestAborted.IsCancellationRequested)
        {
            await FinishAsync(completion with { Outcome = "cancelled", Status = 499, Latency = clock.GetElapsedTime(started) }, backend, estimatedTokens: chunks + ((http.Request.ContentLength ?? 0) / 4)).ConfigureAwait(false);
        }
        catch (IOException) when (http.RequestAborted.IsCancellationRequested)
        {
            await FinishAsync(completion with { Outcome = "cancelled", Status = 499, Latency = clock.GetElapsedTime(started) }, backend, estimatedTokens: chunks + ((http.Request.ContentLength ?? 0) / 4)).ConfigureAwait(false);
        }
        catch (Exception ex) when (ex is not LedgerWriteException)
        {
            await FinishAsync(completion with { Outcome = "error", Status = 500, Latency = clock.GetElapsedTime(started), Error = ex.GetType().Name }, backend).ConfigureAwait(false);
            if (!started200)
            {
                await OpenAiError.Result(StatusCodes.Status500InternalServerError, "server_error", $"the request failed inside the enclave; request id {completion.RequestId}").ExecuteAsync(http).ConfigureAwait(false);
            }
        }

    }

    /// <summary>With content retention on, queues the prompt and answer to be sealed (off the request path).</summary>
    private ValueTask RetainAsync(CompletedRequest completion, byte[]? prompt, byte[]? answer) =>
        retention is null || prompt is null
            ? ValueTask.CompletedTask
            : retention.RecordAsync(new Enclave.State.Retention.RetainedContent { AdmittedIndex = completion.AdmittedIndex, RequestId = completion.RequestId, Actor = completion.Actor, Prompt = prompt, Answer = answer });

    private void ObserveCompletion(Task<long> completion, string requestId)
    {
        if (completion.IsCompletedSuccessfully)
        {
            return;
        }

        _ = completion.ContinueWith(
            t => Log.CompletionNotRecordedAfterAnswer(logger, t.Exception, requestId),
            CancellationToken.None,
            TaskContinuationOptions.OnlyOnFaulted | TaskContinuationOptions.ExecuteSynchronously,
            TaskScheduler.Default);
    }

    private static partial class Log
    {
        [LoggerMessage(EventId = 3101, Level = LogLevel.Error, Message = "The ledger could not record the completion of request {RequestId} ({Error}); its answer was withheld (Audit:CompletionDurability before-answer)")]
        public static partial void CompletionNotRecorded(ILogger logger, string requestId, string error);

        [LoggerMessage(EventId = 3102, Level = LogLevel.Error, Message = "The ledger could not record the completion of request {RequestId}; its answer had already left (Audit:CompletionDurability after-answer)")]
        public static partial void CompletionNotRecordedAfterAnswer(ILogger logger, Exception? exception, string requestId);
    }

    // Who sent a request, as recorded in its ledger entry and matched by threat intelligence.
    private sealed record Who(string? ClientAddress, string? User, JsonArray? Intel, string? Via);

    private static JsonArray IntelDetails(Intel.Live.RequestScreenVerdict verdict) =>
        [.. verdict.Hits.Select(h => (JsonNode?)new JsonObject { ["indicator"] = h.Hit.IndicatorId, ["matched"] = h.What, ["action"] = h.Action })];

    // "req_" and 24 lower-case hex digits of 12 random bytes, built in one string (no byte array, no second string).
    private static string NewRequestId() =>
        string.Create(4 + 24, 0, static (chars, _) =>
        {
            "req_".CopyTo(chars);
            Span<byte> random = stackalloc byte[12];
            RandomNumberGenerator.Fill(random);
            var done = Convert.TryToHexStringLower(random, chars[4..], out var written);
            Debug.Assert(done && written == 24, "24 hex digits fit");
        });

    private static IResult UnknownModel(string model) =>
        OpenAiError.NotFound($"The model '{model}' does not exist or you do not have access to it.", "model");

    private static IResult LedgerUnavailable() =>
        OpenAiError.Result(StatusCodes.Status503ServiceUnavailable, "server_error", "the audit ledger is unavailable; the request was not processed", retryAfter: TimeSpan.FromSeconds(5));

    /// <summary>Records the denial (durable before the answer), then answers with <paramref name="error"/>.</summary>
    private async Task<IResult> DenyAsync(HttpContext http, string requestId, string actor, string model, JsonElement input, int status, string rule, JsonObject decision, IResult error, Who who, Intel.Live.RequestScreenVerdict? screened = null, bool answerHeaders = true)
    {
        long index;
        try
        {
            index = await auditor.DenyAsync(actor, new RequestDeniedDetails
            {
                RequestId = requestId,
                Endpoint = http.Request.Path.Value!,
                Model = model,
                Status = status,
                Rule = rule,
                PromptSha256 = RequestAuditor.Digest(input),
                Policy = decision,
                ClientAddress = who.ClientAddress,
                User = who.User,
                Intel = who.Intel,
                Via = who.Via,
            }).ConfigureAwait(false);
            if (screened is not null)
            {
                await intel!.RaiseAsync(screened, index, requestId, actor, CancellationToken.None).ConfigureAwait(false);
            }
        }
        catch (Exception ex) when (ex is LedgerWriteException or ObjectDisposedException)
        {
            return LedgerUnavailable();
        }

        telemetry.RecordRequest(http.Request.Path.Value!, model, "denied", status, TimeSpan.Zero, null, null);
        if (answerHeaders)
        {
            http.Response.Headers[OpenAiEndpoints.LedgerIndexHeader] = index.ToString(System.Globalization.CultureInfo.InvariantCulture);
            http.Response.Headers["X-Request-Id"] = requestId;
        }

        return error;
    }

    private Task<long> FinishAsync(CompletedRequest completed, IInferenceBackend? answered = null, long? estimatedTokens = null)
    {
        // One copy of the record with what the answering backend says of itself (every request passes here).
        if (answered is Enclave.Inference.Upstream.IUpstreamProvenanceSource { Provenance: { } provenance })
        {
            completed = completed with { Backend = answered.Name, Vendor = provenance.Vendor, Region = provenance.Region, ModelVersion = provenance.ModelVersion };
        }
        else if (answered is not null)
        {
            completed = completed with { Backend = answered.Name };
        }

        if ((completed.Usage?.TotalTokens ?? estimatedTokens) is { } tokens)
        {
            quotas.Charge(completed.Actor, tokens);
        }

        telemetry.RecordRequest(completed.Endpoint, completed.Model, completed.Outcome, completed.Status, completed.Latency, completed.Usage?.PromptTokens, completed.Usage?.CompletionTokens);
        return auditor.CompleteAsync(completed);
    }

    /// <summary>
    /// Reads and strictly parses the body (<see cref="StrictJson"/>); the request keeps a copy of the client's bytes,
    /// which an OpenAI-compatible upstream is sent when nothing rewrites the body.
    /// </summary>
    internal async Task<(InferenceRequest? Request, IResult? Error)> ReadBodyAsync(HttpContext http)
    {
        if (http.Request.ContentLength is > 0 and var length && length > settings.MaxRequestBytes)
        {
            return (null, OpenAiError.Result(StatusCodes.Status413PayloadTooLarge, "invalid_request_error", $"request body is larger than {settings.MaxRequestBytes} bytes"));
        }

        // One pooled buffer sized by Content-Length when given (grown by doubling otherwise), returned after parsing:
        // what is kept is the parsed object and an exact copy of the bytes it was parsed from (forwarded as they are).
        var buffer = System.Buffers.ArrayPool<byte>.Shared.Rent((int)Math.Min(Math.Max(http.Request.ContentLength ?? 4096, 256) + 1, settings.MaxRequestBytes + 1));
        var filled = 0;
        try
        {
            int read;
            while ((read = await http.Request.Body.ReadAsync(buffer.AsMemory(filled), http.RequestAborted).ConfigureAwait(false)) > 0)
            {
                filled += read;
                if (filled > settings.MaxRequestBytes)
                {
                    return (null, OpenAiError.Result(StatusCodes.Status413PayloadTooLarge, "invalid_request_error", $"request body is larger than {settings.MaxRequestBytes} bytes"));
                }

                if (filled == buffer.Length)
                {
                    var larger = System.Buffers.ArrayPool<byte>.Shared.Rent((int)Math.Min((long)buffer.Length * 2, settings.MaxRequestBytes + 1));
                    buffer.AsSpan(0, filled).CopyTo(larger);
                    System.Buffers.ArrayPool<byte>.Shared.Return(buffer);
                    buffer = larger;
                }
            }

            // Strict: duplicate keys at any depth, invalid UTF-8 and lone surrogate escapes are refused here, not found
            // later (StrictJson.Parse's checks and messages); read as an element, no JsonNode tree.
            var root = StrictJson.ParseElement(buffer.AsSpan(0, filled), maxDepth: 64);
            return root.ValueKind == JsonValueKind.Object
                ? (InferenceRequest.FromClient(root, buffer.AsSpan(0, filled).ToArray()), null)
                : (null, OpenAiError.InvalidRequest("the request body must be a JSON object"));
        }
        catch (JsonException ex)
        {
            return (null, OpenAiError.InvalidRequest($"the request body is not valid JSON: {ex.Message}"));
        }
        finally
        {
            // Prompts may be sensitive: clear what was read before the buffer goes back to the shared pool.
            buffer.AsSpan(0, filled).Clear();
            System.Buffers.ArrayPool<byte>.Shared.Return(buffer);
        }
    }
}
