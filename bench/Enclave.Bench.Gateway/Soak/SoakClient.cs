using System.Net;
using System.Net.Http.Headers;
using System.Text;
using System.Text.RegularExpressions;

namespace Enclave.Bench.Gateway.Soak;

/// <summary>
/// Sends one request of each <see cref="SoakKind"/> to the soak gateway and says whether its answer was the one expected:
/// 200 with a chat completion, an event stream that ends in <c>data: [DONE]</c>, an embedding, a checkpoint note, the
/// import list, the usage CSV; for the quota-limited user 200 or, deliberately, 429. Keep-alive connections from one
/// pool for the API keys, and a second client holding the console session cookie for the usage export; each pool holds
/// at most <c>connections</c> connections (the saturation run's concurrency), so that the open loop drives the gateway
/// over the same connections as the closed loop that measured its saturation: a request that finds them all busy waits
/// in the client for one (its wait counts in its latency) instead of opening one more connection to the gateway, and
/// one more from the gateway to the stub.
/// </summary>
internal sealed partial class SoakClient : IDisposable
{
    private static readonly MediaTypeHeaderValue Json = new("application/json");
    private static readonly byte[] ChatBody = Encoding.UTF8.GetBytes(ChatRequest.Body);
    private static readonly byte[] StreamBody = Encoding.UTF8.GetBytes(ChatRequest.StreamBody);
    private static readonly byte[] EmbeddingBody = Encoding.UTF8.GetBytes(ChatRequest.EmbeddingBody);

    private readonly HttpClient _http;
    private readonly HttpClient _console;
    private readonly AuthenticationHeaderValue _admin;
    private readonly AuthenticationHeaderValue _limited;
    private long _adminTurn;

    private SoakClient(Uri baseUrl, string adminKey, string limitedKey, HttpClient console, int connections)
    {
        _admin = new AuthenticationHeaderValue("Bearer", adminKey);
        _limited = new AuthenticationHeaderValue("Bearer", limitedKey);
        _http = new HttpClient(Handler(cookies: null, connections)) { BaseAddress = baseUrl, Timeout = TimeSpan.FromSeconds(30) };
        _console = console;
    }

    /// <summary>The admin reads in the order <see cref="SoakKind.Admin"/> takes them.</summary>
    public static IReadOnlyList<string> AdminReads { get; } = ["/admin/v1/ledger/checkpoint", "/admin/v1/airlock/imports", "/console/usage.csv?range=hour&by=model"];

    /// <summary>
    /// A client for the gateway at <paramref name="baseUrl"/>, signed in to the console with the admin key, with at most
    /// <paramref name="connections"/> connections in each of its two pools.
    /// </summary>
    public static async Task<SoakClient> CreateAsync(Uri baseUrl, string adminKey, string limitedKey, int connections)
    {
        ArgumentNullException.ThrowIfNull(baseUrl);
        ArgumentOutOfRangeException.ThrowIfNegativeOrZero(connections);
        var cookies = new CookieContainer();
        var console = new HttpClient(Handler(cookies, connections)) { BaseAddress = baseUrl, Timeout = TimeSpan.FromSeconds(30) };
        try
        {
            await SignInAsync(console, cookies, baseUrl, adminKey).ConfigureAwait(false);
            return new SoakClient(baseUrl, adminKey, limitedKey, console, connections);
        }
        catch
        {
            console.Dispose();
            throw;
        }
    }

    /// <summary>Sends one request of <paramref name="kind"/> (not <see cref="SoakKind.Import"/>) and checks its answer.</summary>
    public async Task<(SoakOutcome Outcome, string? Error)> SendAsync(SoakKind kind)
    {
        try
        {
            return kind switch
            {
                SoakKind.Chat => await PostAsync(ChatRequest.Path, ChatBody, _admin, stream: false, quota: false).ConfigureAwait(false),
                SoakKind.Stream => await PostAsync(ChatRequest.Path, StreamBody, _admin, stream: true, quota: false).ConfigureAwait(false),
                SoakKind.Embeddings => await PostAsync(ChatRequest.EmbeddingsPath, EmbeddingBody, _admin, stream: false, quota: false).ConfigureAwait(false),
                SoakKind.OverQuota => await PostAsync(ChatRequest.Path, ChatBody, _limited, stream: false, quota: true).ConfigureAwait(false),
                SoakKind.Admin => await AdminReadAsync((int)(Interlocked.Increment(ref _adminTurn) % AdminReads.Count)).ConfigureAwait(false),
                _ => throw new ArgumentOutOfRangeException(nameof(kind), kind, "imports go through SoakImports"),
            };
        }
        catch (HttpRequestException e)
        {
            return (SoakOutcome.Error, $"{kind}: {e.GetType().Name}: {e.Message}");
        }
        catch (TaskCanceledException)
        {
            return (SoakOutcome.Error, $"{kind}: no answer within 30 s");
        }
    }

    public void Dispose()
    {
        _http.Dispose();
        _console.Dispose();
    }

    private static SocketsHttpHandler Handler(CookieContainer? cookies, int connections) => new()
    {
        MaxConnectionsPerServer = connections,
        UseProxy = false,
        AllowAutoRedirect = false,
        UseCookies = cookies is not null,
        CookieContainer = cookies ?? new CookieContainer(),
        AutomaticDecompression = DecompressionMethods.None,
        PooledConnectionIdleTimeout = TimeSpan.FromMinutes(5),
        PooledConnectionLifetime = Timeout.InfiniteTimeSpan,
    };

    // The console's sign-in form (static server rendering): its hidden fields (the antiforgery token, the form name)
    // and the key, posted back with the antiforgery cookie; the answer sets the session cookie.
    private static async Task SignInAsync(HttpClient console, CookieContainer cookies, Uri baseUrl, string key)
    {
        var page = await console.GetStringAsync(new Uri(baseUrl, "/console/signin")).ConfigureAwait(false);
        var fields = new List<KeyValuePair<string, string>>();
        foreach (Match input in HiddenInput().Matches(page))
        {
            var tag = input.Value;
            if (Attribute("name", tag) is { } name && Attribute("value", tag) is { } value)
            {
                fields.Add(new(WebUtility.HtmlDecode(name), WebUtility.HtmlDecode(value)));
            }
        }

        fields.Add(new("Key", key));
        using var form = new FormUrlEncodedContent(fields);
        using var answer = await console.PostAsync(new Uri(baseUrl, "/console/signin"), form).ConfigureAwait(false);
        if (cookies.GetCookies(new Uri(baseUrl, "/console/")).All(c => c.Name != "enclave-console"))
        {
            throw new InvalidOperationException($"signing in to the console with the admin key failed: {(int)answer.StatusCode}, no session cookie (hidden fields found: {string.Join(", ", fields.Select(f => f.Key))})");
        }

        static string? Attribute(string name, string tag) =>
            Regex.Match(tag, "\\b" + name + "=\"([^\"]*)\"", RegexOptions.CultureInvariant) is { Success: true } m ? m.Groups[1].Value : null;
    }

    [GeneratedRegex("""<input\b[^>]*\btype="hidden"[^>]*>""", RegexOptions.CultureInvariant)]
    private static partial Regex HiddenInput();

    private async Task<(SoakOutcome, string?)> PostAsync(string path, byte[] body, AuthenticationHeaderValue key, bool stream, bool quota)
    {
        using var request = new HttpRequestMessage(HttpMethod.Post, path) { Content = new ByteArrayContent(body) };
        request.Content.Headers.ContentType = Json;
        request.Headers.Authorization = key;
        using var response = await _http.SendAsync(request, HttpCompletionOption.ResponseHeadersRead).ConfigureAwait(false);
        var text = await response.Content.ReadAsStringAsync().ConfigureAwait(false);
        var kind = quota ? SoakKind.OverQuota : stream ? SoakKind.Stream : path == ChatRequest.EmbeddingsPath ? SoakKind.Embeddings : SoakKind.Chat;
        if (quota && response.StatusCode == HttpStatusCode.TooManyRequests)
        {
            return (SoakOutcome.Refused, null);
        }

        if (response.StatusCode != HttpStatusCode.OK)
        {
            return (SoakOutcome.Error, $"{kind}: {(int)response.StatusCode} {Shorten(text)}");
        }

        if (stream && (response.Content.Headers.ContentType?.MediaType != "text/event-stream" || !text.TrimEnd().EndsWith("data: [DONE]", StringComparison.Ordinal)))
        {
            return (SoakOutcome.Error, $"{kind}: 200 but not an event stream ending in data: [DONE] ({response.Content.Headers.ContentType}): {Shorten(text)}");
        }

        return (SoakOutcome.Ok, null);
    }

    private async Task<(SoakOutcome, string?)> AdminReadAsync(int which)
    {
        var path = AdminReads[which];
        var console = path.StartsWith("/console/", StringComparison.Ordinal);
        using var request = new HttpRequestMessage(HttpMethod.Get, path);
        if (!console)
        {
            request.Headers.Authorization = _admin;
        }

        using var response = await (console ? _console : _http).SendAsync(request, HttpCompletionOption.ResponseHeadersRead).ConfigureAwait(false);
        var text = await response.Content.ReadAsStringAsync().ConfigureAwait(false);
        if (response.StatusCode != HttpStatusCode.OK)
        {
            return (SoakOutcome.Error, $"GET {path}: {(int)response.StatusCode} {Shorten(text)}");
        }

        if (console && response.Content.Headers.ContentType?.MediaType != "text/csv")
        {
            return (SoakOutcome.Error, $"GET {path}: 200 but {response.Content.Headers.ContentType}, not text/csv");
        }

        return (SoakOutcome.Ok, null);
    }

    private static string Shorten(string text) => text.Length <= 200 ? text.ReplaceLineEndings(" ") : text[..200].ReplaceLineEndings(" ") + "…";
}
