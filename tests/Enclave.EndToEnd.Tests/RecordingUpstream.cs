using System.Net;
using System.Security.Cryptography;
using System.Security.Cryptography.X509Certificates;
using System.Text;
using System.Text.Json.Nodes;
using Microsoft.AspNetCore.Builder;
using Microsoft.AspNetCore.Hosting;
using Microsoft.AspNetCore.Http;
using Microsoft.Extensions.Logging;

namespace Enclave.EndToEnd.Tests;

/// <summary>
/// A real OpenAI-compatible server on loopback (http, or https with a self-signed certificate) that records the exact
/// bytes of every request it receives, so tests assert on what actually reached it. It echoes the last message, or
/// answers 500 while <see cref="Failing"/> is set.
/// </summary>
internal sealed class RecordingUpstream : IAsyncDisposable
{
    private readonly WebApplication _app;
    private readonly List<byte[]> _received = [];

    private RecordingUpstream(WebApplication app) => _app = app;

    public string BaseUrl { get; private set; } = string.Empty;

    /// <summary>PEM of the self-signed certificate (https only), to give the gateway as its CA.</summary>
    public string? CertificatePem { get; private set; }

    /// <summary>While true, every request is answered 500 (after being recorded).</summary>
    public bool Failing { get; set; }

    /// <summary>When set, a streamed answer ends with one more chunk carrying this as its <c>usage</c> (whatever its shape).</summary>
    public JsonObject? StreamUsage { get; set; }

    /// <summary>Every request body received, in order, as the bytes on the wire.</summary>
    public IReadOnlyList<byte[]> Received
    {
        get
        {
            lock (_received)
            {
                return [.. _received];
            }
        }
    }

    public IReadOnlyList<string> ReceivedText => [.. Received.Select(b => Encoding.UTF8.GetString(b))];

    public static async Task<RecordingUpstream> StartAsync(bool https)
    {
        var builder = WebApplication.CreateSlimBuilder();
        builder.Logging.ClearProviders();
        X509Certificate2? certificate = null;
        if (https)
        {
            using var key = ECDsa.Create(ECCurve.NamedCurves.nistP256);
            var request = new CertificateRequest("CN=cloud.test", key, HashAlgorithmName.SHA256);
            var san = new SubjectAlternativeNameBuilder();
            san.AddIpAddress(IPAddress.Loopback);
            san.AddDnsName("localhost");
            request.CertificateExtensions.Add(san.Build());
            request.CertificateExtensions.Add(new X509BasicConstraintsExtension(certificateAuthority: true, hasPathLengthConstraint: false, 0, critical: true));
            certificate = request.CreateSelfSigned(DateTimeOffset.UtcNow.AddDays(-1), DateTimeOffset.UtcNow.AddDays(1));
            builder.WebHost.UseKestrelHttpsConfiguration();
            var serverCertificate = certificate;
            builder.WebHost.ConfigureKestrel(k => k.ConfigureHttpsDefaults(h => h.ServerCertificate = serverCertificate));
        }

        builder.WebHost.UseUrls(https ? "https://127.0.0.1:0" : "http://127.0.0.1:0");
        var app = builder.Build();
        var upstream = new RecordingUpstream(app) { CertificatePem = certificate?.ExportCertificatePem() };
        app.MapPost("/v1/chat/completions", upstream.ChatAsync);
        app.MapPost("/v1/embeddings", upstream.EmbeddingsAsync);
        app.MapGet("/v1/models", () => Results.Json(new JsonObject { ["object"] = "list", ["data"] = new JsonArray() }));
        await app.StartAsync();
        upstream.BaseUrl = app.Urls.First() + "/v1";
        return upstream;
    }

    public void Clear()
    {
        lock (_received)
        {
            _received.Clear();
        }
    }

    private async Task<byte[]> RecordAsync(HttpContext http)
    {
        using var buffer = new MemoryStream();
        await http.Request.Body.CopyToAsync(buffer);
        var bytes = buffer.ToArray();
        lock (_received)
        {
            _received.Add(bytes);
        }

        return bytes;
    }

    private async Task ChatAsync(HttpContext http)
    {
        var bytes = await RecordAsync(http);
        if (Failing)
        {
            http.Response.StatusCode = 500;
            await http.Response.WriteAsJsonAsync(new JsonObject { ["error"] = new JsonObject { ["message"] = "engine crashed", ["type"] = "server_error", ["param"] = null, ["code"] = null } });
            return;
        }

        var request = JsonNode.Parse(bytes)!.AsObject();
        var last = request["messages"]!.AsArray()[^1]!["content"]!.GetValue<string>();
        if (request["stream"] is JsonValue stream && stream.GetValue<bool>())
        {
            // The echo in two chunks, then the end.
            http.Response.ContentType = "text/event-stream";
            foreach (var (delta, finish) in new[] { (new JsonObject { ["role"] = "assistant", ["content"] = "echo: " }, (string?)null), (new JsonObject { ["content"] = last }, "stop") })
            {
                var chunk = new JsonObject
                {
                    ["id"] = "chatcmpl-rec",
                    ["object"] = "chat.completion.chunk",
                    ["created"] = 1_700_000_000,
                    ["model"] = request["model"]!.GetValue<string>(),
                    ["choices"] = new JsonArray(new JsonObject { ["index"] = 0, ["delta"] = delta, ["finish_reason"] = finish }),
                };
                await http.Response.WriteAsync("data: " + chunk.ToJsonString() + "\n\n");
            }

            if (StreamUsage is { } usage)
            {
                var usageChunk = new JsonObject { ["id"] = "chatcmpl-rec", ["object"] = "chat.completion.chunk", ["created"] = 1_700_000_000, ["choices"] = new JsonArray(), ["usage"] = usage.DeepClone() };
                await http.Response.WriteAsync("data: " + usageChunk.ToJsonString() + "\n\n");
            }

            await http.Response.WriteAsync("data: [DONE]\n\n");
            return;
        }

        await http.Response.WriteAsJsonAsync(new JsonObject
        {
            ["id"] = "chatcmpl-rec",
            ["object"] = "chat.completion",
            ["created"] = 1_700_000_000,
            ["model"] = request["model"]!.GetValue<string>(),
            ["choices"] = new JsonArray(new JsonObject
            {
                ["index"] = 0,
                ["message"] = new JsonObject { ["role"] = "assistant", ["content"] = "echo: " + last },
                ["finish_reason"] = "stop",
            }),
            ["usage"] = new JsonObject { ["prompt_tokens"] = 10, ["completion_tokens"] = 5, ["total_tokens"] = 15 },
        });
    }

    private async Task EmbeddingsAsync(HttpContext http)
    {
        var body = await RecordAsync(http);
        // One vector per input, a function of its text (the same as the vLLM stub's), so a search for a chunk's own text finds it first.
        var request = JsonNode.Parse(body)!.AsObject();
        var inputs = request["input"] is JsonArray array ? array.Select(i => i!.GetValue<string>()).ToArray() : [request["input"]!.GetValue<string>()];
        await http.Response.WriteAsJsonAsync(new JsonObject
        {
            ["object"] = "list",
            ["data"] = new JsonArray([.. inputs.Select((text, i) => (JsonNode)new JsonObject
            {
                ["object"] = "embedding",
                ["index"] = i,
                ["embedding"] = new JsonArray([.. VllmStub.Vector(text).Select(v => (JsonNode)v)]),
            })]),
            ["model"] = "e",
            ["usage"] = new JsonObject { ["prompt_tokens"] = 3, ["total_tokens"] = 3 },
        });
    }

    public async ValueTask DisposeAsync()
    {
        await _app.StopAsync();
        await _app.DisposeAsync();
    }
}
