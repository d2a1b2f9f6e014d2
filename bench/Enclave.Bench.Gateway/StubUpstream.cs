using System.IO.Pipelines;
using System.Net;
using System.Text.Json;
using Microsoft.AspNetCore.Builder;
using Microsoft.AspNetCore.Hosting;
using Microsoft.AspNetCore.Http;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Logging;

namespace Enclave.Bench.Gateway;

/// <summary>
/// The fast stub upstream: bare Kestrel (no routing, no logging, no middleware) that drains the request body and answers
/// <c>POST /v1/chat/completions</c> with <see cref="ChatRequest.Completion"/>, as little work as an HTTP/1.1 server can do.
/// A chat request that accepts <c>text/event-stream</c> (how the gateway asks for <c>stream: true</c>) gets
/// <see cref="ChatRequest.StreamEvents"/>, and <c>POST /v1/embeddings</c> gets <see cref="ChatRequest.Embeddings"/>, one fixed embedding per input (the
/// soak benchmark's mix and its datasets' ingestion).
/// </summary>
internal static class StubUpstream
{
    public static async Task<int> RunAsync(int port)
    {
        var app = BuildBareKestrel(port);
        app.Run(HandleAsync);
        await app.StartAsync().ConfigureAwait(false);
        await ChildControl.ServeUntilStdinClosesAsync(new ChildReady { Url = app.Urls.First() }, () => ChildStats.Take()).ConfigureAwait(false);
        await app.StopAsync().ConfigureAwait(false);
        await app.DisposeAsync().ConfigureAwait(false);
        return 0;
    }

    /// <summary>Kestrel alone on 127.0.0.1:<paramref name="port"/> (0: any free port), logging warnings to stderr.</summary>
    public static WebApplication BuildBareKestrel(int port)
    {
        var builder = WebApplication.CreateEmptyBuilder(new WebApplicationOptions());
        builder.Logging.AddSimpleConsole(o => o.SingleLine = true).SetMinimumLevel(LogLevel.Warning);
        builder.Services.Configure<Microsoft.Extensions.Logging.Console.ConsoleLoggerOptions>(o => o.LogToStandardErrorThreshold = LogLevel.Trace);
        builder.WebHost.UseKestrelCore().ConfigureKestrel(k =>
        {
            k.AddServerHeader = false;
            k.Listen(IPAddress.Loopback, port);
        });
        return builder.Build();
    }

    private static async Task HandleAsync(HttpContext http)
    {
        var request = http.Request;
        byte[] answer;
        var contentType = "application/json";
        if (HttpMethods.IsPost(request.Method) && request.Path.Equals(ChatRequest.Path, StringComparison.Ordinal))
        {
            await DrainAsync(request.BodyReader, http.RequestAborted).ConfigureAwait(false);
            if (AcceptsEventStream(request))
            {
                answer = ChatRequest.StreamEvents;
                contentType = "text/event-stream";
            }
            else
            {
                answer = ChatRequest.Completion;
            }
        }
        else if (HttpMethods.IsPost(request.Method) && request.Path.Equals(ChatRequest.EmbeddingsPath, StringComparison.Ordinal))
        {
            // One embedding per input, as a real server answers: a dataset's ingestion embeds its chunks in one request.
            using var body = await JsonDocument.ParseAsync(request.Body, cancellationToken: http.RequestAborted).ConfigureAwait(false);
            answer = ChatRequest.Embeddings(body.RootElement.TryGetProperty("input", out var input) && input.ValueKind == JsonValueKind.Array ? input.GetArrayLength() : 1);
        }
        else if (HttpMethods.IsGet(request.Method) && request.Path.Equals("/v1/models", StringComparison.Ordinal))
        {
            answer = ChatRequest.Models;
        }
        else
        {
            http.Response.StatusCode = StatusCodes.Status404NotFound;
            return;
        }

        http.Response.StatusCode = StatusCodes.Status200OK;
        http.Response.ContentType = contentType;
        http.Response.ContentLength = answer.Length;
        await http.Response.Body.WriteAsync(answer, http.RequestAborted).ConfigureAwait(false);
    }

    private static bool AcceptsEventStream(HttpRequest request)
    {
        foreach (var accept in request.Headers.Accept)
        {
            if (accept is not null && accept.Contains("text/event-stream", StringComparison.OrdinalIgnoreCase))
            {
                return true;
            }
        }

        return false;
    }

    private static async Task DrainAsync(PipeReader reader, CancellationToken cancellationToken)
    {
        while (true)
        {
            var result = await reader.ReadAsync(cancellationToken).ConfigureAwait(false);
            reader.AdvanceTo(result.Buffer.End);
            if (result.IsCompleted)
            {
                return;
            }
        }
    }
}
