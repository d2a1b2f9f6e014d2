using System.Collections.Concurrent;
using System.Globalization;
using System.Net;
using System.Security.Cryptography;
using System.Text;
using System.Text.Json.Nodes;
using Enclave.Inference.Upstream.Aws;
using Microsoft.AspNetCore.Builder;
using Microsoft.AspNetCore.Hosting;
using Microsoft.AspNetCore.Http;
using Microsoft.AspNetCore.Http.Features;
using Microsoft.Extensions.Logging;

namespace Enclave.Inference.Tests.Upstream;

/// <summary>What the Bedrock stub does to the next request.</summary>
public enum BedrockFault
{
    /// <summary>HTTP 429 with <c>x-amzn-ErrorType: ThrottlingException</c>.</summary>
    Throttled,

    /// <summary>A stream that sends messageStart and one delta, then a <c>throttlingException</c> exception message.</summary>
    StreamException,
}

/// <summary>
/// A Kestrel server on 127.0.0.1 that speaks Bedrock Runtime's Converse API as documented
/// (https://docs.aws.amazon.com/bedrock/latest/APIReference/API_runtime_Converse.html, ..._ConverseStream.html):
/// every request's AWS Signature Version 4 is verified as AWS does (the canonical request rebuilt from what arrived:
/// raw path, signed headers, the payload's SHA-256; the credential scope's date, region and service; a 5-minute clock
/// window), a bad one answered 403 <c>InvalidSignatureException</c>; answers are Converse responses, streams the
/// event-stream framing with CRCs.
/// </summary>
internal sealed class BedrockStub : IAsyncDisposable
{
    public const string AccessKeyId = "AKIDBEDROCKTEST";
    public const string SecretAccessKey = "bedrock/secret+key/EXAMPLE";
    public const string Region = "eu-west-3";
    public const string Model = "anthropic.claude-3-haiku-20240307-v1:0";

    private readonly WebApplication _app;

    private BedrockStub(WebApplication app) => _app = app;

    public string BaseUrl { get; private set; } = "";

    public ConcurrentQueue<BedrockFault> Faults { get; } = new();

    public ConcurrentQueue<(string RawTarget, JsonObject Body, string Authorization)> Received { get; } = new();

    /// <summary>Requests refused for their signature.</summary>
    public int SignatureFailures => _signatureFailures;

    public int Requests => _requests;

    private int _signatureFailures;
    private int _requests;

    /// <summary>PEM of the self-signed certificate (https only), to give the gateway as its CA.</summary>
    public string? CertificatePem { get; private set; }

    /// <summary>Starts on http, or on https with a fresh self-signed certificate for 127.0.0.1 (<see cref="StubHost"/>).</summary>
    public static async Task<BedrockStub> StartAsync(bool https = false)
    {
        var builder = StubHost.CreateBuilder(https, "bedrock.test", out var pem);
        var app = builder.Build();
        var stub = new BedrockStub(app) { CertificatePem = pem };
        app.MapPost("/model/{modelId}/converse", (HttpContext c, string modelId) => stub.ConverseAsync(c, modelId, stream: false));
        app.MapPost("/model/{modelId}/converse-stream", (HttpContext c, string modelId) => stub.ConverseAsync(c, modelId, stream: true));
        await app.StartAsync();
        stub.BaseUrl = app.Urls.Single();
        return stub;
    }

    public async ValueTask DisposeAsync()
    {
        await _app.StopAsync();
        await _app.DisposeAsync();
    }

    private async Task ConverseAsync(HttpContext context, string modelId, bool stream)
    {
        Interlocked.Increment(ref _requests);
        using var buffer = new MemoryStream();
        await context.Request.Body.CopyToAsync(buffer);
        var payload = buffer.ToArray();
        var rawTarget = context.Features.Get<IHttpRequestFeature>()!.RawTarget;
        if (VerifySignature(context, rawTarget, payload) is { } problem)
        {
            Interlocked.Increment(ref _signatureFailures);
            await ErrorAsync(context, 403, "InvalidSignatureException", problem);
            return;
        }

        if (modelId != Model)
        {
            await ErrorAsync(context, 404, "ResourceNotFoundException", "Could not resolve the foundation model from the provided model identifier.");
            return;
        }

        var body = JsonNode.Parse(payload)!.AsObject();
        if (body["messages"] is not JsonArray { Count: > 0 } messages || messages.Any(m => (string?)m!["role"] is not ("user" or "assistant") || m["content"] is not JsonArray))
        {
            await ErrorAsync(context, 400, "ValidationException", "messages: each message needs role user or assistant and a content array");
            return;
        }

        foreach (var (name, _) in body)
        {
            if (name is not ("messages" or "system" or "inferenceConfig" or "toolConfig" or "guardrailConfig" or "additionalModelRequestFields" or "additionalModelResponseFieldPaths" or "performanceConfig"))
            {
                await ErrorAsync(context, 400, "ValidationException", $"Malformed input request: extraneous key [{name}] is not permitted");
                return;
            }
        }

        Received.Enqueue((rawTarget, body, context.Request.Headers.Authorization.ToString()));
        var hasFault = Faults.TryDequeue(out var fault);
        if (hasFault && fault == BedrockFault.Throttled)
        {
            await ErrorAsync(context, 429, "ThrottlingException", "Too many requests, please wait before trying again.");
            return;
        }

        var last = messages[^1]!["content"]!.AsArray();
        var answersTool = last.Any(b => b!["toolResult"] is not null);
        var useTool = body["toolConfig"] is not null && !answersTool;
        var text = answersTool ? "It is sunny in Paris." : "Bedrock heard: " + string.Concat(last.Select(b => (string?)b!["text"]));
        if (useTool && body["toolConfig"]?["toolChoice"]?["tool"] is not null)
        {
            text = string.Empty; // a forced tool: the model answers with the tool use only
        }
        if (!stream)
        {
            var content = useTool
                ? new JsonArray(new JsonObject { ["toolUse"] = new JsonObject { ["toolUseId"] = "tooluse_1", ["name"] = ToolName(body), ["input"] = new JsonObject { ["city"] = "Paris" } } })
                : new JsonArray(new JsonObject { ["text"] = text });
            await WriteJsonAsync(context, 200, new JsonObject
            {
                ["output"] = new JsonObject { ["message"] = new JsonObject { ["role"] = "assistant", ["content"] = content } },
                ["stopReason"] = useTool ? "tool_use" : "end_turn",
                ["usage"] = new JsonObject { ["inputTokens"] = 21, ["outputTokens"] = 8, ["totalTokens"] = 29 },
                ["metrics"] = new JsonObject { ["latencyMs"] = 240 },
            });
            return;
        }

        context.Response.ContentType = "application/vnd.amazon.eventstream";
        await EventAsync(context, "messageStart", new JsonObject { ["role"] = "assistant" });
        var half = text.Length / 2;
        await EventAsync(context, "contentBlockDelta", new JsonObject { ["contentBlockIndex"] = 0, ["delta"] = new JsonObject { ["text"] = text[..half] } });
        if (hasFault && fault == BedrockFault.StreamException)
        {
            await context.Response.Body.WriteAsync(AwsEventStreamReader.Encode(
                [(":exception-type", "throttlingException"), (":content-type", "application/json"), (":message-type", "exception")],
                Encoding.UTF8.GetBytes("{\"message\":\"Too many tokens, please wait before trying again.\"}")));
            return;
        }

        await EventAsync(context, "contentBlockDelta", new JsonObject { ["contentBlockIndex"] = 0, ["delta"] = new JsonObject { ["text"] = text[half..] } });
        await EventAsync(context, "contentBlockStop", new JsonObject { ["contentBlockIndex"] = 0 });
        if (useTool)
        {
            await EventAsync(context, "contentBlockStart", new JsonObject { ["contentBlockIndex"] = 1, ["start"] = new JsonObject { ["toolUse"] = new JsonObject { ["toolUseId"] = "tooluse_2", ["name"] = ToolName(body) } } });
            await EventAsync(context, "contentBlockDelta", new JsonObject { ["contentBlockIndex"] = 1, ["delta"] = new JsonObject { ["toolUse"] = new JsonObject { ["input"] = "{\"city\":" } } });
            await EventAsync(context, "contentBlockDelta", new JsonObject { ["contentBlockIndex"] = 1, ["delta"] = new JsonObject { ["toolUse"] = new JsonObject { ["input"] = "\"Paris\"}" } } });
            await EventAsync(context, "contentBlockStop", new JsonObject { ["contentBlockIndex"] = 1 });
        }

        await EventAsync(context, "messageStop", new JsonObject { ["stopReason"] = useTool ? "tool_use" : "end_turn" });
        await EventAsync(context, "metadata", new JsonObject
        {
            ["usage"] = new JsonObject { ["inputTokens"] = 21, ["outputTokens"] = 8, ["totalTokens"] = 29 },
            ["metrics"] = new JsonObject { ["latencyMs"] = 240 },
        });
    }

    /// <summary>The server side of SigV4: null when the request's signature is the one its secret gives, else why not.</summary>
    private static string? VerifySignature(HttpContext context, string rawTarget, byte[] payload)
    {
        var authorization = context.Request.Headers.Authorization.ToString();
        const string Prefix = "AWS4-HMAC-SHA256 Credential=";
        if (!authorization.StartsWith(Prefix, StringComparison.Ordinal))
        {
            return "Authorization header requires 'Credential' parameter.";
        }

        var fields = authorization[Prefix.Length..].Split(", ");
        if (fields.Length != 3 || !fields[1].StartsWith("SignedHeaders=", StringComparison.Ordinal) || !fields[2].StartsWith("Signature=", StringComparison.Ordinal))
        {
            return "malformed Authorization header";
        }

        var scope = fields[0].Split('/');
        if (scope.Length != 5 || scope[0] != AccessKeyId || scope[2] != Region || scope[3] != "bedrock" || scope[4] != "aws4_request")
        {
            return "The security token included in the request is invalid (credential scope).";
        }

        var amzDate = context.Request.Headers["x-amz-date"].ToString();
        if (!DateTimeOffset.TryParseExact(amzDate, "yyyyMMdd'T'HHmmss'Z'", CultureInfo.InvariantCulture, DateTimeStyles.AssumeUniversal, out var signedAt)
            || scope[1] != amzDate[..8] || (DateTimeOffset.UtcNow - signedAt).Duration() > TimeSpan.FromMinutes(5))
        {
            return "Signature expired or x-amz-date missing.";
        }

        var payloadHash = Convert.ToHexStringLower(SHA256.HashData(payload));
        if (context.Request.Headers["x-amz-content-sha256"] != payloadHash)
        {
            return "The provided 'x-amz-content-sha256' header does not match what was computed.";
        }

        var signedHeaders = fields[1]["SignedHeaders=".Length..].Split(';');
        if (!signedHeaders.Contains("host") || !signedHeaders.Contains("x-amz-date"))
        {
            return "host and x-amz-date must be signed";
        }

        var headers = signedHeaders.ToDictionary(h => h, h => context.Request.Headers[h].ToString(), StringComparer.Ordinal);
        var expected = SigV4Signer.Authorization(
            context.Request.Method,
            new Uri($"http://{context.Request.Host}{rawTarget}"),
            headers,
            payloadHash,
            new AwsCredentials(AccessKeyId, SecretAccessKey, null),
            Region,
            "bedrock",
            amzDate);
        return CryptographicOperations.FixedTimeEquals(Encoding.ASCII.GetBytes(expected), Encoding.ASCII.GetBytes(authorization))
            ? null
            : "The request signature we calculated does not match the signature you provided.";
    }

    private static async Task EventAsync(HttpContext context, string type, JsonObject payload)
    {
        await context.Response.Body.WriteAsync(AwsEventStreamReader.Encode(
            [(":event-type", type), (":content-type", "application/json"), (":message-type", "event")],
            Encoding.UTF8.GetBytes(payload.ToJsonString())));
        await context.Response.Body.FlushAsync();
    }

    private static async Task ErrorAsync(HttpContext context, int status, string type, string message)
    {
        context.Response.Headers["x-amzn-ErrorType"] = type + ":http://internal.amazon.com/coral/com.amazon.bedrock/";
        await WriteJsonAsync(context, status, new JsonObject { ["message"] = message });
    }

    private static async Task WriteJsonAsync(HttpContext context, int status, JsonObject body)
    {
        context.Response.StatusCode = status;
        context.Response.ContentType = "application/json";
        await context.Response.WriteAsync(body.ToJsonString(), Encoding.UTF8);
    }

    /// <summary>The first tool of the request's toolConfig (the one the model "uses").</summary>
    private static string ToolName(JsonObject body) => (string?)body["toolConfig"]?["tools"]?[0]?["toolSpec"]?["name"] ?? "get_weather";
}
