using System.Security.Cryptography;
using System.Text;
using Enclave.Policy.Labels;
using Microsoft.AspNetCore.Http;
using Microsoft.Net.Http.Headers;

namespace Enclave.OperatorConsole.Hosting;

/// <summary>
/// The console's static files (its stylesheet, its scripts and Blazor's, all embedded in the assembly and served by the
/// enclave itself) and how browsers may cache them. The pages link each file with its <b>version</b>, the first 16 hex
/// digits of the SHA-256 of its content (<c>/console/console.css?v=0123456789abcdef</c>): a request with the current
/// version is answered <see cref="ImmutableCacheControl"/> (a browser keeps it a year and never asks again; a new
/// build's content has a new version, so a new URL), a request without it, or with another (a page of an older build
/// during an upgrade), is answered <see cref="RevalidateCacheControl"/> (kept, but checked with its <c>ETag</c> before
/// each use: a 304 when unchanged). The banner's stylesheet is made from the configuration and the label scheme, and its
/// version from its content each time. Pages and everything else under <c>/console</c> stay <c>no-store</c>: they carry
/// classified data.
/// </summary>
public sealed class ConsoleAssets
{
    /// <summary>The answer to a request for a file at its current version: cached for a year, never revalidated.</summary>
    public const string ImmutableCacheControl = "public, max-age=31536000, immutable";

    /// <summary>The answer to a request for a file without its current version: cached, revalidated before each use.</summary>
    public const string RevalidateCacheControl = "no-cache";

    /// <summary>The query parameter that carries a file's version.</summary>
    public const string VersionParameter = "v";

    private readonly Dictionary<string, Asset> _files = new(StringComparer.Ordinal);

    /// <summary>Reads the embedded files once.</summary>
    public ConsoleAssets()
    {
        Add("console.css", "Enclave.Console.console.css", "text/css; charset=utf-8");
        Add("playground.js", "Enclave.Console.playground.js", "text/javascript; charset=utf-8");
        Add("airlock-upload.js", "Enclave.Console.airlock-upload.js", "text/javascript; charset=utf-8");
        Add("blazor-web.js", "Enclave.Console.blazor.web.js", "text/javascript; charset=utf-8");
        Add("live.js", "Enclave.Console.live.js", "text/javascript; charset=utf-8");
    }

    /// <summary>The embedded files by name (<c>console.css</c> is served at <c>/console/console.css</c>).</summary>
    public IEnumerable<string> Names => _files.Keys;

    /// <summary>The URL a page links <paramref name="name"/> with: its path and its current version.</summary>
    public string Url(string name) => Link(name, _files[name].Version);

    /// <summary>The URL a page links the banner's stylesheet with (its version from the stylesheet it is now).</summary>
    public static string BannerUrl(LabelScheme scheme, ConsoleOptions options) => Link("banner.css", VersionOf(Encoding.UTF8.GetBytes(ClassificationBanner.Css(scheme, options))));

    /// <summary>The version of <paramref name="content"/>: the first 16 hex digits of its SHA-256.</summary>
    public static string VersionOf(ReadOnlySpan<byte> content) => Convert.ToHexStringLower(SHA256.HashData(content))[..16];

    /// <summary>Answers a request for the embedded file <paramref name="name"/> (see the class for its caching).</summary>
    public IResult Serve(HttpContext http, string name)
    {
        var file = _files[name];
        return Serve(http, file.Content, file.ContentType, file.Version);
    }

    /// <summary>Answers a request for the banner's stylesheet as it is now.</summary>
    public static IResult ServeBanner(HttpContext http, LabelScheme scheme, ConsoleOptions options)
    {
        var content = Encoding.UTF8.GetBytes(ClassificationBanner.Css(scheme, options));
        return Serve(http, content, "text/css; charset=utf-8", VersionOf(content));
    }

    private static IResult Serve(HttpContext http, byte[] content, string contentType, string version)
    {
        ArgumentNullException.ThrowIfNull(http);
        var asked = http.Request.Query[VersionParameter];
        // Only the exact current version is immutable; the console's headers said no-store until here.
        http.Response.Headers.CacheControl = asked.Count == 1 && string.Equals(asked[0], version, StringComparison.Ordinal)
            ? ImmutableCacheControl
            : RevalidateCacheControl;
        return Results.Bytes(content, contentType, entityTag: new EntityTagHeaderValue("\"" + version + "\""));
    }

    private static string Link(string name, string version) => $"{ConsoleEndpoints.Prefix}/{name}?{VersionParameter}={version}";

    private void Add(string name, string resource, string contentType)
    {
        using var stream = typeof(ConsoleAssets).Assembly.GetManifestResourceStream(resource)
            ?? throw new InvalidOperationException($"the console's resource {resource} is missing from the assembly");
        using var buffer = new MemoryStream();
        stream.CopyTo(buffer);
        var content = buffer.ToArray();
        _files.Add(name, new Asset(content, contentType, VersionOf(content)));
    }

    private sealed record Asset(byte[] Content, string ContentType, string Version);
}
