using System.Collections.Concurrent;
using System.Net;
using System.Text;
using System.Text.Json;
using System.Text.Json.Nodes;
using Microsoft.AspNetCore.Builder;
using Microsoft.AspNetCore.Hosting;
using Microsoft.AspNetCore.Http;
using Microsoft.Extensions.Logging;

namespace Enclave.Inference.Tests.Upstream;

/// <summary>What the Gemini stub does to the next request.</summary>
public enum GeminiFault
{
    /// <summary>429 RESOURCE_EXHAUSTED with a <c>RetryInfo</c> detail (<c>retryDelay: "13s"</c>) and no header.</summary>
    ResourceExhausted,

    /// <summary>A stream whose body ends before any chunk with a finishReason.</summary>
    TruncatedStream,
}

/// <summary>
/// A Kestrel server on 127.0.0.1 that speaks the Gemini API as documented (https://ai.google.dev/api/generate-content):
/// <c>POST /v1beta/models/{model}:generateContent</c> and <c>:streamGenerateContent?alt=sse</c> with
/// <c>x-goog-api-key</c>; unknown fields refused as the API does (400 INVALID_ARGUMENT "Unknown name"), a wrong key
/// 400 API_KEY_INVALID, a missing key 403; answers with candidates, usageMetadata and modelVersion; streams as
/// server-sent events of whole GenerateContentResponse objects, the last with finishReason and usage.
/// </summary>
internal sealed class GeminiStub : IAsyncDisposable
{
    public const string Key = "gemini-test-key";
    public const string Model = "gemini-2.5-flash";
    public const string ModelVersion = "gemini-2.5-flash-preview-05-20";

    private static readonly HashSet<string> KnownFields = ["contents", "systemInstruction", "tools", "toolConfig", "generationConfig", "safetySettings", "cachedContent"];

    private readonly WebApplication _app;

    private GeminiStub(WebApplication app) => _app = app;

    public string BaseUrl { get; private set; } = "";

    public ConcurrentQueue<GeminiFault> Faults { get; } = new();

    public ConcurrentQueue<(string Path, string Query, JsonObject Body)> Received { get; } = new();

    public int Requests => _requests;

    private int _requests;

    /// <summary>PEM of the self-signed certificate (https only), to give the gateway as its CA.</summary>
    public string? CertificatePem { get; private set; }

    /// <summary>Starts on http, or on https with a fresh self-signed certificate for 127.0.0.1 (<see cref="StubHost"/>).</summary>
    public static async Task<GeminiStub> StartAsync(bool https = false)
    {
        var builder = StubHost.CreateBuilder(https, "gemini.test", out var pem);
        var app = builder.Build();
        var stub = new GeminiStub(app) { CertificatePem = pem };
        app.MapPost("/v1beta/models/{call}", stub.GenerateAsync);
        app.MapGet("/v1beta/models", stub.ModelsAsync);
        await app.StartAsync();
        stub.BaseUrl = app.Urls.Single() + "/v1beta";
        return stub;
    }

    public async ValueTask DisposeAsync()
    {
        await _app.StopAsync();
        await _app.DisposeAsync();
    }

    private async Task ModelsAsync(HttpContext context)
    {
        if (await RefusedAsync(context))
        {
            return;
        }

        await WriteJsonAsync(context, 200, new JsonObject { ["models"] = new JsonArray(new JsonObject { ["name"] = "models/" + Model }) });
    }

    private async Task GenerateAsync(HttpContext context, string call)
    {
        Interlocked.Increment(ref _requests);
        if (await RefusedAsync(context))
        {
            return;
        }

        var colon = call.IndexOf(':', StringComparison.Ordinal);
        var (model, method) = colon < 0 ? (call, "") : (call[..colon], call[(colon + 1)..]);
        if (model != Model)
        {
            await ErrorAsync(context, 404, "NOT_FOUND", $"models/{model} is not found for API version v1beta");
            return;
        }

        if (method is not ("generateContent" or "streamGenerateContent"))
        {
            await ErrorAsync(context, 404, "NOT_FOUND", "method not found");
            return;
        }

        var body = JsonNode.Parse(await new StreamReader(context.Request.Body).ReadToEndAsync())!.AsObject();
        if (Validate(body) is { } problem)
        {
            await ErrorAsync(context, 400, "INVALID_ARGUMENT", problem);
            return;
        }

        Received.Enqueue((context.Request.Path, context.Request.QueryString.Value ?? "", body));
        var hasFault = Faults.TryDequeue(out var fault);
        if (hasFault && fault == GeminiFault.ResourceExhausted)
        {
            await WriteJsonAsync(context, 429, new JsonObject
            {
                ["error"] = new JsonObject
                {
                    ["code"] = 429, ["message"] = "You exceeded your current quota.", ["status"] = "RESOURCE_EXHAUSTED",
                    ["details"] = new JsonArray(new JsonObject { ["@type"] = "type.googleapis.com/google.rpc.RetryInfo", ["retryDelay"] = "13s" }),
                },
            });
            return;
        }

        var contents = body["contents"]!.AsArray();
        var lastParts = contents[^1]!["parts"]!.AsArray();
        var answersFunction = lastParts.Any(p => p!["functionResponse"] is not null);
        var callFunction = body["tools"] is JsonArray { Count: > 0 } && !answersFunction;
        var text = answersFunction ? "It is sunny in Paris." : "Gemini heard: " + string.Concat(lastParts.Select(p => (string?)p!["text"]));
        if (method == "streamGenerateContent")
        {
            if (context.Request.Query["alt"] != "sse")
            {
                await ErrorAsync(context, 400, "INVALID_ARGUMENT", "this stub streams only with alt=sse");
                return;
            }

            context.Response.ContentType = "text/event-stream";
            var half = text.Length / 2;
            await DataAsync(context, Response(new JsonArray(new JsonObject { ["text"] = text[..half] }), null, usage: false));
            if (hasFault && fault == GeminiFault.TruncatedStream)
            {
                return;
            }

            await DataAsync(context, Response(new JsonArray(new JsonObject { ["text"] = text[half..] }), null, usage: false));
            await DataAsync(context, callFunction
                ? Response(new JsonArray(FunctionCall()), "STOP", usage: true)
                : Response(new JsonArray(new JsonObject { ["text"] = "" }), "STOP", usage: true));
            return;
        }

        await WriteJsonAsync(context, 200, callFunction
            ? Response(new JsonArray(FunctionCall()), "STOP", usage: true)
            : Response(new JsonArray(new JsonObject { ["text"] = text }), "STOP", usage: true));
    }

    private static JsonObject FunctionCall() => new() { ["functionCall"] = new JsonObject { ["name"] = "get_weather", ["args"] = new JsonObject { ["city"] = "Paris" } } };

    private static JsonObject Response(JsonArray parts, string? finishReason, bool usage)
    {
        var candidate = new JsonObject { ["content"] = new JsonObject { ["role"] = "model", ["parts"] = parts }, ["index"] = 0 };
        if (finishReason is not null)
        {
            candidate["finishReason"] = finishReason;
        }

        var response = new JsonObject { ["candidates"] = new JsonArray(candidate), ["modelVersion"] = ModelVersion, ["responseId"] = "resp-gemini-1" };
        if (usage)
        {
            response["usageMetadata"] = new JsonObject { ["promptTokenCount"] = 11, ["candidatesTokenCount"] = 5, ["totalTokenCount"] = 16 };
        }

        return response;
    }

    private static string? Validate(JsonObject body)
    {
        foreach (var (name, _) in body)
        {
            if (!KnownFields.Contains(name))
            {
                return $"Invalid JSON payload received. Unknown name \"{name}\": Cannot find field.";
            }
        }

        if (body["contents"] is not JsonArray { Count: > 0 } contents)
        {
            return "* GenerateContentRequest.contents: contents is not specified";
        }

        foreach (var content in contents)
        {
            if ((string?)content?["role"] is not ("user" or "model"))
            {
                return "Please use a valid role: user, model.";
            }

            if (content!["parts"] is not JsonArray { Count: > 0 } parts)
            {
                return "* GenerateContentRequest.contents.parts: contents.parts must not be empty.";
            }

            foreach (var part in parts)
            {
                var kinds = part!.AsObject().Select(p => p.Key).Where(k => k is "text" or "inlineData" or "functionCall" or "functionResponse" or "fileData").Count();
                if (kinds != 1 || part.AsObject().Count != 1)
                {
                    return "* GenerateContentRequest.contents.parts.data: required oneof field 'data' must have one initialized field";
                }

                if (part["inlineData"] is { } inline && (inline["mimeType"] is null || inline["data"] is null))
                {
                    return "* inlineData needs mimeType and data";
                }
            }
        }

        if (body["tools"] is JsonArray tools && tools.Any(t => t?["functionDeclarations"] is not JsonArray))
        {
            return "* tools: functionDeclarations expected";
        }

        if (body["generationConfig"] is JsonObject config)
        {
            foreach (var (name, _) in config)
            {
                if (name is not ("temperature" or "topP" or "topK" or "maxOutputTokens" or "stopSequences" or "candidateCount" or "responseMimeType" or "responseSchema" or "seed" or "presencePenalty" or "frequencyPenalty"))
                {
                    return $"Invalid JSON payload received. Unknown name \"{name}\" at 'generation_config': Cannot find field.";
                }
            }
        }

        return null;
    }

    private static async Task<bool> RefusedAsync(HttpContext context)
    {
        var key = context.Request.Headers["x-goog-api-key"].ToString();
        if (key.Length == 0)
        {
            await ErrorAsync(context, 403, "PERMISSION_DENIED", "Method doesn't allow unregistered callers. Please use API Key or other form of API consumer identity to call this API.");
            return true;
        }

        if (key != Key)
        {
            await WriteJsonAsync(context, 400, new JsonObject
            {
                ["error"] = new JsonObject
                {
                    ["code"] = 400, ["message"] = "API key not valid. Please pass a valid API key.", ["status"] = "INVALID_ARGUMENT",
                    ["details"] = new JsonArray(new JsonObject { ["@type"] = "type.googleapis.com/google.rpc.ErrorInfo", ["reason"] = "API_KEY_INVALID", ["domain"] = "googleapis.com" }),
                },
            });
            return true;
        }

        return false;
    }

    private static async Task DataAsync(HttpContext context, JsonObject chunk)
    {
        await context.Response.WriteAsync($"data: {chunk.ToJsonString()}\r\n\r\n");
        await context.Response.Body.FlushAsync();
    }

    private static Task ErrorAsync(HttpContext context, int status, string code, string message) =>
        WriteJsonAsync(context, status, new JsonObject { ["error"] = new JsonObject { ["code"] = status, ["message"] = message, ["status"] = code } });

    private static async Task WriteJsonAsync(HttpContext context, int status, JsonObject body)
    {
        context.Response.StatusCode = status;
        context.Response.ContentType = "application/json; charset=UTF-8";
        await context.Response.WriteAsync(body.ToJsonString(), Encoding.UTF8);
    }
}
