using System.Runtime.CompilerServices;
using System.Text.Json.Nodes;
using Enclave.Inference.Backends;

namespace Enclave.Inference.Upstream;

/// <summary>
/// The router seen as one backend for one request (<see cref="UpstreamRouter.For"/>); once a backend has answered,
/// it names it and its <see cref="Provenance"/> (vendor, region, the model version the vendor reported).
/// </summary>
internal sealed class RoutedUpstreamBackend(UpstreamRouter router, UpstreamCall call) : IInferenceBackend, IUpstreamProvenanceSource
{
    /// <summary>The backend that answered, once one has; "upstream" before.</summary>
    public string Name => call.Backend ?? "upstream";

    public UpstreamProvenance? Provenance => call.Provenance;

    public async Task<BackendResponse> ChatAsync(InferenceRequest request, CancellationToken cancellationToken) =>
        Noted(await router.ChatAsync(request, call, cancellationToken).ConfigureAwait(false));

    public IAsyncEnumerable<JsonObject> ChatStreamAsync(InferenceRequest request, CancellationToken cancellationToken) =>
        NotedAsync(router.ChatStreamAsync(request, call, cancellationToken), cancellationToken);

    public async Task<BackendResponse> CompletionAsync(InferenceRequest request, CancellationToken cancellationToken) =>
        Noted(await router.CompletionAsync(request, call, cancellationToken).ConfigureAwait(false));

    public IAsyncEnumerable<JsonObject> CompletionStreamAsync(InferenceRequest request, CancellationToken cancellationToken) =>
        NotedAsync(router.CompletionStreamAsync(request, call, cancellationToken), cancellationToken);

    public async Task<BackendResponse> EmbeddingsAsync(InferenceRequest request, CancellationToken cancellationToken) =>
        Noted(await router.EmbeddingsAsync(request, call, cancellationToken).ConfigureAwait(false));

    private BackendResponse Noted(BackendResponse response)
    {
        call.NoteModelVersion(response.Body);
        return response;
    }

    private async IAsyncEnumerable<JsonObject> NotedAsync(IAsyncEnumerable<JsonObject> stream, [EnumeratorCancellation] CancellationToken cancellationToken)
    {
        await foreach (var chunk in stream.WithCancellation(cancellationToken).ConfigureAwait(false))
        {
            call.NoteModelVersion(chunk);
            yield return chunk;
        }
    }
}
