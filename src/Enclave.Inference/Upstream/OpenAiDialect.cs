using System.Net.Http.Headers;
using System.Text.Json.Nodes;
using Enclave.Inference.Backends;

namespace Enclave.Inference.Upstream;

/// <summary>The OpenAI API: <c>{BaseUrl}/chat/completions</c>..., <c>Authorization: Bearer</c>, bodies unchanged.</summary>
internal sealed class OpenAiDialect : UpstreamDialect
{
    private readonly Uri _chatUri;
    private readonly Uri _completionsUri;
    private readonly Uri _embeddingsUri;
    private readonly Uri _healthUri;

    public OpenAiDialect(UpstreamBackendOptions options, TimeProvider time)
        : base(options, time)
    {
        var baseUri = options.BaseUri();
        _chatUri = new Uri(baseUri, "chat/completions");
        _completionsUri = new Uri(baseUri, "completions");
        _embeddingsUri = new Uri(baseUri, "embeddings");
        _healthUri = HealthUri(baseUri);
    }

    public override HttpRequestMessage CreateRequest(UpstreamOperation operation, JsonObject request, StreamField stream, string? key) =>
        Authorized(Post(UriFor(operation), request, stream), key);

    /// <summary>The client's bytes when the gateway did not change the request and they need no rewriting; otherwise the body written out.</summary>
    public override HttpRequestMessage CreateRequest(UpstreamOperation operation, InferenceRequest request, StreamField stream, string? key)
    {
        ArgumentNullException.ThrowIfNull(request);
        var content = UpstreamJson.CreateContent(request, stream);
        return Authorized(new HttpRequestMessage(HttpMethod.Post, UriFor(operation)) { Content = content }, key);
    }

    private Uri UriFor(UpstreamOperation operation) => operation switch
    {
        UpstreamOperation.Chat => _chatUri,
        UpstreamOperation.Completion => _completionsUri,
        _ => _embeddingsUri,
    };

    private static HttpRequestMessage Authorized(HttpRequestMessage message, string? key)
    {
        Authorize(message, key);
        return message;
    }

    public override HttpRequestMessage CreateHealthRequest(string? key)
    {
        var message = new HttpRequestMessage(HttpMethod.Get, _healthUri);
        Authorize(message, key);
        return message;
    }

    private static void Authorize(HttpRequestMessage message, string? key)
    {
        if (!string.IsNullOrEmpty(key))
        {
            message.Headers.Authorization = new AuthenticationHeaderValue("Bearer", key);
        }
    }
}
