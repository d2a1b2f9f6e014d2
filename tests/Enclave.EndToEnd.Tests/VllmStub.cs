using System.Security.Cryptography;
using System.Text;
using System.Text.Json.Nodes;
using Microsoft.AspNetCore.Builder;
using Microsoft.AspNetCore.Hosting;
using Microsoft.AspNetCore.Http;
using Microsoft.Extensions.Logging;

namespace Enclave.EndToEnd.Tests;

/// <summary>
/// A second real server on loopback that answers like vLLM's OpenAI server: deterministic echo completions,
/// SSE streaming (one word per chunk, usage chunk when asked, [DONE]), embeddings in float or base64, tool calls,
/// and faults chosen by model name: "overloaded" answers 429 with Retry-After, "broken" answers 500.
/// </summary>
internal sealed class VllmStub : IAsyncDisposable
{
    private readonly WebApplication _app;
    private int _requests;

    private VllmStub(WebApplication app) => _app = app;

    public string BaseUrl { get; private set; } = string.Empty;

    public int Requests => Volatile.Read(ref _requests);

    /// <summary>The body of the last chat completion request received (to see what the enclave sent on).</summary>
    public JsonObject? LastChatRequest { get; private set; }

    /// <summary>Released by a test to let a slow stream ("slow" model) continue after its first chunk, or a slow unstreamed answer be sent.</summary>
    public TaskCompletionSource SlowGate { get; } = new(TaskCreationOptions.RunContinuationsAsynchronously);

    public static async Task<VllmStub> StartAsync()
    {
        var builder = WebApplication.CreateSlimBuilder();
        builder.Logging.ClearProviders();
        builder.WebHost.UseUrls("http://127.0.0.1:0");
        var app = builder.Build();
        var stub = new VllmStub(app);
        app.MapPost("/v1/chat/completions", stub.ChatAsync);
        app.MapPost("/v1/completions", stub.CompletionAsync);
        app.MapPost("/v1/embeddings", stub.EmbeddingsAsync);
        app.MapGet("/v1/models", () => Results.Json(new JsonObject { ["object"] = "list", ["data"] = new JsonArray() }));
        await app.StartAsync();
        stub.BaseUrl = app.Urls.First() + "/v1";
        return stub;
    }

    private async Task ChatAsync(HttpContext http)
    {
        Interlocked.Increment(ref _requests);
        var request = (JsonObject)(await JsonNode.ParseAsync(http.Request.Body))!;
        LastChatRequest = (JsonObject)request.DeepClone();
        if (await FaultAsync(http, request))
        {
            return;
        }

        var messages = request["messages"]!.AsArray();
        var last = messages[^1]!["content"]!.GetValue<string>();
        var promptTokens = messages.Sum(m => Words(m!["content"]?.GetValue<string>() ?? string.Empty).Length);
        var words = Words("echo: " + last);
        var model = request["model"]!.GetValue<string>();
        if (request["tools"] is JsonArray { Count: > 0 } tools)
        {
            var name = tools[0]!["function"]!["name"]!.GetValue<string>();
            var call = new JsonObject
            {
                ["id"] = "call_1",
                ["type"] = "function",
                ["function"] = new JsonObject { ["name"] = name, ["arguments"] = """{"city":"Oslo"}""" },
            };
            if (request["stream"]?.GetValue<bool>() == true)
            {
                // As vLLM streams a tool call: id, type and name first, then the arguments in pieces.
                http.Response.ContentType = "text/event-stream";
                JsonObject Delta(JsonObject toolCall) => new() { ["index"] = 0, ["delta"] = new JsonObject { ["tool_calls"] = new JsonArray(toolCall) }, ["finish_reason"] = null };
                await SendAsync(http, Chunk(model, "chat.completion.chunk", Delta(new JsonObject { ["index"] = 0, ["id"] = "call_1", ["type"] = "function", ["function"] = new JsonObject { ["name"] = name, ["arguments"] = "" } })));
                foreach (var piece in new[] { """{"city":""", "\"Oslo\"}" })
                {
                    await SendAsync(http, Chunk(model, "chat.completion.chunk", Delta(new JsonObject { ["index"] = 0, ["function"] = new JsonObject { ["arguments"] = piece } })));
                }

                await SendAsync(http, Chunk(model, "chat.completion.chunk", new JsonObject { ["index"] = 0, ["delta"] = new JsonObject(), ["finish_reason"] = "tool_calls" }));
                if (request["stream_options"]?["include_usage"]?.GetValue<bool>() == true)
                {
                    var usageChunk = Chunk(model, "chat.completion.chunk", null);
                    usageChunk["usage"] = Usage(promptTokens, 5);
                    await SendAsync(http, usageChunk);
                }

                await http.Response.WriteAsync("data: [DONE]\n\n");
                return;
            }

            await http.Response.WriteAsJsonAsync(new JsonObject
            {
                ["id"] = "chatcmpl-stub",
                ["object"] = "chat.completion",
                ["created"] = 1_700_000_000,
                ["model"] = model,
                ["choices"] = new JsonArray(new JsonObject
                {
                    ["index"] = 0,
                    ["message"] = new JsonObject { ["role"] = "assistant", ["content"] = null, ["tool_calls"] = new JsonArray(call) },
                    ["finish_reason"] = "tool_calls",
                }),
                ["usage"] = Usage(promptTokens, 5),
            });
            return;
        }

        if (request["stream"]?.GetValue<bool>() == true)
        {
            http.Response.ContentType = "text/event-stream";
            for (var i = 0; i < words.Length; i++)
            {
                var delta = new JsonObject { ["content"] = (i == 0 ? string.Empty : " ") + words[i] };
                if (i == 0)
                {
                    delta["role"] = "assistant";
                }

                await SendAsync(http, Chunk(model, "chat.completion.chunk", new JsonObject { ["index"] = 0, ["delta"] = delta, ["finish_reason"] = null }));
                if (i == 0 && model == "slow")
                {
                    await SlowGate.Task.WaitAsync(TimeSpan.FromSeconds(30), http.RequestAborted);
                }
            }

            await SendAsync(http, Chunk(model, "chat.completion.chunk", new JsonObject { ["index"] = 0, ["delta"] = new JsonObject(), ["finish_reason"] = "stop" }));
            if (request["stream_options"]?["include_usage"]?.GetValue<bool>() == true)
            {
                var usageChunk = Chunk(model, "chat.completion.chunk", null);
                usageChunk["usage"] = Usage(promptTokens, words.Length);
                await SendAsync(http, usageChunk);
            }

            await http.Response.WriteAsync("data: [DONE]\n\n");
            return;
        }

        if (model == "slow")
        {
            // Unstreamed, "slow" holds its whole answer until released or abandoned by the caller.
            await SlowGate.Task.WaitAsync(TimeSpan.FromSeconds(30), http.RequestAborted);
        }

        await http.Response.WriteAsJsonAsync(new JsonObject
        {
            ["id"] = "chatcmpl-stub",
            ["object"] = "chat.completion",
            ["created"] = 1_700_000_000,
            ["model"] = model,
            ["choices"] = new JsonArray(new JsonObject
            {
                ["index"] = 0,
                ["message"] = new JsonObject { ["role"] = "assistant", ["content"] = string.Join(' ', words) },
                ["finish_reason"] = "stop",
            }),
            ["usage"] = Usage(promptTokens, words.Length),
        });
    }

    private async Task CompletionAsync(HttpContext http)
    {
        Interlocked.Increment(ref _requests);
        var request = (JsonObject)(await JsonNode.ParseAsync(http.Request.Body))!;
        if (await FaultAsync(http, request))
        {
            return;
        }

        var prompt = request["prompt"]!.GetValue<string>();
        var words = Words("echo: " + prompt);
        await http.Response.WriteAsJsonAsync(new JsonObject
        {
            ["id"] = "cmpl-stub",
            ["object"] = "text_completion",
            ["created"] = 1_700_000_000,
            ["model"] = request["model"]!.GetValue<string>(),
            ["choices"] = new JsonArray(new JsonObject { ["index"] = 0, ["text"] = string.Join(' ', words), ["finish_reason"] = "stop", ["logprobs"] = null }),
            ["usage"] = Usage(Words(prompt).Length, words.Length),
        });
    }

    private async Task EmbeddingsAsync(HttpContext http)
    {
        Interlocked.Increment(ref _requests);
        var request = (JsonObject)(await JsonNode.ParseAsync(http.Request.Body))!;
        var inputs = request["input"] is JsonArray array ? array.Select(i => i!.GetValue<string>()).ToArray() : [request["input"]!.GetValue<string>()];
        var base64 = request["encoding_format"]?.GetValue<string>() == "base64";
        var data = new JsonArray();
        for (var i = 0; i < inputs.Length; i++)
        {
            var vector = Vector(inputs[i]);
            JsonNode embedding = base64
                ? JsonValue.Create(Convert.ToBase64String(System.Runtime.InteropServices.MemoryMarshal.AsBytes(vector.AsSpan())))
                : new JsonArray([.. vector.Select(v => JsonValue.Create(v))]);
            data.Add(new JsonObject { ["object"] = "embedding", ["index"] = i, ["embedding"] = embedding });
        }

        await http.Response.WriteAsJsonAsync(new JsonObject
        {
            ["object"] = "list",
            ["data"] = data,
            ["model"] = request["model"]!.GetValue<string>(),
            ["usage"] = new JsonObject { ["prompt_tokens"] = inputs.Sum(s => Words(s).Length), ["total_tokens"] = inputs.Sum(s => Words(s).Length) },
        });
    }

    /// <summary>The stub's embedding of a text: 8 floats from its SHA-256, L2-normalised.</summary>
    public static float[] Vector(string text)
    {
        var hash = SHA256.HashData(Encoding.UTF8.GetBytes(text));
        var v = Enumerable.Range(0, 8).Select(i => (float)(hash[i] - 128)).ToArray();
        var norm = MathF.Sqrt(v.Sum(x => x * x));
        return [.. v.Select(x => x / norm)];
    }

    private static async Task<bool> FaultAsync(HttpContext http, JsonObject request)
    {
        var model = request["model"]?.GetValue<string>();
        if (model == "overloaded")
        {
            http.Response.StatusCode = 429;
            http.Response.Headers.RetryAfter = "7";
            await http.Response.WriteAsJsonAsync(new JsonObject { ["error"] = new JsonObject { ["message"] = "too many requests", ["type"] = "rate_limit_exceeded", ["param"] = null, ["code"] = null } });
            return true;
        }

        if (model == "broken")
        {
            http.Response.StatusCode = 500;
            await http.Response.WriteAsJsonAsync(new JsonObject { ["error"] = new JsonObject { ["message"] = "engine crashed", ["type"] = "server_error", ["param"] = null, ["code"] = null } });
            return true;
        }

        return false;
    }

    private static JsonObject Chunk(string model, string type, JsonObject? choice) => new()
    {
        ["id"] = "chatcmpl-stub",
        ["object"] = type,
        ["created"] = 1_700_000_000,
        ["model"] = model,
        ["choices"] = choice is null ? new JsonArray() : new JsonArray(choice),
    };

    private static JsonObject Usage(int prompt, int completion) => new()
    {
        ["prompt_tokens"] = prompt,
        ["completion_tokens"] = completion,
        ["total_tokens"] = prompt + completion,
    };

    private static async Task SendAsync(HttpContext http, JsonObject chunk)
    {
        await http.Response.WriteAsync("data: " + chunk.ToJsonString() + "\n\n", http.RequestAborted);
        await http.Response.Body.FlushAsync(http.RequestAborted);
    }

    private static string[] Words(string text) => text.Split(' ', StringSplitOptions.RemoveEmptyEntries);

    public async ValueTask DisposeAsync()
    {
        SlowGate.TrySetResult();
        await _app.StopAsync();
        await _app.DisposeAsync();
    }
}
