using System.Text.Json.Nodes;

namespace Enclave.Inference.Upstream;

/// <summary>
/// Azure OpenAI: OpenAI bodies, sent to <c>{BaseUrl}/openai/deployments/{model}/{endpoint}?api-version={ApiVersion}</c>
/// with the key in the <c>api-key</c> header, or (<see cref="UpstreamBackendOptions.AzureAuthentication"/> <c>entra</c>)
/// a Microsoft Entra ID token as <c>Authorization: Bearer</c>. The model names of the backend are its deployment names. Responses,
/// streams and errors are OpenAI's (Azure adds <c>prompt_filter_results</c>, passed on).
/// </summary>
internal sealed class AzureOpenAiDialect : UpstreamDialect
{
    private readonly Uri _root;
    private readonly string _query;

    public AzureOpenAiDialect(UpstreamBackendOptions options, TimeProvider time)
        : base(options, time)
    {
        _root = options.BaseUri();
        _query = "?api-version=" + Uri.EscapeDataString(options.ApiVersion ?? "");
    }

    public override HttpRequestMessage CreateRequest(UpstreamOperation operation, JsonObject request, StreamField stream, string? key)
    {
        var endpoint = operation switch
        {
            UpstreamOperation.Chat => "chat/completions",
            UpstreamOperation.Completion => "completions",
            _ => "embeddings",
        };
        var uri = new Uri(_root, $"openai/deployments/{Uri.EscapeDataString(ModelOf(request))}/{endpoint}{_query}");
        var message = Post(uri, request, stream);
        Authorize(message, key);
        return message;
    }

    /// <summary>
    /// <c>GET {BaseUrl}/openai/{HealthCheckPath}?api-version=</c> (the default path <c>models</c> lists the resource's
    /// models); a path starting with <c>/</c> is taken from the server root, as for every kind.
    /// </summary>
    public override HttpRequestMessage CreateHealthRequest(string? key)
    {
        var path = Options.HealthCheckPath.StartsWith('/') ? Options.HealthCheckPath : "openai/" + Options.HealthCheckPath;
        var message = new HttpRequestMessage(HttpMethod.Get, new Uri(_root, path + _query));
        Authorize(message, key);
        return message;
    }

    private void Authorize(HttpRequestMessage message, string? key)
    {
        if (string.IsNullOrEmpty(key))
        {
            return;
        }

        if (Options.AzureAuthentication == AzureAuthentications.Entra)
        {
            message.Headers.TryAddWithoutValidation("Authorization", "Bearer " + key);
        }
        else
        {
            message.Headers.TryAddWithoutValidation("api-key", key);
        }
    }
}
