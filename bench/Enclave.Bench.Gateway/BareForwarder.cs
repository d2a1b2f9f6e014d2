using System.Net;
using System.Net.Http.Headers;
using Microsoft.AspNetCore.Builder;
using Microsoft.AspNetCore.Http;

namespace Enclave.Bench.Gateway;

/// <summary>
/// The reference hop: bare Kestrel that copies the request body to the upstream with one pooled
/// <see cref="SocketsHttpHandler"/> (configured as the enclave's upstream handler is) and copies the answer back. No
/// authentication, no ledger, no JSON. The difference between it and the stub is what any .NET reverse proxy costs
/// on this machine; the difference between the gateway and it is the enclave's own work.
/// </summary>
internal static class BareForwarder
{
    private const int MaxBodyBytes = 4 * 1024 * 1024;

    public static async Task<int> RunAsync(int port, Uri upstream)
    {
        using var invoker = new HttpMessageInvoker(new SocketsHttpHandler
        {
            UseProxy = false,
            AllowAutoRedirect = false,
            UseCookies = false,
            AutomaticDecompression = DecompressionMethods.None,
            PooledConnectionLifetime = TimeSpan.FromMinutes(5),
            PooledConnectionIdleTimeout = TimeSpan.FromMinutes(1),
        });
        var chat = new Uri(upstream, ChatRequest.Path);
        var app = StubUpstream.BuildBareKestrel(port);
        app.Run(http => ForwardAsync(http, invoker, chat));
        await app.StartAsync().ConfigureAwait(false);
        await ChildControl.ServeUntilStdinClosesAsync(new ChildReady { Url = app.Urls.First() }, () => ChildStats.Take()).ConfigureAwait(false);
        await app.StopAsync().ConfigureAwait(false);
        await app.DisposeAsync().ConfigureAwait(false);
        return 0;
    }

    private static async Task ForwardAsync(HttpContext http, HttpMessageInvoker invoker, Uri chat)
    {
        if (!HttpMethods.IsPost(http.Request.Method) || !http.Request.Path.Equals(ChatRequest.Path, StringComparison.Ordinal))
        {
            http.Response.StatusCode = StatusCodes.Status404NotFound;
            return;
        }

        using var body = new MemoryStream();
        await http.Request.Body.CopyToAsync(body, http.RequestAborted).ConfigureAwait(false);
        if (body.Length > MaxBodyBytes)
        {
            http.Response.StatusCode = StatusCodes.Status413PayloadTooLarge;
            return;
        }

        using var request = new HttpRequestMessage(HttpMethod.Post, chat)
        {
            Content = new ByteArrayContent(body.GetBuffer(), 0, (int)body.Length),
        };
        request.Content.Headers.ContentType = new MediaTypeHeaderValue("application/json");
        using var response = await invoker.SendAsync(request, http.RequestAborted).ConfigureAwait(false);
        var answer = await response.Content.ReadAsByteArrayAsync(http.RequestAborted).ConfigureAwait(false);
        http.Response.StatusCode = (int)response.StatusCode;
        http.Response.ContentType = response.Content.Headers.ContentType?.ToString() ?? "application/json";
        http.Response.ContentLength = answer.Length;
        await http.Response.Body.WriteAsync(answer, http.RequestAborted).ConfigureAwait(false);
    }
}
