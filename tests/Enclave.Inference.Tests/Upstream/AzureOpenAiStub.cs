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

/// <summary>
/// A Kestrel server on 127.0.0.1 that speaks the Azure OpenAI data-plane API as documented
/// (https://learn.microsoft.com/azure/ai-services/openai/reference): <c>POST /openai/deployments/{deployment}/chat/completions?api-version=</c>
/// with the <c>api-key</c> header; 404 without api-version or for an unknown deployment, 401 for a wrong key, 429 with
/// <c>retry-after</c>; answers carry the model version and <c>prompt_filter_results</c>, streams begin with the
/// prompt-filter chunk (no choices) and end with <c>data: [DONE]</c>.
/// </summary>
internal sealed class AzureOpenAiStub : IAsyncDisposable
{
    public const string Key = "azure-test-key";
    public const string Deployment = "gpt4o-prod";
    public const string ModelVersion = "gpt-4o-2024-08-06";

    /// <summary>The client id and secret the stub's Entra token endpoint accepts.</summary>
    public const string ClientId = "enclave-gateway";
    public const string ClientSecret = "entra-client-secret";
    public const string TokenPath = "/tenant-1/oauth2/v2.0/token";

    private readonly WebApplication _app;
    private int _issued;

    private AzureOpenAiStub(WebApplication app) => _app = app;

    public string BaseUrl { get; private set; } = "";

    /// <summary>Entra access tokens the data plane accepts as <c>Authorization: Bearer</c> (tokens the endpoint issued are added).</summary>
    public ConcurrentDictionary<string, bool> AcceptedTokens { get; } = new(StringComparer.Ordinal);

    /// <summary>How many tokens the token endpoint issued.</summary>
    public int TokensIssued => Volatile.Read(ref _issued);

    /// <summary>The lifetime (<c>expires_in</c>, seconds) of the tokens the endpoint issues.</summary>
    public int TokenLifetimeSeconds { get; set; } = 3600;

    /// <summary>The forms the token endpoint received.</summary>
    public ConcurrentQueue<IReadOnlyDictionary<string, string>> TokenRequests { get; } = new();

    /// <summary>The next request answers 429 with <c>retry-after</c> this many seconds.</summary>
    public ConcurrentQueue<int> RateLimits { get; } = new();

    public ConcurrentQueue<(string Path, string Query, JsonObject Body, string? ApiKey, string? Authorization)> Received { get; } = new();

    /// <summary>PEM of the self-signed certificate (https only), to give the gateway as its CA.</summary>
    public string? CertificatePem { get; private set; }

    /// <summary>Starts on http, or on https with a fresh self-signed certificate for 127.0.0.1 (<see cref="StubHost"/>).</summary>
    public static async Task<AzureOpenAiStub> StartAsync(bool https = false)
    {
        var builder = StubHost.CreateBuilder(https, "azure.test", out var pem);
        var app = builder.Build();
        var stub = new AzureOpenAiStub(app) { CertificatePem = pem };
        app.MapPost("/openai/deployments/{deployment}/chat/completions", stub.ChatAsync);
        app.MapGet("/openai/models", stub.ModelsAsync);
        app.MapPost(TokenPath, stub.TokenAsync);
        await app.StartAsync();
        stub.BaseUrl = app.Urls.Single();
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

        await WriteJsonAsync(context, 200, new JsonObject { ["data"] = new JsonArray(new JsonObject { ["id"] = ModelVersion }), ["object"] = "list" });
    }

    private async Task ChatAsync(HttpContext context, string deployment)
    {
        if (await RefusedAsync(context))
        {
            return;
        }

        if (deployment != Deployment)
        {
            await ErrorAsync(context, 404, "DeploymentNotFound", "The API deployment for this resource does not exist.");
            return;
        }

        var body = JsonNode.Parse(await new StreamReader(context.Request.Body).ReadToEndAsync())!.AsObject();
        Received.Enqueue((context.Request.Path, context.Request.QueryString.Value ?? "", body, context.Request.Headers["api-key"], context.Request.Headers.Authorization));
        if (RateLimits.TryDequeue(out var seconds))
        {
            context.Response.Headers["retry-after"] = seconds.ToString(System.Globalization.CultureInfo.InvariantCulture);
            await ErrorAsync(context, 429, "429", $"Requests to the ChatCompletions_Create Operation under Azure OpenAI API have exceeded call rate limit. Please retry after {seconds} seconds.");
            return;
        }

        var text = "Azure heard: " + (string?)body["messages"]!.AsArray()[^1]!["content"];
        var filter = new JsonArray(new JsonObject { ["prompt_index"] = 0, ["content_filter_results"] = new JsonObject() });
        if (body["stream"] is JsonValue s && s.GetValue<bool>())
        {
            context.Response.ContentType = "text/event-stream";
            await DataAsync(context, new JsonObject { ["id"] = "", ["object"] = "", ["created"] = 0, ["model"] = "", ["choices"] = new JsonArray(), ["prompt_filter_results"] = filter });
            var half = text.Length / 2;
            foreach (var piece in new[] { text[..half], text[half..] })
            {
                await DataAsync(context, Chunk(new JsonObject { ["content"] = piece }, null));
            }

            await DataAsync(context, Chunk(new JsonObject(), "stop"));
            if (body["stream_options"]?["include_usage"] is JsonValue u && u.GetValue<bool>())
            {
                var usage = Chunk(null, null);
                usage["usage"] = new JsonObject { ["prompt_tokens"] = 9, ["completion_tokens"] = 4, ["total_tokens"] = 13 };
                await DataAsync(context, usage);
            }

            await context.Response.WriteAsync("data: [DONE]\n\n");
            return;
        }

        await WriteJsonAsync(context, 200, new JsonObject
        {
            ["id"] = "chatcmpl-azure1",
            ["object"] = "chat.completion",
            ["created"] = 1733400000,
            ["model"] = ModelVersion,
            ["prompt_filter_results"] = filter,
            ["choices"] = new JsonArray(new JsonObject
            {
                ["index"] = 0,
                ["finish_reason"] = "stop",
                ["message"] = new JsonObject { ["role"] = "assistant", ["content"] = text },
                ["content_filter_results"] = new JsonObject(),
            }),
            ["usage"] = new JsonObject { ["prompt_tokens"] = 9, ["completion_tokens"] = 4, ["total_tokens"] = 13 },
        });
    }

    private static JsonObject Chunk(JsonObject? delta, string? finish) => new()
    {
        ["id"] = "chatcmpl-azure2",
        ["object"] = "chat.completion.chunk",
        ["created"] = 1733400000,
        ["model"] = ModelVersion,
        ["choices"] = delta is null ? new JsonArray() : new JsonArray(new JsonObject { ["index"] = 0, ["delta"] = delta, ["finish_reason"] = finish }),
    };

    private static async Task DataAsync(HttpContext context, JsonObject chunk)
    {
        await context.Response.WriteAsync($"data: {chunk.ToJsonString()}\n\n");
        await context.Response.Body.FlushAsync();
    }

    /// <summary>
    /// The Microsoft identity platform's token endpoint for the client-credentials grant (form-encoded
    /// <c>grant_type</c>, <c>client_id</c>, <c>client_secret</c>, <c>scope</c>): a token, or 401 <c>invalid_client</c>.
    /// </summary>
    private async Task TokenAsync(HttpContext context)
    {
        var form = await context.Request.ReadFormAsync();
        var fields = form.ToDictionary(f => f.Key, f => f.Value.ToString(), StringComparer.Ordinal);
        TokenRequests.Enqueue(fields);
        if (fields.GetValueOrDefault("grant_type") != "client_credentials")
        {
            await WriteJsonAsync(context, 400, new JsonObject { ["error"] = "unsupported_grant_type", ["error_description"] = "AADSTS70003" });
            return;
        }

        if (fields.GetValueOrDefault("client_id") != ClientId || fields.GetValueOrDefault("client_secret") != ClientSecret)
        {
            await WriteJsonAsync(context, 401, new JsonObject { ["error"] = "invalid_client", ["error_description"] = "AADSTS7000215: Invalid client secret provided." });
            return;
        }

        var token = "entra-token-" + Interlocked.Increment(ref _issued).ToString(System.Globalization.CultureInfo.InvariantCulture);
        AcceptedTokens[token] = true;
        await WriteJsonAsync(context, 200, new JsonObject { ["token_type"] = "Bearer", ["expires_in"] = TokenLifetimeSeconds, ["ext_expires_in"] = TokenLifetimeSeconds, ["access_token"] = token });
    }

    private async Task<bool> RefusedAsync(HttpContext context)
    {
        if (string.IsNullOrEmpty(context.Request.Query["api-version"]))
        {
            await ErrorAsync(context, 404, "404", "Resource not found");
            return true;
        }

        var authorization = context.Request.Headers.Authorization.ToString();
        if (authorization.StartsWith("Bearer ", StringComparison.Ordinal))
        {
            if (AcceptedTokens.ContainsKey(authorization["Bearer ".Length..]))
            {
                return false;
            }

            await ErrorAsync(context, 401, "401", "Unauthorized. Access token is missing, invalid, audience is incorrect, or have expired.");
            return true;
        }

        if (context.Request.Headers["api-key"] != Key)
        {
            await ErrorAsync(context, 401, "401", "Access denied due to invalid subscription key or wrong API endpoint.");
            return true;
        }

        return false;
    }

    private static Task ErrorAsync(HttpContext context, int status, string code, string message) =>
        WriteJsonAsync(context, status, new JsonObject { ["error"] = new JsonObject { ["code"] = code, ["message"] = message } });

    private static async Task WriteJsonAsync(HttpContext context, int status, JsonObject body)
    {
        context.Response.StatusCode = status;
        context.Response.ContentType = "application/json";
        await context.Response.WriteAsync(body.ToJsonString(), Encoding.UTF8);
    }
}
