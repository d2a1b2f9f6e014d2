using System.Collections.Concurrent;
using Enclave.Core;
using Microsoft.AspNetCore.Builder;
using Microsoft.AspNetCore.Hosting;
using Microsoft.AspNetCore.Hosting.Server.Features;
using Microsoft.AspNetCore.Http;
using Microsoft.AspNetCore.Http.Features;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Logging;

namespace Enclave.Airlock.Tests.Tuf;

/// <summary>
/// Serves a <see cref="TufTestRepository"/> over real HTTP (Kestrel on a loopback port), laid out as the
/// tuf-conformance simulator lays out its repository: <c>/metadata/FILE</c> and <c>/targets/PATH</c>, with
/// <c>/targets/DIR/HASH.NAME</c> under consistent snapshots (the hash must be one the metadata lists, as the
/// simulator checks). Records every request's raw path, and lets a test replace what is served.
/// </summary>
internal sealed class HttpRepositoryServer : IAsyncDisposable
{
    private readonly WebApplication _app;

    private HttpRepositoryServer(WebApplication app, TufTestRepository repo, Uri baseUrl)
    {
        _app = app;
        Repo = repo;
        BaseUrl = baseUrl;
    }

    public TufTestRepository Repo { get; }

    public Uri BaseUrl { get; }

    /// <summary>The metadata URL without a trailing slash, as the conformance suite passes it.</summary>
    public string MetadataUrl => BaseUrl + "metadata";

    public string TargetsUrl => BaseUrl + "targets";

    /// <summary>Raw request targets (path as sent, percent-encoding intact), in order.</summary>
    public ConcurrentQueue<string> Requests { get; } = new();

    /// <summary>Metadata file names requested (raw, under /metadata/), in order.</summary>
    public List<string> MetadataRequests => Requests.Where(r => r.StartsWith("/metadata/", StringComparison.Ordinal)).Select(r => r["/metadata/".Length..]).ToList();

    /// <summary>Target request paths (raw, under /targets/), in order.</summary>
    public List<string> TargetRequests => Requests.Where(r => r.StartsWith("/targets/", StringComparison.Ordinal)).Select(r => r["/targets/".Length..]).ToList();

    /// <summary>Bytes served for a target path instead of the content its metadata lists (a tampering repository).</summary>
    public ConcurrentDictionary<string, byte[]> ArtifactOverrides { get; } = new(StringComparer.Ordinal);

    /// <summary>Runs first for every request; returns true when it has answered.</summary>
    public Func<HttpContext, Task<bool>>? Intercept { get; set; }

    public static async Task<HttpRepositoryServer> StartAsync(TufTestRepository repo)
    {
        var builder = WebApplication.CreateSlimBuilder();
        builder.WebHost.UseUrls("http://127.0.0.1:0");
        builder.Logging.ClearProviders();
        var app = builder.Build();
        HttpRepositoryServer? server = null;
        app.Run(context => server!.HandleAsync(context));
        await app.StartAsync();
        var address = app.Services.GetRequiredService<Microsoft.AspNetCore.Hosting.Server.IServer>().Features.Get<IServerAddressesFeature>()!.Addresses.First();
        server = new HttpRepositoryServer(app, repo, new Uri(address.TrimEnd('/') + "/"));
        return server;
    }

    public async ValueTask DisposeAsync()
    {
        await _app.StopAsync();
        await _app.DisposeAsync();
    }

    private async Task HandleAsync(HttpContext context)
    {
        var raw = context.Features.Get<IHttpRequestFeature>()!.RawTarget;
        Requests.Enqueue(raw);
        if (Intercept is { } intercept && await intercept(context))
        {
            return;
        }

        byte[]? body = null;
        if (raw.StartsWith("/metadata/", StringComparison.Ordinal))
        {
            // The repository stores delegated roles under their plain names; requests carry them percent-encoded.
            var name = Uri.UnescapeDataString(raw["/metadata/".Length..]);
            body = Repo.Source.Files.GetValueOrDefault(name);
        }
        else if (raw.StartsWith("/targets/", StringComparison.Ordinal))
        {
            body = Target(Uri.UnescapeDataString(raw["/targets/".Length..]));
        }

        if (body is null)
        {
            context.Response.StatusCode = StatusCodes.Status404NotFound;
            return;
        }

        context.Response.ContentLength = body.Length;
        await context.Response.Body.WriteAsync(body);
    }

    private byte[]? Target(string requested)
    {
        var path = requested;
        string? prefix = null;
        if (Repo.ConsistentSnapshot)
        {
            var slash = requested.LastIndexOf('/');
            var file = requested[(slash + 1)..];
            var dot = file.IndexOf('.', StringComparison.Ordinal);
            if (dot < 0)
            {
                return null;
            }

            prefix = file[..dot];
            path = requested[..(slash + 1)] + file[(dot + 1)..];
        }

        var listed = Repo.Targets.GetValueOrDefault(path) ?? Repo.Delegations.Select(d => d.Targets.GetValueOrDefault(path)).FirstOrDefault(t => t is not null);
        if (listed is null || (prefix is not null && prefix != Sha256Digest.Compute(listed).ToHex()))
        {
            return null;
        }

        return ArtifactOverrides.GetValueOrDefault(path) ?? listed;
    }
}
