using System.Net;
using System.Net.Http.Headers;
using System.Net.Security;
using System.Security.Cryptography.X509Certificates;
using System.Runtime.CompilerServices;
using System.Text.Json;
using System.Text.Json.Nodes;
using Enclave.Inference.Backends;

namespace Enclave.Inference.Upstream;

/// <summary>
/// An upstream engine over HTTP(S). With <see cref="UpstreamBackendOptions.Kind"/> <c>openai</c> (the default) it
/// speaks the OpenAI API: vLLM, llama.cpp server, Ollama, Foundry Local, OpenAI; bodies pass through unchanged (tool
/// calls, response formats, logprobs...), except that the <c>stream</c> field is set by the call made; a request the
/// gateway did not change goes out as the client's own bytes (<see cref="InferenceRequest.ClientBytes"/>) when its
/// <c>stream</c> field is already what the call needs. Other kinds
/// (<c>azure-openai</c>, <c>anthropic</c>) are cloud vendors whose protocol an <see cref="UpstreamDialect"/>
/// translates to and from the OpenAI API; the transport below (bounds, timeouts, TLS, errors) is the same for all.
/// </summary>
/// <remarks>
/// <para>
/// The key: a key read from a file (<c>file:PATH</c>) is re-read when the file changes, so a rotated key takes effect
/// without a restart.
/// </para>
/// <para>
/// Errors are <see cref="BackendException"/>s: the upstream's status and OpenAI error object (401/403 from the upstream
/// become 502, since they concern this gateway's key, not the client's); a connection failure or a broken body is 502,
/// a timeout 504. <see cref="BackendException.RetryAfter"/> carries the upstream's <c>Retry-After</c>.
/// </para>
/// <para>
/// Streams: each <c>data:</c> event is parsed and yielded as soon as it arrives; <c>data: [DONE]</c> ends the stream.
/// A stream that ends without <c>[DONE]</c>, breaks, or goes silent for <see cref="UpstreamBackendOptions.Timeout"/>
/// fails with a <see cref="BackendException"/>. Before the first chunk that exception means "nothing was produced"
/// and may be retried (status 502/504). After the first chunk its <see cref="BackendException.ErrorType"/> is
/// <c>stream_interrupted</c> and its message says how many chunks were passed on: the partial answer already reached
/// the caller, so the request must not be retried (the router never does), whatever
/// <see cref="BackendException.Retryable"/> says of the status code.
/// </para>
/// <para>
/// Bounds: a non-streaming body above <see cref="UpstreamBackendOptions.MaxResponseBytes"/> and an event-stream line
/// or event above <see cref="UpstreamBackendOptions.MaxSseLineBytes"/> fail with 502 without being buffered; JSON is
/// limited to depth 64 and duplicate keys are refused. The handler never uses a proxy from the environment
/// (<c>HTTP_PROXY</c>), never follows redirects and keeps no cookies.
/// </para>
/// </remarks>
public sealed class OpenAiUpstreamBackend : IInferenceBackend, IDisposable
{
    private const int MaxErrorBodyBytes = 64 * 1024;

    private static readonly MediaTypeWithQualityHeaderValue AcceptJson = new("application/json");

    private readonly HttpMessageInvoker _http;
    private readonly TimeProvider _time;
    private readonly UpstreamCredential? _credential;
    private readonly EntraTokenSource? _entra;
    private readonly UpstreamDialect _dialect;
    private readonly HashSet<string> _models;
    private readonly string _authority;

    /// <summary>A backend with an already resolved key (null: none). Prefer <see cref="Create"/>, which resolves it.</summary>
    /// <exception cref="UpstreamConfigurationException">The options are invalid.</exception>
    public OpenAiUpstreamBackend(UpstreamBackendOptions options, string? apiKey, TimeProvider? timeProvider = null)
        : this(options, apiKey, timeProvider, handler: null)
    {
    }

    internal OpenAiUpstreamBackend(UpstreamBackendOptions options, string? apiKey, TimeProvider? timeProvider, HttpMessageHandler? handler)
    {
        ArgumentNullException.ThrowIfNull(options);
        var problems = options.Validate();
        if (problems.Count > 0)
        {
            throw new UpstreamConfigurationException(problems);
        }

        Options = options;
        _time = timeProvider ?? TimeProvider.System;
        _credential = UpstreamCredential.For(options, apiKey);
        _dialect = UpstreamDialect.For(options, _time);
        _models = new HashSet<string>(options.Models, StringComparer.Ordinal);
        _authority = options.BaseUri().GetLeftPart(UriPartial.Authority);
        _http = new HttpMessageInvoker(handler ?? CreateHandler(options), disposeHandler: true);
        if (options.AzureAuthentication == AzureAuthentications.Entra && options.EntraTokenEndpoint is not null && _credential is not null)
        {
            _entra = new EntraTokenSource(options, _credential, _http, _time);
        }
    }

    /// <summary>
    /// Validates <paramref name="options"/>, resolves the key its <see cref="UpstreamBackendOptions.ApiKeyReference"/>
    /// names, and creates the backend.
    /// </summary>
    /// <exception cref="UpstreamConfigurationException">Invalid options, or a key that does not resolve.</exception>
    public static OpenAiUpstreamBackend Create(
        UpstreamBackendOptions options,
        TimeProvider? timeProvider = null,
        Func<string, string?>? getEnvironmentVariable = null)
    {
        ArgumentNullException.ThrowIfNull(options);
        var problems = options.Validate();
        if (problems.Count > 0)
        {
            throw new UpstreamConfigurationException(problems);
        }

        var key = UpstreamApiKey.Resolve(options.ApiKeyReference, options.Name, getEnvironmentVariable);
        return new OpenAiUpstreamBackend(options, key, timeProvider);
    }

    /// <inheritdoc/>
    public string Name => Options.Name;

    /// <summary>The options this backend was created with.</summary>
    public UpstreamBackendOptions Options { get; }

    /// <summary>Whether <paramref name="model"/> is one of <see cref="UpstreamBackendOptions.Models"/>.</summary>
    public bool Serves(string model) => _models.Contains(model);

    /// <inheritdoc/>
    public Task<BackendResponse> ChatAsync(InferenceRequest request, CancellationToken cancellationToken) =>
        PostAsync(UpstreamOperation.Chat, request, StreamField.NotStreaming, cancellationToken);

    /// <inheritdoc/>
    public Task<BackendResponse> CompletionAsync(InferenceRequest request, CancellationToken cancellationToken) =>
        PostAsync(UpstreamOperation.Completion, request, StreamField.NotStreaming, cancellationToken);

    /// <inheritdoc/>
    public Task<BackendResponse> EmbeddingsAsync(InferenceRequest request, CancellationToken cancellationToken) =>
        PostAsync(UpstreamOperation.Embeddings, request, StreamField.AsGiven, cancellationToken);

    /// <inheritdoc/>
    public IAsyncEnumerable<JsonObject> ChatStreamAsync(InferenceRequest request, CancellationToken cancellationToken)
    {
        ArgumentNullException.ThrowIfNull(request);
        return StreamAsync(UpstreamOperation.Chat, request, cancellationToken);
    }

    /// <inheritdoc/>
    public IAsyncEnumerable<JsonObject> CompletionStreamAsync(InferenceRequest request, CancellationToken cancellationToken)
    {
        ArgumentNullException.ThrowIfNull(request);
        return StreamAsync(UpstreamOperation.Completion, request, cancellationToken);
    }

    /// <summary>
    /// One health check: <c>GET</c> of <see cref="UpstreamBackendOptions.HealthCheckPath"/> answering 2xx within
    /// <see cref="UpstreamBackendOptions.HealthCheckTimeout"/>.
    /// </summary>
    public async Task<bool> CheckHealthAsync(CancellationToken cancellationToken)
    {
        using var timeout = new CancellationTokenSource(Options.HealthCheckTimeout, _time);
        using var linked = CancellationTokenSource.CreateLinkedTokenSource(cancellationToken, timeout.Token);
        try
        {
            using var request = _dialect.CreateHealthRequest(await KeyAsync(linked.Token).ConfigureAwait(false));
            using var response = await _http.SendAsync(request, linked.Token).ConfigureAwait(false);
            return _dialect.IsHealthy((int)response.StatusCode);
        }
        catch (OperationCanceledException) when (!cancellationToken.IsCancellationRequested)
        {
            return false;
        }
        catch (HttpRequestException)
        {
            return false;
        }
        catch (IOException)
        {
            return false;
        }
        catch (BackendException)
        {
            return false; // the key file changed and cannot be read
        }
    }

    /// <summary>
    /// The handler every backend uses: no proxy from the environment, no redirects, no cookies, bounded headers; with
    /// <see cref="UpstreamBackendOptions.CaCertificatePath"/>, certificates must chain to those CAs (host name still checked).
    /// </summary>
    internal static SocketsHttpHandler CreateHandler(UpstreamBackendOptions options)
    {
        var handler = new SocketsHttpHandler
        {
            UseProxy = false,
            Proxy = null,
            AllowAutoRedirect = false,
            UseCookies = false,
            AutomaticDecompression = DecompressionMethods.None,
            ConnectTimeout = options.Timeout < TimeSpan.FromSeconds(10) ? options.Timeout : TimeSpan.FromSeconds(10),
            PooledConnectionLifetime = TimeSpan.FromMinutes(5),
            PooledConnectionIdleTimeout = TimeSpan.FromMinutes(1),
            MaxResponseHeadersLength = 64,
            MaxResponseDrainSize = 64 * 1024,
        };
        if (options.CaCertificatePath is { } caPath)
        {
            var roots = new X509Certificate2Collection();
            roots.ImportFromPemFile(caPath);
            if (roots.Count == 0)
            {
                throw new UpstreamConfigurationException([$"upstream backend '{options.Name}': CaCertificatePath '{caPath}' holds no PEM certificate"]);
            }

            handler.SslOptions.RemoteCertificateValidationCallback = (_, certificate, _, errors) =>
            {
                if (certificate is null || (errors & ~SslPolicyErrors.RemoteCertificateChainErrors) != SslPolicyErrors.None)
                {
                    return false; // no certificate, or a name mismatch: never accepted
                }

                using var leaf = new X509Certificate2(certificate);
                using var chain = new X509Chain();
                chain.ChainPolicy.TrustMode = X509ChainTrustMode.CustomRootTrust;
                chain.ChainPolicy.CustomTrustStore.AddRange(roots);
                chain.ChainPolicy.RevocationMode = X509RevocationMode.NoCheck;
                return chain.Build(leaf);
            };
        }

        return handler;
    }

    private async Task<BackendResponse> PostAsync(UpstreamOperation operation, InferenceRequest request, StreamField stream, CancellationToken cancellationToken)
    {
        ArgumentNullException.ThrowIfNull(request);
        using var timeout = new CancellationTokenSource(Options.Timeout, _time);
        using var linked = CancellationTokenSource.CreateLinkedTokenSource(cancellationToken, timeout.Token);
        try
        {
            using var response = await SendAsync(operation, request, stream, linked.Token).ConfigureAwait(false);
            if (!IsSuccess(response))
            {
                throw await ErrorFromResponseAsync(response, linked.Token).ConfigureAwait(false);
            }

            JsonObject? body;
            try
            {
                body = await UpstreamJson.ReadObjectAsync(response.Content, Options.MaxResponseBytes, linked.Token).ConfigureAwait(false);
            }
            catch (JsonException e)
            {
                throw new BackendException(502, "upstream_error", $"upstream backend '{Name}' answered with a body that is not a JSON object ({e.Message})", null, e);
            }

            if (body is null)
            {
                throw new BackendException(
                    502,
                    "upstream_error",
                    $"upstream backend '{Name}' answered with a body larger than {Options.MaxResponseBytes} bytes (MaxResponseBytes); it was not read");
            }

            if (UpstreamErrors.IsErrorObject(body))
            {
                throw UpstreamErrors.FromErrorObject(Name, body, chunksBefore: 0);
            }

            body = _dialect.TranslateResponse(operation, request.Body, body);
            return new BackendResponse { Body = body, Usage = UpstreamUsage.Read(body) };
        }
        catch (OperationCanceledException e) when (timeout.IsCancellationRequested && !cancellationToken.IsCancellationRequested)
        {
            throw new BackendException(504, "timeout", $"upstream backend '{Name}' did not answer within {Options.Timeout:c} (Timeout)", null, e);
        }
        catch (HttpRequestException e)
        {
            throw ConnectionFailed(e);
        }
        catch (IOException e)
        {
            throw ConnectionFailed(e);
        }
    }

    private async IAsyncEnumerable<JsonObject> StreamAsync(UpstreamOperation operation, InferenceRequest request, [EnumeratorCancellation] CancellationToken cancellationToken)
    {
        // One timer for "time to headers" and then "time between two events"; disarmed while the caller holds a chunk.
        using var timeout = new CancellationTokenSource(Options.Timeout, _time);
        using var linked = CancellationTokenSource.CreateLinkedTokenSource(cancellationToken, timeout.Token);
        using var response = await OpenStreamAsync(operation, request, timeout, linked.Token, cancellationToken).ConfigureAwait(false);
        var body = await ReadStreamAsync(response, timeout, linked.Token, cancellationToken).ConfigureAwait(false);
        await using var bodyScope = body.ConfigureAwait(false);
        using var reader = _dialect.OpenStreamReader(body);
        var translator = _dialect.StartStream(request.Body);
        var pending = new List<JsonObject>();
        var next = 0;
        var yielded = 0;
        while (true)
        {
            if (next == pending.Count)
            {
                pending.Clear();
                next = 0;
                timeout.CancelAfter(Options.Timeout);
                while (pending.Count == 0 && !translator.Done)
                {
                    await NextEventAsync(reader, translator, pending, yielded, timeout, linked.Token, cancellationToken).ConfigureAwait(false);
                }

                timeout.CancelAfter(System.Threading.Timeout.InfiniteTimeSpan);
                if (pending.Count == 0)
                {
                    yield break;
                }
            }

            yielded++;
            yield return pending[next++];
        }
    }

    private async Task<HttpResponseMessage> OpenStreamAsync(
        UpstreamOperation operation, InferenceRequest request, CancellationTokenSource timeout, CancellationToken linked, CancellationToken cancellationToken)
    {
        try
        {
            var response = await SendAsync(operation, request, StreamField.Streaming, linked).ConfigureAwait(false);
            var handedOver = false;
            try
            {
                if (!IsSuccess(response))
                {
                    throw await ErrorFromResponseAsync(response, linked).ConfigureAwait(false);
                }

                var mediaType = response.Content.Headers.ContentType?.MediaType;
                if (!string.Equals(mediaType, _dialect.StreamMediaType, StringComparison.OrdinalIgnoreCase))
                {
                    throw new BackendException(
                        502,
                        "upstream_error",
                        $"upstream backend '{Name}' answered a streaming request with '{UpstreamErrors.Sanitize(mediaType ?? "no content type")}', not {_dialect.StreamMediaType}");
                }

                handedOver = true;
                return response;
            }
            finally
            {
                if (!handedOver)
                {
                    response.Dispose();
                }
            }
        }
        catch (OperationCanceledException e) when (timeout.IsCancellationRequested && !cancellationToken.IsCancellationRequested)
        {
            throw new BackendException(504, "timeout", $"upstream backend '{Name}' did not start its stream within {Options.Timeout:c} (Timeout)", null, e);
        }
        catch (HttpRequestException e)
        {
            throw ConnectionFailed(e);
        }
        catch (IOException e)
        {
            throw ConnectionFailed(e);
        }
    }

    private async Task<Stream> ReadStreamAsync(
        HttpResponseMessage response, CancellationTokenSource timeout, CancellationToken linked, CancellationToken cancellationToken)
    {
        try
        {
            return await response.Content.ReadAsStreamAsync(linked).ConfigureAwait(false);
        }
        catch (OperationCanceledException e) when (timeout.IsCancellationRequested && !cancellationToken.IsCancellationRequested)
        {
            throw StreamFailed(0, $"did not start its stream within {Options.Timeout:c} (Timeout)", 504, "timeout", e);
        }
        catch (HttpRequestException e)
        {
            throw ConnectionFailed(e);
        }
        catch (IOException e)
        {
            throw ConnectionFailed(e);
        }
    }

    /// <summary>Reads the next event and feeds it to <paramref name="translator"/>, which appends its chunks to <paramref name="output"/>.</summary>
    private async ValueTask NextEventAsync(
        IStreamEventReader reader,
        UpstreamStreamTranslator translator,
        List<JsonObject> output,
        int yielded,
        CancellationTokenSource timeout,
        CancellationToken linked,
        CancellationToken cancellationToken)
    {
        try
        {
            if (!await reader.ReadEventAsync(linked).ConfigureAwait(false))
            {
                if (translator.OnEnd(output))
                {
                    return;
                }

                throw StreamFailed(yielded, $"ended its stream without {translator.EndEvent} (the answer may be truncated)", 502, "upstream_error", null);
            }

            translator.OnEvent(reader.EventName, reader.Data.Span, yielded, output);
        }
        catch (OperationCanceledException e) when (timeout.IsCancellationRequested && !cancellationToken.IsCancellationRequested)
        {
            throw StreamFailed(yielded, $"sent no event for {Options.Timeout:c} (Timeout)", 504, "timeout", e);
        }
        catch (JsonException e)
        {
            throw StreamFailed(yielded, $"sent an event that is not a JSON object ({e.Message})", 502, "upstream_error", e);
        }
        catch (InvalidDataException e)
        {
            throw StreamFailed(yielded, $"sent a malformed event stream: {e.Message}", 502, "upstream_error", e);
        }
        catch (HttpRequestException e)
        {
            throw StreamFailed(yielded, $"dropped the connection ({e.Message})", 502, "upstream_unavailable", e);
        }
        catch (IOException e)
        {
            throw StreamFailed(yielded, $"dropped the connection ({e.Message})", 502, "upstream_unavailable", e);
        }
    }

    private BackendException StreamFailed(int yielded, string what, int status, string type, Exception? inner) =>
        yielded == 0
            ? new BackendException(status, type, $"upstream backend '{Name}' {what} before its first chunk; nothing was passed on, so the request may be retried", null, inner)
            : new BackendException(status, "stream_interrupted", $"upstream backend '{Name}' {what} after {yielded} chunk(s); the partial answer was already passed on and is not retried", null, inner);

    /// <summary>The credential a request carries now: the key (or token) configured, or an Entra token from the token endpoint.</summary>
    private async ValueTask<string?> KeyAsync(CancellationToken cancellationToken) =>
        _entra is null ? _credential?.Current() : await _entra.TokenAsync(cancellationToken).ConfigureAwait(false);

    private BackendException ConnectionFailed(Exception e) =>
        new(502, "upstream_unavailable", $"upstream backend '{Name}' at {_authority} could not be reached or broke the connection ({e.Message})", null, e);

    private async Task<HttpResponseMessage> SendAsync(UpstreamOperation operation, InferenceRequest request, StreamField stream, CancellationToken cancellationToken)
    {
        using var message = _dialect.CreateRequest(operation, request, stream, await KeyAsync(cancellationToken).ConfigureAwait(false));
        message.Headers.Accept.Add(stream == StreamField.Streaming ? _dialect.AcceptStream : AcceptJson);
        return await _http.SendAsync(message, cancellationToken).ConfigureAwait(false);
    }

    private async Task<BackendException> ErrorFromResponseAsync(HttpResponseMessage response, CancellationToken cancellationToken)
    {
        var status = (int)response.StatusCode;
        var retryAfter = RetryAfter.Parse(response.Headers, _time.GetUtcNow());
        JsonObject? error = null;
        try
        {
            error = await UpstreamJson.ReadObjectAsync(response.Content, MaxErrorBodyBytes, cancellationToken).ConfigureAwait(false);
        }
        catch (JsonException)
        {
            // Not an error object (an HTML page from a proxy, plain text): the status alone describes the failure.
        }
        catch (HttpRequestException)
        {
            // The body broke off; the status alone describes the failure.
        }
        catch (IOException)
        {
            // As above.
        }

        return _dialect.ErrorFromStatus(status, retryAfter, error);
    }

    private static bool IsSuccess(HttpResponseMessage response) => (int)response.StatusCode is >= 200 and < 300;

    /// <inheritdoc/>
    public void Dispose()
    {
        _entra?.Dispose();
        _http.Dispose();
    }
}
