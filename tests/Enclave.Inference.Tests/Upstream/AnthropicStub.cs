using System.Collections.Concurrent;
using System.Net;
using System.Security.Cryptography;
using System.Security.Cryptography.X509Certificates;
using System.Text;
using System.Text.Json;
using System.Text.Json.Nodes;
using Microsoft.AspNetCore.Builder;
using Microsoft.AspNetCore.Hosting;
using Microsoft.AspNetCore.Http;
using Microsoft.Extensions.Logging;

namespace Enclave.Inference.Tests.Upstream;

/// <summary>What the Anthropic stub does to the next Messages request.</summary>
public enum AnthropicFault
{
    /// <summary>429 <c>rate_limit_error</c> with <c>retry-after: 7</c>.</summary>
    RateLimited,

    /// <summary>529 <c>overloaded_error</c>.</summary>
    Overloaded,

    /// <summary>A stream that sends message_start and one text delta, then an <c>error</c> event (overloaded_error).</summary>
    StreamErrorEvent,
}

/// <summary>
/// A Kestrel server on 127.0.0.1 that speaks the Anthropic Messages API as documented
/// (https://docs.anthropic.com/en/api/messages, .../messages-streaming, .../errors): <c>POST /v1/messages</c> with
/// <c>x-api-key</c> and <c>anthropic-version</c>, the request validated against the documented shape (unknown fields,
/// roles and block types refused with 400 <c>invalid_request_error</c> as the API does), answers as message objects or
/// as the documented event stream, error objects, 429 with <c>retry-after</c> and 529 overloaded.
/// </summary>
internal sealed class AnthropicStub : IAsyncDisposable
{
    public const string Key = "sk-ant-test-key";
    public const string ModelVersion = "claude-sonnet-4-5-20250929";

    private static readonly HashSet<string> KnownFields =
    [
        "model", "messages", "max_tokens", "system", "temperature", "top_p", "top_k", "stop_sequences", "stream", "tools",
        "tool_choice", "metadata", "thinking", "service_tier",
    ];

    private readonly WebApplication _app;

    private AnthropicStub(WebApplication app) => _app = app;

    public string BaseUrl { get; private set; } = "";

    /// <summary>The key every request must carry in <c>x-api-key</c>.</summary>
    public string RequiredKey { get; set; } = Key;

    public ConcurrentQueue<AnthropicFault> Faults { get; } = new();

    /// <summary>Every valid Messages request, with its headers.</summary>
    public ConcurrentQueue<(JsonObject Body, string? ApiKey, string? Version)> Received { get; } = new();

    /// <summary>Every request, valid or not (the path).</summary>
    public int Requests => _requests;

    private int _requests;

    /// <summary>PEM of the self-signed certificate (https only), to give the gateway as its CA.</summary>
    public string? CertificatePem { get; private set; }

    /// <summary>Starts on http, or on https with a fresh self-signed certificate for 127.0.0.1 (a backend that leaves the enclave must use https).</summary>
    public static async Task<AnthropicStub> StartAsync(bool https = false)
    {
        var builder = StubHost.CreateBuilder(https, "anthropic.test", out var pem);
        var app = builder.Build();
        var stub = new AnthropicStub(app) { CertificatePem = pem };
        app.MapPost("/v1/messages", stub.MessagesAsync);
        app.MapGet("/v1/models", stub.ModelsAsync);
        await app.StartAsync();
        stub.BaseUrl = app.Urls.Single() + "/v1";
        return stub;
    }

    public async ValueTask DisposeAsync()
    {
        await _app.StopAsync();
        await _app.DisposeAsync();
    }

    private async Task ModelsAsync(HttpContext context)
    {
        if (!await AuthorizedAsync(context))
        {
            return;
        }

        await WriteJsonAsync(context, 200, new JsonObject
        {
            ["data"] = new JsonArray(new JsonObject { ["type"] = "model", ["id"] = ModelVersion, ["display_name"] = "Claude Sonnet 4.5" }),
            ["has_more"] = false,
        });
    }

    private async Task MessagesAsync(HttpContext context)
    {
        Interlocked.Increment(ref _requests);
        if (!await AuthorizedAsync(context))
        {
            return;
        }

        JsonObject body;
        try
        {
            body = JsonNode.Parse(context.Request.Body is { } stream ? await new StreamReader(stream).ReadToEndAsync() : "")!.AsObject();
        }
        catch (Exception e) when (e is JsonException or InvalidOperationException)
        {
            await ErrorAsync(context, 400, "invalid_request_error", "There was an issue with the format or content of your request.");
            return;
        }

        if (Validate(body) is { } problem)
        {
            await ErrorAsync(context, 400, "invalid_request_error", problem);
            return;
        }

        Received.Enqueue((body, context.Request.Headers["x-api-key"].ToString(), context.Request.Headers["anthropic-version"].ToString()));
        var hasFault = Faults.TryDequeue(out var fault);
        if (hasFault)
        {
            switch (fault)
            {
                case AnthropicFault.RateLimited:
                    context.Response.Headers["retry-after"] = "7";
                    await ErrorAsync(context, 429, "rate_limit_error", "Number of request tokens has exceeded your per-minute rate limit.");
                    return;
                case AnthropicFault.Overloaded:
                    await ErrorAsync(context, 529, "overloaded_error", "Overloaded");
                    return;
            }
        }

        var hasTools = body["tools"] is JsonArray { Count: > 0 };
        var answersTool = LastContent(body) is JsonArray last && last.Any(b => (string?)b!["type"] == "tool_result");
        var useTool = hasTools && !answersTool;
        if (body["stream"] is JsonValue s && s.GetValue<bool>())
        {
            await StreamAsync(context, body, useTool, hasFault && fault == AnthropicFault.StreamErrorEvent);
            return;
        }

        // With tool_choice {"type":"tool"} Claude answers with the tool_use block only (no text before it).
        var forced = (string?)body["tool_choice"]?["type"] == "tool";
        var content = useTool && forced
            ? new JsonArray(new JsonObject { ["type"] = "tool_use", ["id"] = "toolu_01F", ["name"] = ToolName(body), ["input"] = new JsonObject { ["city"] = "Paris" } })
            : useTool
            ? new JsonArray(
                new JsonObject { ["type"] = "text", ["text"] = "Let me look that up." },
                new JsonObject { ["type"] = "tool_use", ["id"] = "toolu_01A", ["name"] = ToolName(body), ["input"] = new JsonObject { ["city"] = "Paris" } })
            : new JsonArray(new JsonObject { ["type"] = "text", ["text"] = Answer(body) });
        await WriteJsonAsync(context, 200, new JsonObject
        {
            ["id"] = "msg_01XFDUDYJgAACzvnptvVoYEL",
            ["type"] = "message",
            ["role"] = "assistant",
            ["model"] = ModelVersion,
            ["content"] = content,
            ["stop_reason"] = useTool ? "tool_use" : "end_turn",
            ["stop_sequence"] = null,
            ["usage"] = new JsonObject { ["input_tokens"] = 12, ["output_tokens"] = 6 },
        });
    }

    /// <summary>The answer echoes what the last user turn said, so tests can see what arrived.</summary>
    private static string Answer(JsonObject body) => LastContent(body) switch
    {
        JsonValue text => "Claude heard: " + (string?)text,
        JsonArray blocks when blocks.Any(b => (string?)b!["type"] == "tool_result") => "It is sunny in Paris.",
        JsonArray blocks => "Claude heard: " + string.Concat(blocks.Where(b => (string?)b!["type"] == "text").Select(b => (string?)b!["text"])),
        _ => "Claude heard nothing",
    };

    private static JsonNode? LastContent(JsonObject body) => body["messages"]!.AsArray()[^1]!["content"];

    private static string ToolName(JsonObject body) => (string)body["tools"]![0]!["name"]!;

    private static async Task StreamAsync(HttpContext context, JsonObject body, bool useTool, bool failMidway)
    {
        context.Response.ContentType = "text/event-stream; charset=utf-8";
        context.Response.Headers.CacheControl = "no-cache";
        await EventAsync(context, "message_start", new JsonObject
        {
            ["type"] = "message_start",
            ["message"] = new JsonObject
            {
                ["id"] = "msg_01Stream", ["type"] = "message", ["role"] = "assistant", ["content"] = new JsonArray(),
                ["model"] = ModelVersion, ["stop_reason"] = null, ["stop_sequence"] = null,
                ["usage"] = new JsonObject { ["input_tokens"] = 25, ["output_tokens"] = 1 },
            },
        });
        await EventAsync(context, "content_block_start", new JsonObject
        {
            ["type"] = "content_block_start", ["index"] = 0, ["content_block"] = new JsonObject { ["type"] = "text", ["text"] = "" },
        });
        await EventAsync(context, "ping", new JsonObject { ["type"] = "ping" });
        var answer = useTool ? ((string?)body["tool_choice"]?["type"] == "tool" ? string.Empty : "Checking.") : Answer(body);
        var half = answer.Length / 2;
        foreach (var piece in new[] { answer[..half], answer[half..] })
        {
            await EventAsync(context, "content_block_delta", new JsonObject
            {
                ["type"] = "content_block_delta", ["index"] = 0, ["delta"] = new JsonObject { ["type"] = "text_delta", ["text"] = piece },
            });
            if (failMidway)
            {
                await EventAsync(context, "error", new JsonObject
                {
                    ["type"] = "error", ["error"] = new JsonObject { ["type"] = "overloaded_error", ["message"] = "Overloaded" },
                });
                return;
            }
        }

        await EventAsync(context, "content_block_stop", new JsonObject { ["type"] = "content_block_stop", ["index"] = 0 });
        if (useTool)
        {
            await EventAsync(context, "content_block_start", new JsonObject
            {
                ["type"] = "content_block_start", ["index"] = 1,
                ["content_block"] = new JsonObject { ["type"] = "tool_use", ["id"] = "toolu_01B", ["name"] = ToolName(body), ["input"] = new JsonObject() },
            });
            foreach (var part in new[] { "", "{\"city\": ", "\"Paris\"}" })
            {
                await EventAsync(context, "content_block_delta", new JsonObject
                {
                    ["type"] = "content_block_delta", ["index"] = 1, ["delta"] = new JsonObject { ["type"] = "input_json_delta", ["partial_json"] = part },
                });
            }

            await EventAsync(context, "content_block_stop", new JsonObject { ["type"] = "content_block_stop", ["index"] = 1 });
        }

        await EventAsync(context, "message_delta", new JsonObject
        {
            ["type"] = "message_delta",
            ["delta"] = new JsonObject { ["stop_reason"] = useTool ? "tool_use" : "end_turn", ["stop_sequence"] = null },
            ["usage"] = new JsonObject { ["output_tokens"] = 15 },
        });
        await EventAsync(context, "message_stop", new JsonObject { ["type"] = "message_stop" });
    }

    private static async Task EventAsync(HttpContext context, string name, JsonObject data)
    {
        await context.Response.WriteAsync($"event: {name}\ndata: {data.ToJsonString()}\n\n");
        await context.Response.Body.FlushAsync();
    }

    /// <summary>The documented request shape; the first problem, or null.</summary>
    private static string? Validate(JsonObject body)
    {
        foreach (var (name, _) in body)
        {
            if (!KnownFields.Contains(name))
            {
                return $"{name}: Extra inputs are not permitted";
            }
        }

        if (body["model"] is not JsonValue model || model.GetValueKind() != JsonValueKind.String)
        {
            return "model: Field required";
        }

        if (body["max_tokens"] is not JsonValue maxTokens || maxTokens.GetValueKind() != JsonValueKind.Number || maxTokens.GetValue<long>() < 1)
        {
            return "max_tokens: Field required";
        }

        if (body["system"] is { } system && system.GetValueKind() is not (JsonValueKind.String or JsonValueKind.Array))
        {
            return "system: Input should be a valid string or list";
        }

        if (body["messages"] is not JsonArray { Count: > 0 } messages)
        {
            return "messages: at least one message is required";
        }

        for (var i = 0; i < messages.Count; i++)
        {
            var role = (string?)messages[i]?["role"];
            if (role is not ("user" or "assistant"))
            {
                return $"messages.{i}.role: Input should be 'user' or 'assistant'";
            }

            if (messages[i]!["content"] is JsonArray blocks)
            {
                foreach (var block in blocks)
                {
                    var type = (string?)block?["type"];
                    if (type is not ("text" or "image" or "tool_use" or "tool_result"))
                    {
                        return $"messages.{i}.content: unknown block type '{type}'";
                    }

                    if (type == "image" && (string?)block!["source"]?["type"] is not ("base64" or "url"))
                    {
                        return $"messages.{i}.content: image source must be base64 or url";
                    }

                    if (type == "tool_use" && block!["input"] is not JsonObject)
                    {
                        return $"messages.{i}.content: tool_use.input must be an object";
                    }
                }
            }
            else if (messages[i]!["content"]?.GetValueKind() != JsonValueKind.String)
            {
                return $"messages.{i}.content: Input should be a valid string or list";
            }
        }

        if ((string?)messages[0]!["role"] != "user")
        {
            return "messages: first message must use the \"user\" role";
        }

        if (body["tools"] is JsonArray tools && tools.Any(t => t?["name"] is null || t["input_schema"] is not JsonObject))
        {
            return "tools: each tool needs a name and an input_schema object";
        }

        return null;
    }

    private async Task<bool> AuthorizedAsync(HttpContext context)
    {
        if (string.IsNullOrEmpty(context.Request.Headers["anthropic-version"]))
        {
            await ErrorAsync(context, 400, "invalid_request_error", "anthropic-version: header is required");
            return false;
        }

        if (context.Request.Headers["x-api-key"] != RequiredKey)
        {
            await ErrorAsync(context, 401, "authentication_error", "invalid x-api-key");
            return false;
        }

        return true;
    }

    private static Task ErrorAsync(HttpContext context, int status, string type, string message) =>
        WriteJsonAsync(context, status, new JsonObject
        {
            ["type"] = "error",
            ["error"] = new JsonObject { ["type"] = type, ["message"] = message },
            ["request_id"] = "req_011CSHoEeqs5C35K2UUqR7Fy",
        });

    private static async Task WriteJsonAsync(HttpContext context, int status, JsonObject body)
    {
        context.Response.StatusCode = status;
        context.Response.ContentType = "application/json";
        context.Response.Headers["request-id"] = "req_011CSHoEeqs5C35K2UUqR7Fy";
        await context.Response.WriteAsync(body.ToJsonString(), Encoding.UTF8);
    }
}
