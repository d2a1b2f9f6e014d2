using System.Collections.Concurrent;
using System.Formats.Tar;
using Microsoft.AspNetCore.Builder;
using Microsoft.AspNetCore.Hosting;
using Microsoft.AspNetCore.Hosting.Server.Features;
using Microsoft.AspNetCore.Http;
using Microsoft.AspNetCore.Http.Features;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Logging;

namespace Enclave.Airlock.Tests.Import;

/// <summary>
/// A TUF repository mirror over real HTTP (Kestrel on loopback): <c>/metadata/FILE</c> and <c>/targets/PATH</c>,
/// filled from bundles the production writer created (their metadata entries and target entries). A test replaces
/// files to play an attacker who controls the mirror.
/// </summary>
internal sealed class MirrorServer : IAsyncDisposable
{
    private readonly WebApplication _app;

    private MirrorServer(WebApplication app, Uri baseUrl)
    {
        _app = app;
        BaseUrl = baseUrl;
    }

    public Uri BaseUrl { get; }

    /// <summary>What is served, by path under the base URL (<c>metadata/timestamp.json</c>, <c>targets/KIND/NAME/VERSION/FILE</c>).</summary>
    public ConcurrentDictionary<string, byte[]> Files { get; } = new(StringComparer.Ordinal);

    /// <summary>Paths requested (unescaped, without the leading slash), in order.</summary>
    public ConcurrentQueue<string> Requests { get; } = new();

    public static async Task<MirrorServer> StartAsync()
    {
        var builder = WebApplication.CreateSlimBuilder();
        builder.WebHost.UseUrls("http://127.0.0.1:0");
        builder.Logging.ClearProviders();
        var app = builder.Build();
        MirrorServer? server = null;
        app.Run(context => server!.HandleAsync(context));
        await app.StartAsync();
        var address = app.Services.GetRequiredService<Microsoft.AspNetCore.Hosting.Server.IServer>().Features.Get<IServerAddressesFeature>()!.Addresses.First();
        server = new MirrorServer(app, new Uri(address.TrimEnd('/') + "/"));
        return server;
    }

    /// <summary>Serves what <paramref name="bundle"/> carries: its metadata (not the selector) and its targets, replacing files of the same name.</summary>
    public void Publish(string bundle)
    {
        using var reader = new TarReader(File.OpenRead(bundle));
        while (reader.GetNextEntry() is { } entry)
        {
            if (entry.Name == "metadata/bundle.json")
            {
                continue;
            }

            using var content = new MemoryStream();
            entry.DataStream?.CopyTo(content);
            Files[entry.Name] = content.ToArray();
        }
    }

    public async ValueTask DisposeAsync()
    {
        await _app.StopAsync();
        await _app.DisposeAsync();
    }

    private async Task HandleAsync(HttpContext context)
    {
        var raw = context.Features.Get<IHttpRequestFeature>()!.RawTarget;
        var path = Uri.UnescapeDataString(raw.TrimStart('/'));
        Requests.Enqueue(path);
        if (!Files.TryGetValue(path, out var body))
        {
            context.Response.StatusCode = StatusCodes.Status404NotFound;
            return;
        }

        context.Response.ContentLength = body.Length;
        await context.Response.Body.WriteAsync(body);
    }
}
