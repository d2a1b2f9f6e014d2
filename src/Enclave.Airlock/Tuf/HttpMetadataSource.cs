using System.Net;

namespace Enclave.Airlock.Tuf;

/// <summary>
/// Fetches metadata from a TUF repository over HTTP(S): <c>BASE/N.root.json</c>, <c>BASE/timestamp.json</c>,
/// <c>BASE/snapshot.json</c> or <c>BASE/N.snapshot.json</c> (consistent snapshots), and the same for targets and
/// delegated roles, whose names are percent-encoded into one path segment. Reads at most the length the updater
/// allows (plus one byte, so that it can see a file is too long), within a per-file time limit.
/// 404 and 403 mean "the repository has no such file" (this is how the next root is found not to exist); other
/// statuses and network errors are <see cref="TufFetchException"/>s.
/// </summary>
public sealed class HttpMetadataSource : ITufMetadataSource, IDisposable
{
    private readonly Uri _baseUrl;
    private readonly HttpClient _client;
    private readonly bool _ownsClient;
    private readonly TimeSpan _timeout;
    private readonly List<(Uri Url, HttpStatusCode? Status)> _requests = [];

    /// <summary>
    /// Reads from <paramref name="metadataBaseUrl"/> (with or without a trailing slash), with its own
    /// <see cref="HttpClient"/> unless <paramref name="client"/> is given; <paramref name="timeout"/> bounds each
    /// file (default 30 s).
    /// </summary>
    public HttpMetadataSource(Uri metadataBaseUrl, HttpClient? client = null, TimeSpan? timeout = null)
    {
        ArgumentNullException.ThrowIfNull(metadataBaseUrl);
        _baseUrl = TufHttp.DirectoryUrl(metadataBaseUrl, nameof(metadataBaseUrl));
        _ownsClient = client is null;
        _client = client ?? TufHttp.CreateClient();
        _timeout = timeout ?? TimeSpan.FromSeconds(30);
        if (_timeout <= TimeSpan.Zero)
        {
            throw new ArgumentOutOfRangeException(nameof(timeout), "the timeout must be positive");
        }
    }

    /// <summary>Every URL fetched, in order, with the status it answered (for diagnostics and tests).</summary>
    public IReadOnlyList<(Uri Url, HttpStatusCode? Status)> Requests => _requests;

    /// <inheritdoc />
    public byte[]? Fetch(string role, int? version, long maxLength)
    {
        ArgumentNullException.ThrowIfNull(role);
        ArgumentOutOfRangeException.ThrowIfNegative(maxLength);
        var url = new Uri(_baseUrl, DirectoryMetadataSource.FileName(role, version));
        return FetchAsync(url, maxLength).GetAwaiter().GetResult();
    }

    /// <inheritdoc />
    public void Dispose()
    {
        if (_ownsClient)
        {
            _client.Dispose();
        }
    }

    private async Task<byte[]?> FetchAsync(Uri url, long maxLength)
    {
        using var cts = new CancellationTokenSource(_timeout);
        try
        {
            using var request = new HttpRequestMessage(HttpMethod.Get, url);
            using var response = await _client.SendAsync(request, HttpCompletionOption.ResponseHeadersRead, cts.Token).ConfigureAwait(false);
            _requests.Add((url, response.StatusCode));
            if (response.StatusCode is HttpStatusCode.NotFound or HttpStatusCode.Forbidden)
            {
                return null;
            }

            if (!response.IsSuccessStatusCode)
            {
                throw new TufFetchException($"{url} answered {(int)response.StatusCode} {response.ReasonPhrase}");
            }

            // Read at most maxLength + 1 bytes whatever Content-Length says: enough for the updater to reject a
            // file that is too long, never more.
            var limit = (int)Math.Min(checked(maxLength + 1), Array.MaxLength);
            var declared = response.Content.Headers.ContentLength;
            var buffer = new byte[declared is { } d && d >= 0 ? Math.Min(limit, d + 1) : Math.Min(limit, 64 * 1024)];
            var total = 0;
            await using var body = await response.Content.ReadAsStreamAsync(cts.Token).ConfigureAwait(false);
            while (total < limit)
            {
                if (total == buffer.Length)
                {
                    Array.Resize(ref buffer, (int)Math.Min(limit, (long)buffer.Length * 2));
                }

                var read = await body.ReadAsync(buffer.AsMemory(total, buffer.Length - total), cts.Token).ConfigureAwait(false);
                if (read == 0)
                {
                    break;
                }

                total += read;
            }

            return buffer.AsSpan(0, total).ToArray();
        }
        catch (OperationCanceledException e) when (cts.IsCancellationRequested)
        {
            _requests.Add((url, null));
            throw new TufFetchException($"{url} did not answer within {_timeout.TotalSeconds:0.#} s", e);
        }
        catch (HttpRequestException e)
        {
            _requests.Add((url, null));
            throw new TufFetchException($"{url} could not be fetched: {e.Message}", e);
        }
        catch (IOException e) when (e is not TufFetchException)
        {
            throw new TufFetchException($"{url} broke off while reading: {e.Message}", e);
        }
    }
}
