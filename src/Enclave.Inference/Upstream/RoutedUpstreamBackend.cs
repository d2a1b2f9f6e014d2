using System.Text.Json.Nodes;
using Enclave.Inference.Backends;

namespace Enclave.Inference.Upstream;

/// <summary>The router seen as one backend for one request (<see cref="UpstreamRouter.For"/>).</summary>
internal sealed class RoutedUpstreamBackend(UpstreamRouter router, UpstreamCall call) : IInferenceBackend
{
    /// <summary>The backend that answered, once one has; "upstream" before.</summary>
    public string Name => call.Backend ?? "upstream";

    public Task<BackendResponse> ChatAsync(JsonObject request, CancellationToken cancellationToken) =>
        router.ChatAsync(request, call, cancellationToken);

    public IAsyncEnumerable<JsonObject> ChatStreamAsync(JsonObject request, CancellationToken cancellationToken) =>
        router.ChatStreamAsync(request, call, cancellationToken);

    public Task<BackendResponse> CompletionAsync(JsonObject request, CancellationToken cancellationToken) =>
        router.CompletionAsync(request, call, cancellationToken);

    public IAsyncEnumerable<JsonObject> CompletionStreamAsync(JsonObject request, CancellationToken cancellationToken) =>
        router.CompletionStreamAsync(request, call, cancellationToken);

    public Task<BackendResponse> EmbeddingsAsync(JsonObject request, CancellationToken cancellationToken) =>
        router.EmbeddingsAsync(request, call, cancellationToken);
}
