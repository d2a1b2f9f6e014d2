using System.Text.Json;
using System.Text.Json.Nodes;
using Enclave.Core;
using Enclave.Core.Audit;
using Enclave.Inference.Backends;
using Enclave.Ledger;

namespace Enclave.Server.Audit;

/// <summary>
/// Records every API request in the ledger: <c>request.admitted</c> before any work (durable before a token is
/// produced) and <c>request.completed</c> after. Only SHA-256 digests of prompts and answers are recorded, never text.
/// </summary>
public sealed class RequestAuditor(ILedger ledger, TimeProvider clock)
{
    /// <summary>
    /// The <see cref="Microsoft.AspNetCore.Http.HttpContext.Items"/> key under which a surface other than the API (the
    /// operator console's playground) names itself; the request's entries then carry it as their <c>via</c> detail.
    /// </summary>
    public static readonly object ViaItem = new();

    /// <summary>
    /// Records an admitted request, durable before any work: <paramref name="details"/> as given, except that its
    /// <c>user</c> is recorded only when not empty and cut to <see cref="MaxUserLength"/>, and an empty
    /// <c>retrieval</c> list not at all (a copy is made only then: the common request allocates nothing here).
    /// </summary>
    public async Task<long> AdmitAsync(string actor, RequestAdmittedDetails details, CancellationToken cancellationToken)
    {
        ArgumentNullException.ThrowIfNull(actor);
        ArgumentNullException.ThrowIfNull(details);
        if (details.User is { Length: 0 or > MaxUserLength } || details.Retrieval is { Count: 0 })
        {
            details = details with { User = User(details.User), Retrieval = details.Retrieval is { Count: > 0 } retrieval ? retrieval : null };
        }

        var entry = Event(actor, details.Model, details);
        return await ledger.AppendAsync(entry, cancellationToken).ConfigureAwait(false);
    }

    /// <summary>
    /// Records a request that policy or a quota refused, durable before the caller is answered: <paramref name="details"/>
    /// (the rule, every reason and the decision's inputs: labels, never text) as given, except that its <c>user</c> is
    /// recorded only when not empty and cut to <see cref="MaxUserLength"/> (a copy is made only then).
    /// </summary>
    public async Task<long> DenyAsync(string actor, RequestDeniedDetails details)
    {
        ArgumentNullException.ThrowIfNull(actor);
        ArgumentNullException.ThrowIfNull(details);
        if (details.User is { Length: 0 or > MaxUserLength })
        {
            details = details with { User = User(details.User) };
        }

        var entry = Event(actor, details.Model, details);
        return await ledger.AppendAsync(entry, CancellationToken.None).ConfigureAwait(false);
    }

    public async Task<long> CompleteAsync(CompletedRequest request)
    {
        ArgumentNullException.ThrowIfNull(request);
        var entry = Event(request.Actor, request.Model, new RequestCompletedDetails
        {
            RequestId = request.RequestId,
            Endpoint = request.Endpoint,
            AdmittedIndex = request.AdmittedIndex,
            Outcome = request.Outcome,
            Status = request.Status,
            Backend = request.Backend,
            LatencyMs = Math.Round(request.Latency.TotalMilliseconds, 3),
            ModelDigest = request.ModelDigest,
            PromptTokens = request.Usage?.PromptTokens,
            CompletionTokens = request.Usage?.CompletionTokens,
            AnswerSha256 = request.AnswerSha256,
            Error = request.Error,
            Vendor = request.Vendor,
            Region = request.Region,
            ModelVersion = request.ModelVersion,
            Via = request.Via,
        });

        // Completion entries are written even when the client went away: the request's fate belongs in the record.
        return await ledger.AppendAsync(entry, CancellationToken.None).ConfigureAwait(false);
    }

    /// <summary>SHA-256 (hex) of the canonical JSON of <paramref name="node"/>.</summary>
    public static string Digest(JsonNode? node) => CanonicalJson.Sha256Hex(node);

    /// <summary>The RFC 8785 canonical bytes of <paramref name="node"/>: what the ledger's digests are taken over.</summary>
    public static byte[] CanonicalBytes(JsonNode? node) => CanonicalJson.Canonicalize(node);

    /// <summary>SHA-256 (hex) of the canonical JSON of <paramref name="element"/>: the same as of the node built from it.</summary>
    public static string Digest(JsonElement element) => CanonicalJson.Sha256Hex(element);

    /// <summary>The RFC 8785 canonical bytes of <paramref name="element"/>.</summary>
    public static byte[] CanonicalBytes(JsonElement element) => CanonicalJson.Canonicalize(element);

    /// <summary>SHA-256 (hex) of bytes already canonical.</summary>
    public static string Digest(ReadOnlySpan<byte> canonical) => CanonicalJson.Sha256Hex(canonical);

    /// <summary>Longest <c>user</c> field recorded, in characters (longer ones are cut).</summary>
    public const int MaxUserLength = 256;

    // The body's 'user' as recorded: absent when empty, cut to MaxUserLength.
    private static string? User(string? user) =>
        string.IsNullOrEmpty(user) ? null : user.Length <= MaxUserLength ? user : user[..MaxUserLength];

    private AuditEvent Event<TDetails>(string actor, string model, TDetails details)
        where TDetails : class, IAuditDetails
    {
        var subject = "model:" + model;
        return AuditEvent.Create(clock.GetUtcNow(), actor, subject.Length <= AuditEvent.MaxFieldLength ? subject : subject[..AuditEvent.MaxFieldLength], details);
    }
}

public sealed record CompletedRequest
{
    public required string Endpoint { get; init; }
    public required string RequestId { get; init; }
    public required string Actor { get; init; }
    public required string Model { get; init; }
    public required long AdmittedIndex { get; init; }
    public required string Outcome { get; init; }
    public required int Status { get; init; }
    public required string Backend { get; init; }
    public required TimeSpan Latency { get; init; }
    public TokenUsage? Usage { get; init; }
    public string? ModelDigest { get; init; }
    public string? AnswerSha256 { get; init; }
    public string? Error { get; init; }

    /// <summary>The kind of the upstream backend that answered (<c>openai</c>, <c>azure-openai</c>, <c>anthropic</c>, <c>gemini</c>, <c>bedrock</c>); null for the built-in engine.</summary>
    public string? Vendor { get; init; }

    /// <summary>The answering upstream backend's configured region, when configured.</summary>
    public string? Region { get; init; }

    /// <summary>The model version the upstream reported (its response's <c>model</c>), when it reported one.</summary>
    public string? ModelVersion { get; init; }

    /// <summary>The surface that sent it when not the API itself (<c>console</c> for the console's playground); null through the API.</summary>
    public string? Via { get; init; }
}
