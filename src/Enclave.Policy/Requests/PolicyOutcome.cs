using System.Text.Json.Nodes;
using Enclave.Policy.Decisions;
using Enclave.Policy.Egress;
using Enclave.Policy.Labels;

namespace Enclave.Policy.Requests;

/// <summary>
/// What policy decided for one request (or one <c>policy explain</c>): allow or deny, the rule that denied, every
/// reason, the backends the request may reach and what the egress guard found for those that leave the enclave.
/// </summary>
public sealed record PolicyOutcome
{
    /// <summary>True when the request may be served by one of <see cref="Backends"/>.</summary>
    public required bool Allowed { get; init; }

    /// <summary>200 when allowed; 403 for a policy denial; 400 for a malformed <c>Enclave-Classification</c> header; 404 for a model above the caller's clearance (answered as unknown).</summary>
    public required int Status { get; init; }

    /// <summary>The rule that denied the request (e.g. <c>policy.clearance</c>, <c>secret.private-key</c>); null when allowed.</summary>
    public string? Rule { get; init; }

    /// <summary>What the caller is told when denied: the rule and what to do; never another user's data, never the request's text.</summary>
    public string? Message { get; init; }

    /// <summary>The request's label and where it came from; null when the header was malformed.</summary>
    public RequestLabel? RequestLabel { get; init; }

    /// <summary>The caller's clearance as evaluated.</summary>
    public SecurityLabel Clearance { get; init; }

    /// <summary>The model's label.</summary>
    public SecurityLabel ModelLabel { get; init; }

    /// <summary>Every reason: denials, excluded backends, egress findings.</summary>
    public required IReadOnlyList<PolicyReason> Reasons { get; init; }

    /// <summary>The model's candidate backends, in order of preference, with their labels.</summary>
    public IReadOnlyList<BackendCandidate> Candidates { get; init; } = [];

    /// <summary>The backends the request may reach, in order of preference; empty when denied.</summary>
    public required IReadOnlyList<string> Backends { get; init; }

    /// <summary>What the egress guard found, per allowed candidate that leaves the enclave.</summary>
    public IReadOnlyList<EgressReport> Egress { get; init; } = [];

    /// <summary>Redacted bodies for backends whose route redacts, by backend name.</summary>
    internal IReadOnlyDictionary<string, JsonObject>? RedactedBodies { get; init; }

    /// <summary>The selection the router is given: only <see cref="Backends"/>, each with its body.</summary>
    public RouteSelection Selection()
    {
        var allowed = Backends;
        var bodies = RedactedBodies;
        return new RouteSelection(
            name => allowed.Contains(name, StringComparer.Ordinal),
            (name, body) => bodies is not null && bodies.TryGetValue(name, out var redacted) ? redacted : body);
    }

    /// <summary>The decision as recorded in the ledger (labels, rule results, excluded backends, egress findings: positions, never text).</summary>
    public JsonObject ToLedger(LabelScheme scheme)
    {
        ArgumentNullException.ThrowIfNull(scheme);
        var details = new JsonObject
        {
            ["allowed"] = Allowed,
        };
        if (Rule is not null)
        {
            details["rule"] = Rule;
        }

        if (RequestLabel is { } label)
        {
            details["label"] = scheme.FormatBanner(label.Label);
            details["labelSource"] = label.Source.ToString().ToLowerInvariant();
            if (label.Problems.Count > 0)
            {
                details["labelProblems"] = new JsonArray([.. label.Problems.Take(8).Select(p => (JsonNode)p)]);
            }
        }

        details["clearance"] = scheme.FormatBanner(Clearance);
        details["modelLabel"] = scheme.FormatBanner(ModelLabel);
        details["backends"] = new JsonArray([.. Backends.Select(b => (JsonNode)b)]);
        if (Reasons.Count > 0)
        {
            details["reasons"] = new JsonArray([.. Reasons.Take(32).Select(r => (JsonNode)Reason(r))]);
        }

        if (Egress.Count > 0)
        {
            details["egress"] = new JsonArray([.. Egress.Take(16).Select(e => (JsonNode)new JsonObject
            {
                ["backend"] = e.Backend,
                ["action"] = e.Action.ToString().ToLowerInvariant(),
                ["allowed"] = e.Allowed,
                ["findings"] = new JsonArray([.. e.Findings.Take(32).Select(f => (JsonNode)new JsonObject
                {
                    ["rule"] = f.Rule,
                    ["path"] = f.Path,
                    ["start"] = f.Start,
                    ["length"] = f.Length,
                })]),
            })]);
        }

        return details;
    }

    /// <summary>One reason as the admin API and <c>policy explain</c> show it: rule, message and the backend it concerns.</summary>
    public static JsonObject Reason(PolicyReason r)
    {
        var o = new JsonObject { ["rule"] = r.RuleId, ["message"] = r.Message };
        if (r.BackendId is not null)
        {
            o["backend"] = r.BackendId;
        }

        return o;
    }
}

/// <summary>The egress guard's result for one backend that leaves the enclave.</summary>
/// <param name="Backend">The backend.</param>
/// <param name="Action">Its route's action (block when inspection could not finish).</param>
/// <param name="Allowed">Whether the request (redacted, for redact routes) may be sent to it.</param>
/// <param name="Findings">What was found and where.</param>
public sealed record EgressReport(string Backend, EgressAction Action, bool Allowed, IReadOnlyList<EgressLocation> Findings);

/// <summary>Where a rule fired: a JSON path in the body and a character range within that string (never the text).</summary>
/// <param name="Rule">The rule, e.g. <c>secret.private-key</c>.</param>
/// <param name="Path">The JSON path, e.g. <c>messages[0].content</c>; empty for a finding about the whole request.</param>
/// <param name="Start">First character.</param>
/// <param name="Length">Length in characters.</param>
public sealed record EgressLocation(string Rule, string Path, int Start, int Length);
