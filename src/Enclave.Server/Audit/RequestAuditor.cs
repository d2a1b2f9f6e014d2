using System.Security.Cryptography;
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

    public async Task<long> AdmitAsync(AdmittedRequest request, CancellationToken cancellationToken)
    {
        ArgumentNullException.ThrowIfNull(request);
        var details = new JsonObject
        {
            ["requestId"] = request.RequestId,
            ["endpoint"] = request.Endpoint,
            ["model"] = request.Model,
            ["backend"] = request.Backend,
            ["stream"] = request.Stream,
            ["promptSha256"] = request.PromptSha256,
        };
        if (request.Policy is not null)
        {
            details["policy"] = request.Policy;
        }

        AddWho(details, request.ClientAddress, request.User, request.Intel);
        AddVia(details, request.Via);
        return await ledger.AppendAsync(Event(AuditEventTypes.RequestAdmitted, request.Actor, "model:" + request.Model, details), cancellationToken).ConfigureAwait(false);
    }

    /// <summary>
    /// Records a request that policy or a quota refused, durable before the caller is answered: the rule, every
    /// reason and the decision's inputs (labels, never text).
    /// </summary>
    public async Task<long> DenyAsync(DeniedRequest request)
    {
        ArgumentNullException.ThrowIfNull(request);
        var details = new JsonObject
        {
            ["requestId"] = request.RequestId,
            ["endpoint"] = request.Endpoint,
            ["model"] = request.Model,
            ["status"] = request.Status,
            ["rule"] = request.Rule,
            ["promptSha256"] = request.PromptSha256,
        };
        if (request.Policy is not null)
        {
            details["policy"] = request.Policy;
        }

        AddWho(details, request.ClientAddress, request.User, request.Intel);
        AddVia(details, request.Via);
        return await ledger.AppendAsync(Event(AuditEventTypes.RequestDenied, request.Actor, "model:" + request.Model, details), CancellationToken.None).ConfigureAwait(false);
    }

    public async Task<long> CompleteAsync(CompletedRequest request)
    {
        ArgumentNullException.ThrowIfNull(request);
        var details = new JsonObject
        {
            ["requestId"] = request.RequestId,
            ["admittedIndex"] = request.AdmittedIndex,
            ["endpoint"] = request.Endpoint,
            ["outcome"] = request.Outcome,
            ["status"] = request.Status,
            ["backend"] = request.Backend,
            ["latencyMs"] = Math.Round(request.Latency.TotalMilliseconds, 3),
        };
        if (request.ModelDigest is not null)
        {
            details["modelDigest"] = request.ModelDigest;
        }

        if (request.Usage is { } usage)
        {
            details["promptTokens"] = usage.PromptTokens;
            details["completionTokens"] = usage.CompletionTokens;
        }

        if (request.AnswerSha256 is not null)
        {
            details["answerSha256"] = request.AnswerSha256;
        }

        if (request.Error is not null)
        {
            details["error"] = request.Error;
        }

        if (request.Vendor is not null)
        {
            details["vendor"] = request.Vendor;
        }

        if (request.Region is not null)
        {
            details["region"] = request.Region;
        }

        if (request.ModelVersion is not null)
        {
            details["modelVersion"] = request.ModelVersion;
        }

        AddVia(details, request.Via);

        // Completion entries are written even when the client went away: the request's fate belongs in the record.
        return await ledger.AppendAsync(Event(AuditEventTypes.RequestCompleted, request.Actor, "model:" + request.Model, details), CancellationToken.None).ConfigureAwait(false);
    }

    /// <summary>SHA-256 (hex) of the canonical JSON of <paramref name="node"/>.</summary>
    public static string Digest(JsonNode? node) => Digest(CanonicalBytes(node));

    /// <summary>The RFC 8785 canonical bytes of <paramref name="node"/>: what the ledger's digests are taken over.</summary>
    public static byte[] CanonicalBytes(JsonNode? node) => CanonicalJson.Canonicalize(node);

    /// <summary>SHA-256 (hex) of bytes already canonical.</summary>
    public static string Digest(ReadOnlySpan<byte> canonical) => Convert.ToHexStringLower(SHA256.HashData(canonical));

    /// <summary>Longest <c>user</c> field recorded, in characters (longer ones are cut).</summary>
    public const int MaxUserLength = 256;

    // Who sent it, as threat intelligence and the retro-hunt match it: the client's address and the body's 'user'.
    private static void AddWho(JsonObject details, string? clientAddress, string? user, JsonArray? intel)
    {
        if (clientAddress is not null)
        {
            details["clientAddress"] = clientAddress;
        }

        if (!string.IsNullOrEmpty(user))
        {
            details["user"] = user.Length <= MaxUserLength ? user : user[..MaxUserLength];
        }

        if (intel is not null)
        {
            details["intel"] = intel;
        }
    }

    private static void AddVia(JsonObject details, string? via)
    {
        if (via is not null)
        {
            details["via"] = via;
        }
    }

    private AuditEvent Event(AuditEventType type, string actor, string subject, JsonObject details) =>
        AuditEvent.Create(type, clock.GetUtcNow(), actor, subject.Length <= AuditEvent.MaxFieldLength ? subject : subject[..AuditEvent.MaxFieldLength], details);
}

public sealed record AdmittedRequest
{
    public required string RequestId { get; init; }
    public required string Actor { get; init; }
    public required string Endpoint { get; init; }
    public required string Model { get; init; }
    public required string Backend { get; init; }
    public required bool Stream { get; init; }
    public required string PromptSha256 { get; init; }

    /// <summary>The policy decision that admitted it (rule results, labels, backends, egress findings).</summary>
    public JsonObject? Policy { get; init; }

    /// <summary>The client's IP address as the server saw it (null when unknown).</summary>
    public string? ClientAddress { get; init; }

    /// <summary>The request body's <c>user</c> field, when given.</summary>
    public string? User { get; init; }

    /// <summary>Live threat-intelligence indicators the request matched: <c>{indicator, matched, action}</c> each.</summary>
    public JsonArray? Intel { get; init; }

    /// <summary>The surface that sent it when not the API itself (<c>console</c> for the console's playground); null through the API.</summary>
    public string? Via { get; init; }
}

/// <summary>A request refused by policy or a quota.</summary>
public sealed record DeniedRequest
{
    public required string RequestId { get; init; }
    public required string Actor { get; init; }
    public required string Endpoint { get; init; }
    public required string Model { get; init; }
    public required int Status { get; init; }
    public required string Rule { get; init; }
    public required string PromptSha256 { get; init; }

    /// <summary>The decision with every reason.</summary>
    public JsonObject? Policy { get; init; }

    /// <summary>The client's IP address as the server saw it (null when unknown).</summary>
    public string? ClientAddress { get; init; }

    /// <summary>The request body's <c>user</c> field, when given.</summary>
    public string? User { get; init; }

    /// <summary>Live threat-intelligence indicators the request matched: <c>{indicator, matched, action}</c> each.</summary>
    public JsonArray? Intel { get; init; }

    /// <summary>The surface that sent it when not the API itself (<c>console</c> for the console's playground); null through the API.</summary>
    public string? Via { get; init; }
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
