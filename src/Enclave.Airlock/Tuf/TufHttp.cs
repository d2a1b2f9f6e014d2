using System.Net;

namespace Enclave.Airlock.Tuf;

/// <summary>HTTP plumbing shared by <see cref="HttpMetadataSource"/> and <see cref="HttpTargetDownloader"/>.</summary>
internal static class TufHttp
{
    /// <summary>A client for repository reads: no automatic decompression (lengths are of the bytes served), a few redirects, no overall timeout (callers bound each read).</summary>
    public static HttpClient CreateClient() => new(new SocketsHttpHandler
    {
        AutomaticDecompression = DecompressionMethods.None,
        AllowAutoRedirect = true,
        MaxAutomaticRedirections = 5,
        ConnectTimeout = TimeSpan.FromSeconds(15),
        PooledConnectionLifetime = TimeSpan.FromMinutes(5),
    })
    {
        Timeout = Timeout.InfiniteTimeSpan,
    };

    /// <summary><paramref name="url"/> as an absolute http(s) URL ending in '/', so that file names resolve beneath it.</summary>
    public static Uri DirectoryUrl(Uri url, string parameter)
    {
        if (!url.IsAbsoluteUri || (url.Scheme != Uri.UriSchemeHttp && url.Scheme != Uri.UriSchemeHttps))
        {
            throw new ArgumentException($"{url} is not an absolute http or https URL", parameter);
        }

        if (!string.IsNullOrEmpty(url.Query) || !string.IsNullOrEmpty(url.Fragment))
        {
            throw new ArgumentException($"{url} must not have a query or fragment", parameter);
        }

        return url.AbsoluteUri.EndsWith('/') ? url : new Uri(url.AbsoluteUri + "/");
    }
}
