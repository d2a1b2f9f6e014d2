using System.Net.Http.Headers;
using System.Text.Json.Nodes;

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

    public override HttpRequestMessage CreateRequest(UpstreamOperation operation, JsonObject request, StreamField stream, string? key)
    {
        var uri = operation switch
        {
            UpstreamOperation.Chat => _chatUri,
            UpstreamOperation.Completion => _completionsUri,
            _ => _embeddingsUri,
        };
        var message = Post(uri, request, stream);
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
