using System.Text.Json.Nodes;

namespace Enclave.Core.Audit;

// The request events (/v1), two per API request: their records write themselves member by member (the hot path); a
// test holds each Write to the bytes the records' properties give.

/// <summary>Details of <c>request.admitted</c>.</summary>
public sealed record RequestAdmittedDetails : IAuditDetails
{
    public required string RequestId { get; init; }
    public required string Endpoint { get; init; }
    public required string Model { get; init; }
    public required string Backend { get; init; }
    public required bool Stream { get; init; }
    public required string PromptSha256 { get; init; }
    public JsonObject? Policy { get; init; }
    public string? ClientAddress { get; init; }
    public string? User { get; init; }
    public JsonArray? Intel { get; init; }
    public IReadOnlyList<long>? Retrieval { get; init; }
    public string? Via { get; init; }

    /// <inheritdoc/>
    public void Write(ref AuditDetailsWriter details)
    {
        // Members in canonical (ordinal) order; AuditDetailsWriter refuses any other.
        details.String("backend", Backend);
        details.Optional("clientAddress", ClientAddress);
        details.String("endpoint", Endpoint);
        details.Optional("intel", Intel);
        details.String("model", Model);
        details.Optional("policy", Policy);
        details.String("promptSha256", PromptSha256);
        details.String("requestId", RequestId);
        if (Retrieval is not null)
        {
            details.Node("retrieval", new JsonArray([.. Retrieval.Select(i => (JsonNode)i)]));
        }

        details.Boolean("stream", Stream);
        details.Optional("user", User);
        details.Optional("via", Via);
    }
}

/// <summary>Details of <c>request.denied</c>.</summary>
public sealed record RequestDeniedDetails : IAuditDetails
{
    public required string RequestId { get; init; }
    public required string Endpoint { get; init; }
    public required string Model { get; init; }
    public required string PromptSha256 { get; init; }
    public required int Status { get; init; }
    public required string Rule { get; init; }
    public JsonObject? Policy { get; init; }
    public string? ClientAddress { get; init; }
    public string? User { get; init; }
    public JsonArray? Intel { get; init; }
    public string? Via { get; init; }

    /// <inheritdoc/>
    public void Write(ref AuditDetailsWriter details)
    {
        details.Optional("clientAddress", ClientAddress);
        details.String("endpoint", Endpoint);
        details.Optional("intel", Intel);
        details.String("model", Model);
        details.Optional("policy", Policy);
        details.String("promptSha256", PromptSha256);
        details.String("requestId", RequestId);
        details.String("rule", Rule);
        details.Number("status", Status);
        details.Optional("user", User);
        details.Optional("via", Via);
    }
}

/// <summary>Details of <c>request.completed</c>.</summary>
public sealed record RequestCompletedDetails : IAuditDetails
{
    public required string RequestId { get; init; }
    public required string Endpoint { get; init; }
    public required long AdmittedIndex { get; init; }
    public required string Outcome { get; init; }
    public required int Status { get; init; }
    public required string Backend { get; init; }

    /// <summary>Milliseconds, rounded to three decimals.</summary>
    public required double LatencyMs { get; init; }
    public string? ModelDigest { get; init; }
    public int? PromptTokens { get; init; }
    public int? CompletionTokens { get; init; }
    public string? AnswerSha256 { get; init; }
    public string? Error { get; init; }
    public string? Vendor { get; init; }
    public string? Region { get; init; }
    public string? ModelVersion { get; init; }
    public string? Via { get; init; }

    /// <inheritdoc/>
    public void Write(ref AuditDetailsWriter details)
    {
        details.Number("admittedIndex", AdmittedIndex);
        details.Optional("answerSha256", AnswerSha256);
        details.String("backend", Backend);
        if (CompletionTokens is { } completion)
        {
            details.Number("completionTokens", completion);
        }

        details.String("endpoint", Endpoint);
        details.Optional("error", Error);
        details.Number("latencyMs", LatencyMs);
        details.Optional("modelDigest", ModelDigest);
        details.Optional("modelVersion", ModelVersion);
        details.String("outcome", Outcome);
        if (PromptTokens is { } prompt)
        {
            details.Number("promptTokens", prompt);
        }

        details.Optional("region", Region);
        details.String("requestId", RequestId);
        details.Number("status", Status);
        details.Optional("vendor", Vendor);
        details.Optional("via", Via);
    }
}
