using System.CommandLine;
using System.Net;
using System.Net.Http.Headers;
using System.Net.Http.Json;
using System.Security.Cryptography.X509Certificates;
using System.Text.Json;
using System.Text.Json.Nodes;

namespace Enclave.Cli.Admin;

/// <summary>
/// Calls the enclave's admin API (<c>/admin/v1</c>) for the CLI's admin commands, so that every change is
/// authenticated, authorised and recorded by the server, the single writer of enclave state.
/// The server comes from <c>--server</c> or <c>ENCLAVE_SERVER</c> (default <c>http://127.0.0.1:8080</c>); the API key
/// from <c>ENCLAVE_API_KEY</c> or <c>--api-key-file</c> (never a command-line value: other users see process lists).
/// </summary>
public sealed class AdminApiClient : IDisposable
{
    public const string ServerVariable = "ENCLAVE_SERVER";
    public const string ApiKeyVariable = "ENCLAVE_API_KEY";
    public const string DefaultServer = "http://127.0.0.1:8080";

    private readonly HttpClient _http;

    public AdminApiClient(Uri server, string apiKey, X509Certificate2? trustedCertificate = null, HttpMessageHandler? handler = null)
    {
        ArgumentNullException.ThrowIfNull(server);
        ArgumentException.ThrowIfNullOrWhiteSpace(apiKey);
        if (handler is null)
        {
            var sockets = new SocketsHttpHandler { UseProxy = false };
            if (trustedCertificate is not null)
            {
                sockets.SslOptions.RemoteCertificateValidationCallback = (_, certificate, chain, errors) =>
                    errors == System.Net.Security.SslPolicyErrors.None
                    || (certificate is not null && chain is not null && ChainsTo(certificate, trustedCertificate));
            }

            handler = sockets;
        }

        _http = new HttpClient(handler) { BaseAddress = new Uri(server, "/admin/v1/"), Timeout = TimeSpan.FromMinutes(30) };
        _http.DefaultRequestHeaders.Authorization = new AuthenticationHeaderValue("Bearer", apiKey.Trim());
        Server = server;
    }

    /// <summary>The server's base URL.</summary>
    public Uri Server { get; }

    /// <summary>GET <paramref name="path"/> (relative to <c>/admin/v1/</c>) and return the JSON body.</summary>
    public Task<JsonNode?> GetAsync(string path, CancellationToken ct = default) => SendAsync(HttpMethod.Get, path, null, ct);

    /// <summary>POST a JSON body and return the JSON answer (null for 204).</summary>
    public Task<JsonNode?> PostAsync(string path, JsonNode? body, CancellationToken ct = default) => SendAsync(HttpMethod.Post, path, body is null ? null : JsonContent.Create(body), ct);

    /// <summary>POST a stream (e.g. a bundle file) and return the JSON answer.</summary>
    public Task<JsonNode?> PostStreamAsync(string path, Stream body, string contentType, CancellationToken ct = default)
    {
        var content = new StreamContent(body);
        content.Headers.ContentType = new MediaTypeHeaderValue(contentType);
        return SendAsync(HttpMethod.Post, path, content, ct);
    }

    /// <summary>DELETE <paramref name="path"/> and return the JSON answer (null for 204).</summary>
    public Task<JsonNode?> PatchAsync(string path, JsonNode body, CancellationToken ct = default) => SendAsync(HttpMethod.Patch, path, JsonContent.Create(body), ct);

    public Task<JsonNode?> DeleteAsync(string path, CancellationToken ct = default) => SendAsync(HttpMethod.Delete, path, null, ct);

    private async Task<JsonNode?> SendAsync(HttpMethod method, string path, HttpContent? content, CancellationToken ct)
    {
        using var request = new HttpRequestMessage(method, path.TrimStart('/')) { Content = content };
        HttpResponseMessage response;
        try
        {
            response = await _http.SendAsync(request, HttpCompletionOption.ResponseHeadersRead, ct).ConfigureAwait(false);
        }
        catch (HttpRequestException ex)
        {
            throw new AdminApiException(0, "Server unreachable", $"cannot reach the enclave at {Server}: {ex.Message} (is `enclave serve` running? set --server or {ServerVariable})");
        }

        using (response)
        {
            var text = await response.Content.ReadAsStringAsync(ct).ConfigureAwait(false);
            if (response.IsSuccessStatusCode)
            {
                return text.Length == 0 ? null : JsonNode.Parse(text);
            }

            string? title = null, detail = null;
            try
            {
                if (text.Length > 0 && JsonNode.Parse(text) is JsonObject problem)
                {
                    title = problem["title"]?.GetValue<string>();
                    detail = problem["detail"]?.GetValue<string>();
                }
            }
            catch (JsonException)
            {
                detail = text.Length > 500 ? text[..500] : text;
            }

            throw new AdminApiException((int)response.StatusCode, title ?? response.ReasonPhrase ?? "Error", detail ?? $"the server answered {(int)response.StatusCode}");
        }
    }

    private static bool ChainsTo(X509Certificate certificate, X509Certificate2 trusted)
    {
        using var leaf = new X509Certificate2(certificate);
        using var chain = new X509Chain();
        chain.ChainPolicy.TrustMode = X509ChainTrustMode.CustomRootTrust;
        chain.ChainPolicy.CustomTrustStore.Add(trusted);
        chain.ChainPolicy.RevocationMode = X509RevocationMode.NoCheck;
        return chain.Build(leaf);
    }

    public void Dispose() => _http.Dispose();
}

/// <summary>
/// The admin API refused or failed a call; <see cref="Status"/> is the HTTP status (0: unreachable), which
/// <see cref="ExitCodeTable.ForStatus"/> turns into the exit code.
/// </summary>
public sealed class AdminApiException(int status, string title, string detail) : Exception($"{title}: {detail}")
{
    public int Status { get; } = status;
    public string Title { get; } = title;
    public string Detail { get; } = detail;

}

/// <summary>The <c>--server</c>, <c>--api-key-file</c> and <c>--ca-cert</c> options every admin command takes.</summary>
public sealed class AdminConnectionOptions
{
    public Option<string> Server { get; } = new("--server") { Description = $"The enclave's URL (default: ${AdminApiClient.ServerVariable} or {AdminApiClient.DefaultServer})." };

    public Option<string> ApiKeyFile { get; } = new("--api-key-file") { Description = $"A file holding the API key (default: ${AdminApiClient.ApiKeyVariable})." };

    public Option<string> CaCertificate { get; } = new("--ca-cert") { Description = "PEM certificate to trust for an https server with a private CA or a self-signed certificate." };

    /// <summary>Adds the options to <paramref name="command"/>.</summary>
    public void AddTo(Command command)
    {
        ArgumentNullException.ThrowIfNull(command);
        command.Options.Add(Server);
        command.Options.Add(ApiKeyFile);
        command.Options.Add(CaCertificate);
    }

    /// <summary>A client for the parsed options and environment; throws <see cref="ArgumentException"/> when no key is given.</summary>
    public AdminApiClient CreateClient(ParseResult result)
    {
        ArgumentNullException.ThrowIfNull(result);
        var server = result.GetValue(Server) ?? Environment.GetEnvironmentVariable(AdminApiClient.ServerVariable) ?? AdminApiClient.DefaultServer;
        if (!Uri.TryCreate(server, UriKind.Absolute, out var uri) || (uri.Scheme != Uri.UriSchemeHttp && uri.Scheme != Uri.UriSchemeHttps))
        {
            throw new ArgumentException($"--server must be an http:// or https:// URL, not '{server}'");
        }

        var key = result.GetValue(ApiKeyFile) is { } file ? File.ReadAllText(file).Trim() : Environment.GetEnvironmentVariable(AdminApiClient.ApiKeyVariable);
        if (string.IsNullOrWhiteSpace(key))
        {
            throw new ArgumentException($"no API key: set {AdminApiClient.ApiKeyVariable} or pass --api-key-file FILE");
        }

        var ca = result.GetValue(CaCertificate) is { } pem ? X509Certificate2.CreateFromPemFile(pem) : null;
        return new AdminApiClient(uri, key, ca);
    }
}
