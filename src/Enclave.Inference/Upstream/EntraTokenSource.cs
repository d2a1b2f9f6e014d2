using System.Net.Http.Headers;
using System.Text.Json;
using System.Text.Json.Nodes;
using Enclave.Inference.Backends;

namespace Enclave.Inference.Upstream;

/// <summary>
/// Microsoft Entra ID access tokens for an Azure OpenAI backend by the OAuth 2.0 client-credentials grant against the
/// configured token endpoint (<see cref="UpstreamBackendOptions.EntraTokenEndpoint"/>, inside the enclave), sent
/// through the backend's own HTTP handler (its CA, no proxy, no redirects). A token is kept until five minutes before
/// it expires; one request at a time fetches the next. The client secret comes from <see cref="UpstreamCredential"/>
/// (so a rotated secret file takes effect without a restart) and, like the token, is never logged.
/// </summary>
internal sealed class EntraTokenSource(UpstreamBackendOptions options, UpstreamCredential secret, HttpMessageInvoker http, TimeProvider time) : IDisposable
{
    /// <summary>How long before its expiry a token is replaced.</summary>
    public static readonly TimeSpan RefreshMargin = TimeSpan.FromMinutes(5);

    private const int MaxBodyBytes = 64 * 1024;
    private readonly SemaphoreSlim _gate = new(1, 1);
    private string? _token;
    private DateTimeOffset _expires;

    /// <summary>A token valid for at least <see cref="RefreshMargin"/> more, fetched when the one kept is not.</summary>
    /// <exception cref="BackendException">502: the token endpoint could not be reached, refused, or answered without a token.</exception>
    public async ValueTask<string> TokenAsync(CancellationToken cancellationToken)
    {
        if (Fresh() is { } token)
        {
            return token;
        }

        await _gate.WaitAsync(cancellationToken).ConfigureAwait(false);
        try
        {
            if (Fresh() is { } fetched)
            {
                return fetched;
            }

            var (value, lifetime) = await FetchAsync(cancellationToken).ConfigureAwait(false);
            _token = value;
            _expires = time.GetUtcNow() + lifetime;
            return value;
        }
        finally
        {
            _gate.Release();
        }
    }

    private string? Fresh() => _token is { } token && time.GetUtcNow() < _expires - RefreshMargin ? token : null;

    private async Task<(string Token, TimeSpan Lifetime)> FetchAsync(CancellationToken cancellationToken)
    {
        using var request = new HttpRequestMessage(HttpMethod.Post, options.EntraTokenEndpoint)
        {
            Content = new FormUrlEncodedContent(
            [
                new("grant_type", "client_credentials"),
                new("client_id", options.EntraClientId!),
                new("client_secret", secret.Current()),
                new("scope", options.EntraScope),
            ]),
        };
        request.Headers.Accept.Add(new MediaTypeWithQualityHeaderValue("application/json"));
        HttpResponseMessage response;
        try
        {
            response = await http.SendAsync(request, cancellationToken).ConfigureAwait(false);
        }
        catch (HttpRequestException e)
        {
            throw Failed($"could not be reached ({e.Message})", e);
        }

        using (response)
        {
            JsonObject? body;
            try
            {
                var bytes = await ReadBoundedAsync(response.Content, cancellationToken).ConfigureAwait(false);
                body = UpstreamJson.ParseObject(bytes);
            }
            catch (JsonException e)
            {
                throw Failed($"answered HTTP {(int)response.StatusCode} with a body that is not a JSON object", e);
            }

            if (!response.IsSuccessStatusCode)
            {
                // OAuth's error code (invalid_client, unauthorized_client...) says what to fix; the description may echo
                // request details and is not passed on.
                var code = VendorTranslation.String(body["error"]) is { } error ? $" ({UpstreamErrors.Sanitize(error)})" : string.Empty;
                throw Failed($"refused the client-credentials grant with HTTP {(int)response.StatusCode}{code}", null);
            }

            if (VendorTranslation.String(body["access_token"]) is not { Length: > 0 } token)
            {
                throw Failed("answered without an access_token", null);
            }

            var seconds = body["expires_in"] switch
            {
                JsonValue v when v.TryGetValue<long>(out var n) => n,
                JsonValue v when v.TryGetValue<string>(out var text) && long.TryParse(text, System.Globalization.NumberStyles.None, System.Globalization.CultureInfo.InvariantCulture, out var n) => n,
                _ => 0,
            };
            if (seconds <= 0)
            {
                throw Failed("answered without a positive expires_in", null);
            }

            return (token, TimeSpan.FromSeconds(Math.Min(seconds, (long)TimeSpan.FromDays(1).TotalSeconds)));
        }
    }

    private static async Task<byte[]> ReadBoundedAsync(HttpContent content, CancellationToken cancellationToken)
    {
        await using var stream = await content.ReadAsStreamAsync(cancellationToken).ConfigureAwait(false);
        var buffer = new MemoryStream();
        var chunk = new byte[8192];
        int read;
        while ((read = await stream.ReadAsync(chunk, cancellationToken).ConfigureAwait(false)) > 0)
        {
            if (buffer.Length + read > MaxBodyBytes)
            {
                throw new JsonException($"the token response is larger than {MaxBodyBytes} bytes");
            }

            buffer.Write(chunk, 0, read);
        }

        return buffer.ToArray();
    }

    private BackendException Failed(string what, Exception? inner) =>
        new(502, "upstream_authentication_error", $"upstream backend '{options.Name}': its Entra token endpoint {what}; no request was sent to the backend", null, inner);

    public void Dispose() => _gate.Dispose();
}
