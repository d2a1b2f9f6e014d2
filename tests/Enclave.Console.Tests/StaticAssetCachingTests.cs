using System.Net;
using System.Net.Http.Headers;
using System.Security.Cryptography;
using Enclave.OperatorConsole.Hosting;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Playwright;

namespace Enclave.OperatorConsole.Tests;

/// <summary>
/// How browsers may cache what the console serves: its static files, linked by the pages at their version, are cached
/// for a year as immutable; the same files without their version are revalidated (ETag, 304); the pages, which carry
/// classified data, and the refusals are never stored.
/// </summary>
public sealed class StaticAssetCachingTests(ConsoleFixture enclave) : IClassFixture<ConsoleFixture>
{
    [Fact]
    public async Task TheFilesThePagesLink_AreImmutableAtTheirVersion_AndThePagesAreNoStore()
    {
        await using var context = await enclave.NewContextAsync();
        var page = await ConsoleFixture.SignInAsync(context, enclave.AdminKey);
        var linked = new HashSet<string>(StringComparer.Ordinal);
        foreach (var path in ConsoleTestPages.All)
        {
            var response = await page.GotoAsync(path);
            var headers = await response!.AllHeadersAsync();
            AssertNoStore(headers["cache-control"], path);
            Assert.Equal(ConsoleEndpoints.ContentSecurityPolicy, headers["content-security-policy"]);
            linked.UnionWith(await page.Locator("script[src]").EvaluateAllAsync<string[]>("s => s.map(e => e.getAttribute('src'))"));
            linked.UnionWith(await page.Locator("link[rel=stylesheet]").EvaluateAllAsync<string[]>("s => s.map(e => e.getAttribute('href'))"));
        }

        // The pages link the stylesheets, the upload's script, Blazor's and its start-up at their versions (the
        // playground's only once a model is served: its link as the page would make it).
        Assert.Superset(
            new HashSet<string>(["airlock-upload.js", "banner.css", "blazor-web.js", "console.css", "live.js"]),
            linked.Select(l => l[(ConsoleEndpoints.Prefix.Length + 1)..l.IndexOf('?', StringComparison.Ordinal)]).ToHashSet());
        var assets = enclave.Services.GetRequiredService<ConsoleAssets>();
        linked.UnionWith(assets.Names.Select(assets.Url));
        using var http = new HttpClient { BaseAddress = new Uri(enclave.BaseUrl) };
        foreach (var url in linked)
        {
            Assert.Matches("^/console/[a-z-]+\\.(js|css)\\?v=[0-9a-f]{16}$", url);
            using var response = await http.GetAsync(url);
            Assert.Equal(HttpStatusCode.OK, response.StatusCode);
            Assert.Equal("public, max-age=31536000, immutable", response.Headers.CacheControl!.ToString());
            // The version is the content's: another build's file has another URL.
            var content = await response.Content.ReadAsByteArrayAsync();
            Assert.EndsWith("?v=" + Convert.ToHexStringLower(SHA256.HashData(content))[..16], url, StringComparison.Ordinal);
            Assert.Equal(ConsoleEndpoints.ContentSecurityPolicy, string.Join(' ', response.Headers.GetValues("Content-Security-Policy")));
            Assert.Equal("nosniff", string.Join(' ', response.Headers.GetValues("X-Content-Type-Options")));
        }
    }

    [Theory]
    [InlineData("/console/console.css")]
    [InlineData("/console/banner.css")]
    [InlineData("/console/live.js")]
    [InlineData("/console/blazor-web.js")]
    [InlineData("/console/console.css?v=0000000000000000")]
    public async Task AFileWithoutItsCurrentVersion_IsRevalidated_WithItsETag_NeverImmutable(string url)
    {
        using var http = new HttpClient { BaseAddress = new Uri(enclave.BaseUrl) };
        using var response = await http.GetAsync(url);
        Assert.Equal(HttpStatusCode.OK, response.StatusCode);
        Assert.Equal("no-cache", response.Headers.CacheControl!.ToString());
        var etag = response.Headers.ETag;
        Assert.NotNull(etag);
        Assert.False(etag.IsWeak);

        using var again = new HttpRequestMessage(HttpMethod.Get, url);
        again.Headers.IfNoneMatch.Add(etag);
        using var revalidated = await http.SendAsync(again);
        Assert.Equal(HttpStatusCode.NotModified, revalidated.StatusCode);
        Assert.Empty(await revalidated.Content.ReadAsByteArrayAsync());

        using var stale = new HttpRequestMessage(HttpMethod.Get, url);
        stale.Headers.IfNoneMatch.Add(new EntityTagHeaderValue("\"0123456789abcdef\""));
        using var changed = await http.SendAsync(stale);
        Assert.Equal(HttpStatusCode.OK, changed.StatusCode);
        Assert.NotEmpty(await changed.Content.ReadAsByteArrayAsync());
    }

    [Fact]
    public async Task Refusals_AndUnknownPaths_AreNoStore()
    {
        using var http = new HttpClient(new HttpClientHandler { AllowAutoRedirect = false }) { BaseAddress = new Uri(enclave.BaseUrl) };
        foreach (var url in new[] { "/console", "/console/audit", "/console/signin", "/console/no-such-file.js", "/console/usage.csv" })
        {
            using var response = await http.GetAsync(url);
            AssertNoStore(response.Headers.CacheControl!.ToString(), url);
        }
    }

    /// <summary>Never stored (antiforgery and authentication add their own <c>no-cache</c> or <c>max-age=0</c> beside it), never long-cached.</summary>
    private static void AssertNoStore(string cacheControl, string url)
    {
        var parsed = CacheControlHeaderValue.Parse(cacheControl);
        Assert.True(parsed.NoStore, $"{url}: Cache-Control {cacheControl}");
        Assert.True(parsed.MaxAge is null || parsed.MaxAge == TimeSpan.Zero, $"{url}: Cache-Control {cacheControl}");
        Assert.DoesNotContain("immutable", cacheControl, StringComparison.Ordinal);
        Assert.False(parsed.Public, $"{url}: Cache-Control {cacheControl}");
    }
}
