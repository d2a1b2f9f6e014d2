using System.Collections.Concurrent;
using System.Net;
using System.Text;
using System.Text.Json.Nodes;
using Microsoft.AspNetCore.Builder;
using Microsoft.AspNetCore.Hosting;
using Microsoft.AspNetCore.Http;
using Microsoft.Extensions.Logging;

namespace Enclave.Inference.Tests.Upstream;

/// <summary>What a scripted fault does to the next chat, completion or embeddings request.</summary>
public enum FaultKind
{
    /// <summary>429 with <see cref="StubFault.RetryAfter"/> and an OpenAI error object.</summary>
    RateLimited,

    /// <summary><see cref="StubFault.Status"/> (500 by default) with an OpenAI error object.</summary>
    ServerError,

    /// <summary>400 with vLLM's older error shape (<c>{"object":"error",...}</c>).</summary>
    BadRequest,

    /// <summary>200 with a body that is not JSON.</summary>
    Malformed,

    /// <summary>200 with a JSON body of <see cref="StubFault.Bytes"/> bytes, sent chunked (no Content-Length).</summary>
    Oversized,

    /// <summary>As <see cref="Oversized"/>, with a Content-Length header.</summary>
    OversizedWithLength,

    /// <summary>Streams <see cref="StubFault.AfterChunks"/> chunks, waits for the stream gate if any, then aborts the connection.</summary>
    DropMidStream,

    /// <summary>Streams <see cref="StubFault.AfterChunks"/> chunks, then an error event and [DONE].</summary>
    StreamErrorEvent,

    /// <summary>Streams every chunk but ends without data: [DONE].</summary>
    EndWithoutDone,

    /// <summary>Streams <see cref="StubFault.AfterChunks"/> chunks, then a data line of <see cref="StubFault.Bytes"/> bytes.</summary>
    OversizedSseLine,

    /// <summary>
    /// 200 with an OpenAI error object whose message holds a byte that is not UTF-8 (0xFF); streamed, that error
    /// object as an event after <see cref="StubFault.AfterChunks"/> chunks.
    /// </summary>
    InvalidUtf8Error,
}

internal sealed record StubFault(FaultKind Kind, string? RetryAfter = null, int Status = 500, int Bytes = 0, int AfterChunks = 1);

/// <summary>A request the stub received.</summary>
internal sealed record ReceivedRequest(string Path, JsonObject Body, string? Authorization)
{
    /// <summary>The body's bytes as they arrived.</summary>
    public byte[] Raw { get; init; } = [];
}

/// <summary>
/// A Kestrel server on 127.0.0.1 that answers like vLLM's OpenAI server (<c>/v1/chat/completions</c>,
/// <c>/v1/completions</c>, <c>/v1/embeddings</c>, <c>/v1/models</c>), with scriptable faults.
/// </summary>
internal sealed class VllmStub : IAsyncDisposable
{
    public const string Created = "1700000000";

    private static readonly TimeSpan GateLimit = TimeSpan.FromSeconds(30);

    private readonly WebApplication _app;
    private int _chatRequests;
    private int _completionRequests;
    private int _embeddingRequests;
    private int _modelRequests;
    private volatile bool _down;

    private VllmStub(string name, WebApplication app)
    {
        Name = name;
        _app = app;
    }

    public string Name { get; }

    public string Model { get; init; } = "stub-model";

    public string BaseUrl { get; private set; } = "";

    /// <summary>Faults applied, one per request, to chat, completion and embeddings requests.</summary>
    public ConcurrentQueue<StubFault> Faults { get; } = new();

    /// <summary>Every chat, completion and embeddings request, in arrival order.</summary>
    public ConcurrentQueue<ReceivedRequest> Received { get; } = new();

    /// <summary>The chunks streamed, in order (all streams).</summary>
    public ConcurrentQueue<JsonObject> SentChunks { get; } = new();

    /// <summary>The last non-streaming body sent.</summary>
    public JsonObject? LastBody { get; private set; }

    /// <summary>When set, every request (and /v1/models) needs <c>Authorization: Bearer {RequiredKey}</c>.</summary>
    public string? RequiredKey { get; set; }

    /// <summary>Every request and health check fails with 503.</summary>
    public bool Down
    {
        get => _down;
        set => _down = value;
    }

    /// <summary>When set, every chat, completion and embeddings request fails with this status (and <see cref="FailRetryAfter"/>).</summary>
    public int? FailAll { get; set; }

    public string? FailRetryAfter { get; set; }

    /// <summary>Non-streaming requests wait for this before they answer (a slow request in flight).</summary>
    public Task? Hold { get; set; }

    /// <summary>Streams wait for this after their first chunk (or, with <see cref="FaultKind.DropMidStream"/>, before aborting).</summary>
    public Task? StreamGate { get; set; }

    /// <summary>Delay between two streamed chunks (a slow stream).</summary>
    public TimeSpan ChunkDelay { get; set; }

    /// <summary>Leave <c>usage</c> out of non-streaming answers.</summary>
    public bool OmitUsage { get; set; }

    public int ChatRequests => Volatile.Read(ref _chatRequests);

    public int CompletionRequests => Volatile.Read(ref _completionRequests);

    public int EmbeddingRequests => Volatile.Read(ref _embeddingRequests);

    public int ModelRequests => Volatile.Read(ref _modelRequests);

    /// <summary>Chat, completion and embeddings requests together.</summary>
    public int Requests => ChatRequests + CompletionRequests + EmbeddingRequests;

    public static async Task<VllmStub> StartAsync(string name, string model = "stub-model")
    {
        var builder = WebApplication.CreateSlimBuilder();
        builder.Logging.ClearProviders();
        builder.WebHost.ConfigureKestrel(options => options.Listen(IPAddress.Loopback, 0));
        var app = builder.Build();
        var stub = new VllmStub(name, app) { Model = model };
        app.MapGet("/v1/models", stub.ModelsAsync);
        app.MapGet("/health", stub.HealthAsync);
        app.MapPost("/v1/chat/completions", context => stub.HandleAsync(context, Endpoint.Chat));
        app.MapPost("/v1/completions", context => stub.HandleAsync(context, Endpoint.Completion));
        app.MapPost("/v1/embeddings", context => stub.HandleAsync(context, Endpoint.Embeddings));
        await app.StartAsync();
        stub.BaseUrl = app.Urls.Single() + "/v1";
        return stub;
    }

    public async ValueTask DisposeAsync()
    {
        await _app.StopAsync();
        await _app.DisposeAsync();
    }

    private enum Endpoint
    {
        Chat,
        Completion,
        Embeddings,
    }

    private async Task ModelsAsync(HttpContext context)
    {
        Interlocked.Increment(ref _modelRequests);
        if (!await AuthorizedAsync(context))
        {
            return;
        }

        if (Down)
        {
            await WriteErrorAsync(context, 503, "the engine is down", "server_error");
            return;
        }

        await WriteJsonAsync(context, new JsonObject
        {
            ["object"] = "list",
            ["data"] = new JsonArray(new JsonObject
            {
                ["id"] = Model,
                ["object"] = "model",
                ["created"] = 1700000000,
                ["owned_by"] = "vllm",
            }),
        });
    }

    private Task HealthAsync(HttpContext context)
    {
        context.Response.StatusCode = Down ? 503 : 200;
        return Task.CompletedTask;
    }

    private async Task HandleAsync(HttpContext context, Endpoint endpoint)
    {
        _ = endpoint switch
        {
            Endpoint.Chat => Interlocked.Increment(ref _chatRequests),
            Endpoint.Completion => Interlocked.Increment(ref _completionRequests),
            _ => Interlocked.Increment(ref _embeddingRequests),
        };

        using var copy = new MemoryStream();
        await context.Request.Body.CopyToAsync(copy);
        var raw = copy.ToArray();
        var body = (JsonObject)JsonNode.Parse(raw)!;
        Received.Enqueue(new ReceivedRequest(context.Request.Path, body, context.Request.Headers.Authorization.ToString() is { Length: > 0 } auth ? auth : null) { Raw = raw });
        if (!await AuthorizedAsync(context))
        {
            return;
        }

        if (Down)
        {
            await WriteErrorAsync(context, 503, "the engine is down", "server_error");
            return;
        }

        if (FailAll is { } status)
        {
            if (FailRetryAfter is { } retryAfter)
            {
                context.Response.Headers.RetryAfter = retryAfter;
            }

            await WriteErrorAsync(context, status, $"failing on purpose with {status}", status == 429 ? "rate_limit_exceeded" : "server_error");
            return;
        }

        Faults.TryDequeue(out var fault);
        switch (fault?.Kind)
        {
            case FaultKind.RateLimited:
                if (fault.RetryAfter is not null)
                {
                    context.Response.Headers.RetryAfter = fault.RetryAfter;
                }

                await WriteErrorAsync(context, 429, "too many requests, slow down", "rate_limit_exceeded");
                return;
            case FaultKind.ServerError:
                await WriteErrorAsync(context, fault.Status, "the engine crashed", "server_error");
                return;
            case FaultKind.BadRequest:
                context.Response.StatusCode = 400;
                await WriteJsonAsync(context, new JsonObject
                {
                    ["object"] = "error",
                    ["message"] = "max_tokens must be at least 1, got -5.",
                    ["type"] = "BadRequestError",
                    ["param"] = null,
                    ["code"] = 400,
                });
                return;
            case FaultKind.Malformed:
                context.Response.ContentType = "application/json";
                await context.Response.WriteAsync("{\"id\": \"chatcmpl-1\", \"choices\": [{\"index\": 0,");
                return;
            case FaultKind.InvalidUtf8Error when !(body["stream"] is JsonValue streamFlag && streamFlag.GetValue<bool>()):
                context.Response.ContentType = "application/json";
                await context.Response.Body.WriteAsync(InvalidUtf8ErrorObject);
                return;
            case FaultKind.Oversized:
            case FaultKind.OversizedWithLength:
                await WriteOversizedAsync(context, fault.Bytes, fault.Kind == FaultKind.OversizedWithLength);
                return;
        }

        if (Hold is { } hold)
        {
            await hold.WaitAsync(GateLimit);
        }

        var stream = body["stream"] is JsonValue flag && flag.GetValue<bool>();
        switch (endpoint)
        {
            case Endpoint.Chat when stream:
                await StreamAsync(context, ChatChunks(body), fault);
                break;
            case Endpoint.Chat:
                await WriteBodyAsync(context, ChatBody(body));
                break;
            case Endpoint.Completion when stream:
                await StreamAsync(context, CompletionChunks(), fault);
                break;
            case Endpoint.Completion:
                await WriteBodyAsync(context, CompletionBody());
                break;
            default:
                await WriteBodyAsync(context, EmbeddingsBody(body));
                break;
        }
    }

    private async Task<bool> AuthorizedAsync(HttpContext context)
    {
        if (RequiredKey is null || context.Request.Headers.Authorization.ToString() == "Bearer " + RequiredKey)
        {
            return true;
        }

        await WriteErrorAsync(context, 401, "Unauthorized", "authentication_error");
        return false;
    }

    private JsonObject ChatBody(JsonObject request)
    {
        JsonObject message;
        string finish;
        if (request["tools"] is JsonArray { Count: > 0 } tools)
        {
            message = new JsonObject
            {
                ["role"] = "assistant",
                ["content"] = null,
                ["tool_calls"] = new JsonArray(new JsonObject
                {
                    ["id"] = "call_stub_1",
                    ["type"] = "function",
                    ["function"] = new JsonObject
                    {
                        ["name"] = tools[0]!["function"]!["name"]!.GetValue<string>(),
                        ["arguments"] = "{\"city\": \"Paris\", \"unit\": \"celsius\"}",
                    },
                }),
            };
            finish = "tool_calls";
        }
        else
        {
            message = new JsonObject { ["role"] = "assistant", ["content"] = $"Hello from {Name}" };
            finish = "stop";
        }

        var body = new JsonObject
        {
            ["id"] = "chatcmpl-stub",
            ["object"] = "chat.completion",
            ["created"] = 1700000000,
            ["model"] = Model,
            ["choices"] = new JsonArray(new JsonObject
            {
                ["index"] = 0,
                ["message"] = message,
                ["logprobs"] = null,
                ["finish_reason"] = finish,
            }),
        };
        if (!OmitUsage)
        {
            body["usage"] = Usage(7, 3);
        }

        return body;
    }

    private JsonObject CompletionBody()
    {
        var body = new JsonObject
        {
            ["id"] = "cmpl-stub",
            ["object"] = "text_completion",
            ["created"] = 1700000000,
            ["model"] = Model,
            ["choices"] = new JsonArray(new JsonObject
            {
                ["index"] = 0,
                ["text"] = $" world from {Name}",
                ["logprobs"] = null,
                ["finish_reason"] = "length",
            }),
        };
        if (!OmitUsage)
        {
            body["usage"] = Usage(3, 5);
        }

        return body;
    }

    private JsonObject EmbeddingsBody(JsonObject request)
    {
        var inputs = request["input"] switch
        {
            JsonArray array => array.Select(i => i!.GetValue<string>()).ToList(),
            var single => [single!.GetValue<string>()],
        };
        var data = new JsonArray();
        for (var i = 0; i < inputs.Count; i++)
        {
            data.Add(new JsonObject
            {
                ["object"] = "embedding",
                ["index"] = i,
                ["embedding"] = new JsonArray(inputs[i].Length / 10.0, 0.5, -0.25),
            });
        }

        return new JsonObject
        {
            ["object"] = "list",
            ["data"] = data,
            ["model"] = Model,
            ["usage"] = new JsonObject { ["prompt_tokens"] = inputs.Count * 2, ["total_tokens"] = inputs.Count * 2 },
        };
    }

    private List<JsonObject> ChatChunks(JsonObject request)
    {
        var chunks = new List<JsonObject> { ChatChunk(new JsonObject { ["role"] = "assistant", ["content"] = "" }, null) };
        if (request["tools"] is JsonArray { Count: > 0 } tools)
        {
            var name = tools[0]!["function"]!["name"]!.GetValue<string>();
            chunks.Add(ChatChunk(ToolCallDelta(new JsonObject { ["id"] = "call_stub_1", ["type"] = "function", ["function"] = new JsonObject { ["name"] = name, ["arguments"] = "" } }), null));
            chunks.Add(ChatChunk(ToolCallDelta(new JsonObject { ["function"] = new JsonObject { ["arguments"] = "{\"city\": " } }), null));
            chunks.Add(ChatChunk(ToolCallDelta(new JsonObject { ["function"] = new JsonObject { ["arguments"] = "\"Paris\"}" } }), null));
            chunks.Add(ChatChunk(new JsonObject(), "tool_calls"));
        }
        else
        {
            foreach (var token in new[] { "Hello", " from", " " + Name })
            {
                chunks.Add(ChatChunk(new JsonObject { ["content"] = token }, null));
            }

            chunks.Add(ChatChunk(new JsonObject(), "stop"));
        }

        if (request["stream_options"]?["include_usage"] is JsonValue include && include.GetValue<bool>())
        {
            chunks.Add(new JsonObject
            {
                ["id"] = "chatcmpl-stub",
                ["object"] = "chat.completion.chunk",
                ["created"] = 1700000000,
                ["model"] = Model,
                ["choices"] = new JsonArray(),
                ["usage"] = Usage(7, 3),
            });
        }

        return chunks;

        static JsonObject ToolCallDelta(JsonObject call)
        {
            call["index"] = 0;
            return new JsonObject { ["tool_calls"] = new JsonArray(call) };
        }
    }

    private JsonObject ChatChunk(JsonObject delta, string? finish) => new()
    {
        ["id"] = "chatcmpl-stub",
        ["object"] = "chat.completion.chunk",
        ["created"] = 1700000000,
        ["model"] = Model,
        ["choices"] = new JsonArray(new JsonObject
        {
            ["index"] = 0,
            ["delta"] = delta,
            ["logprobs"] = null,
            ["finish_reason"] = finish,
        }),
    };

    private List<JsonObject> CompletionChunks() =>
        [.. new[] { " world", " from", " " + Name }.Select((text, i) => new JsonObject
        {
            ["id"] = "cmpl-stub",
            ["object"] = "text_completion",
            ["created"] = 1700000000,
            ["model"] = Model,
            ["choices"] = new JsonArray(new JsonObject
            {
                ["index"] = 0,
                ["text"] = text,
                ["logprobs"] = null,
                ["finish_reason"] = i == 2 ? "length" : null,
            }),
        })];

    private static JsonObject Usage(int prompt, int completion) => new()
    {
        ["prompt_tokens"] = prompt,
        ["completion_tokens"] = completion,
        ["total_tokens"] = prompt + completion,
    };

    private async Task StreamAsync(HttpContext context, List<JsonObject> chunks, StubFault? fault)
    {
        context.Response.ContentType = "text/event-stream";
        context.Response.Headers.CacheControl = "no-cache";
        await context.Response.Body.FlushAsync();
        for (var i = 0; i < chunks.Count; i++)
        {
            if (fault is not null && i == fault.AfterChunks)
            {
                switch (fault.Kind)
                {
                    case FaultKind.DropMidStream:
                        if (StreamGate is { } gate)
                        {
                            await gate.WaitAsync(GateLimit);
                        }

                        context.Abort();
                        return;
                    case FaultKind.StreamErrorEvent:
                        await WriteEventAsync(context, "{\"error\": {\"message\": \"the engine ran out of KV cache\", \"type\": \"server_error\", \"param\": null, \"code\": 500}}");
                        await WriteEventAsync(context, "[DONE]");
                        return;
                    case FaultKind.InvalidUtf8Error:
                        await context.Response.Body.WriteAsync("data: "u8.ToArray());
                        await context.Response.Body.WriteAsync(InvalidUtf8ErrorObject);
                        await context.Response.Body.WriteAsync("\n\n"u8.ToArray());
                        await context.Response.Body.FlushAsync();
                        return;
                    case FaultKind.OversizedSseLine:
                        await context.Response.WriteAsync("data: {\"pad\": \"");
                        await context.Response.WriteAsync(new string('x', fault.Bytes));
                        await context.Response.WriteAsync("\"}\n\n");
                        return;
                }
            }

            SentChunks.Enqueue(chunks[i]);
            await WriteEventAsync(context, chunks[i].ToJsonString());
            if (i == 0 && StreamGate is { } firstChunkGate && fault?.Kind != FaultKind.DropMidStream)
            {
                await firstChunkGate.WaitAsync(GateLimit);
            }

            if (ChunkDelay > TimeSpan.Zero)
            {
                await Task.Delay(ChunkDelay);
            }
        }

        if (fault?.Kind == FaultKind.EndWithoutDone)
        {
            return;
        }

        await WriteEventAsync(context, "[DONE]");
    }

    // {"error":{"message":"content\xFF filtered","type":"invalid_request_error"}}: the vendor-answer fuzz harness's first
    // finding, which the strict parse now refuses (it threw InvalidOperationException when the message was read: a 500).
    private static readonly byte[] InvalidUtf8ErrorObject =
        [.. "{\"error\":{\"message\":\"content"u8, 0xFF, .. " filtered\",\"type\":\"invalid_request_error\"}}"u8];

    private static async Task WriteEventAsync(HttpContext context, string data)
    {
        await context.Response.WriteAsync("data: " + data + "\n\n");
        await context.Response.Body.FlushAsync();
    }

    private async Task WriteBodyAsync(HttpContext context, JsonObject body)
    {
        LastBody = body;
        await WriteJsonAsync(context, body);
    }

    private static async Task WriteJsonAsync(HttpContext context, JsonObject body)
    {
        context.Response.ContentType = "application/json";
        await context.Response.WriteAsync(body.ToJsonString());
    }

    private static async Task WriteErrorAsync(HttpContext context, int status, string message, string type)
    {
        context.Response.StatusCode = status;
        await WriteJsonAsync(context, new JsonObject
        {
            ["error"] = new JsonObject
            {
                ["message"] = message,
                ["type"] = type,
                ["param"] = null,
                ["code"] = status,
            },
        });
    }

    private static async Task WriteOversizedAsync(HttpContext context, int bytes, bool withLength)
    {
        context.Response.ContentType = "application/json";
        var head = "{\"pad\": \""u8.ToArray();
        var tail = "\"}"u8.ToArray();
        var padding = Math.Max(0, bytes - head.Length - tail.Length);
        if (withLength)
        {
            context.Response.ContentLength = head.Length + padding + tail.Length;
        }

        await context.Response.Body.WriteAsync(head);
        var block = Encoding.ASCII.GetBytes(new string('x', 64 * 1024));
        for (var written = 0; written < padding; written += block.Length)
        {
            await context.Response.Body.WriteAsync(block.AsMemory(0, Math.Min(block.Length, padding - written)));
        }

        await context.Response.Body.WriteAsync(tail);
    }
}
