using System.Text.Json.Nodes;
using Enclave.Inference.Backends;

namespace Enclave.Inference.Upstream;

/// <summary>
/// One request through the <see cref="UpstreamRouter"/>: which backends it may reach (decided by policy from their
/// labels), and afterwards which backend answered and what was tried, for the audit entry. Not thread-safe: one per
/// request.
/// </summary>
public sealed class UpstreamCall
{
    private readonly List<UpstreamAttempt> _attempts = [];
    private readonly Dictionary<string, UpstreamBackendOptions> _tried = new(StringComparer.Ordinal);

    /// <param name="isAllowed">
    /// Whether the request may reach a backend. Evaluated once per backend per request; neither the first choice nor any
    /// retry or failover ever goes to a backend it refuses.
    /// </param>
    /// <param name="prepareBody">
    /// The body to send to an allowed backend, given the caller's body: for a backend that leaves the enclave, the
    /// egress guard's redacted copy. Null sends the caller's body unchanged. Called once per attempt.
    /// </param>
    public UpstreamCall(Func<UpstreamBackendOptions, bool> isAllowed, Func<UpstreamBackendOptions, JsonObject, JsonObject>? prepareBody = null)
    {
        ArgumentNullException.ThrowIfNull(isAllowed);
        IsAllowed = isAllowed;
        PrepareBody = prepareBody;
    }

    public Func<UpstreamBackendOptions, bool> IsAllowed { get; }

    /// <summary>Rewrites the body per backend (egress redaction); null when the body goes out unchanged.</summary>
    public Func<UpstreamBackendOptions, JsonObject, JsonObject>? PrepareBody { get; }

    /// <summary>The backend that answered (for a stream: that produced the first chunk); null until then.</summary>
    public string? Backend { get; private set; }

    /// <summary>Every attempt, in order.</summary>
    public IReadOnlyList<UpstreamAttempt> Attempts => _attempts;

    /// <summary>
    /// The vendor, region and reported model version of the backend that answered; null before. The model version is
    /// set by the router's per-request view from the answer (<see cref="NoteModelVersion"/>).
    /// </summary>
    public UpstreamProvenance? Provenance =>
        Backend is not null && _tried.TryGetValue(Backend, out var options)
            ? new UpstreamProvenance(UpstreamKinds.Name(options.ParsedKind()), options.Region, ModelVersion)
            : null;

    /// <summary>The model the answering vendor reported (the response's <c>model</c>); null when none.</summary>
    public string? ModelVersion { get; private set; }

    /// <summary>
    /// The request for <paramref name="backend"/>: the caller's (with its client bytes) unless <see cref="PrepareBody"/>
    /// gives another body, which then goes out as a body the gateway wrote (the client's bytes are not those).
    /// </summary>
    internal InferenceRequest BodyFor(UpstreamBackendOptions backend, InferenceRequest request)
    {
        _tried[backend.Name] = backend;
        if (PrepareBody is null)
        {
            return request;
        }

        var prepared = PrepareBody(backend, request.Body);
        return ReferenceEquals(prepared, request.Body) ? request : new InferenceRequest(prepared);
    }

    /// <summary>Keeps the first non-empty <c>model</c> an answer or chunk reported (bounded, one line).</summary>
    internal void NoteModelVersion(JsonObject answer)
    {
        if (ModelVersion is null && answer["model"] is JsonValue value && value.TryGetValue<string>(out var model) && !string.IsNullOrWhiteSpace(model))
        {
            ModelVersion = UpstreamErrors.Sanitize(model.Length > 256 ? model[..256] : model);
        }
    }

    internal void Record(UpstreamAttempt attempt)
    {
        _attempts.Add(attempt);
        if (attempt.ErrorType is null)
        {
            Backend = attempt.Backend;
        }
    }
}
