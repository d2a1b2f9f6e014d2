namespace Enclave.Inference.Upstream;

/// <summary>
/// Which cloud answered a routed request, for lineage in <c>request.completed</c>: the answering backend's
/// <see cref="UpstreamBackendOptions.Kind"/> (the vendor protocol), its configured <see cref="UpstreamBackendOptions.Region"/>,
/// and the model version the vendor reported (the response's <c>model</c>, e.g. <c>gpt-4o-2024-08-06</c>).
/// </summary>
/// <param name="Vendor">The answering backend's kind: <c>openai</c>, <c>azure-openai</c>, <c>anthropic</c>, <c>gemini</c>, <c>bedrock</c>.</param>
/// <param name="Region">The backend's configured region; null when not configured.</param>
/// <param name="ModelVersion">The model the vendor said answered; null when it said none.</param>
public sealed record UpstreamProvenance(string Vendor, string? Region, string? ModelVersion);

/// <summary>A backend that can say which upstream answered (the router's per-request view).</summary>
public interface IUpstreamProvenanceSource
{
    /// <summary>Null until a backend has answered.</summary>
    UpstreamProvenance? Provenance { get; }
}
