using System.Text.Json.Nodes;
using Enclave.Policy.Decisions;
using Enclave.Policy.Identity;
using Enclave.Policy.Requests;
using Enclave.Server.Policy;
using Microsoft.AspNetCore.Builder;
using Microsoft.AspNetCore.Http;
using Microsoft.AspNetCore.Routing;

namespace Enclave.Server.Admin;

/// <summary>
/// <c>POST /admin/v1/policy/explain</c> (admin, auditor): the decision policy would take for a principal, a model, a
/// request label and optionally one backend, with every reason, without sending anything.
/// </summary>
public static class PolicyAdminEndpoints
{
    /// <summary>Rule of a disabled principal in an explanation.</summary>
    public const string DisabledRule = "identity.disabled";

    /// <summary>Largest request body read (four strings of at most 512 characters fit many times over).</summary>
    private const int MaxBodyBytes = 16 * 1024;

    /// <summary>Maps the policy endpoints on the admin group.</summary>
    public static void MapPolicy(RouteGroupBuilder admin)
    {
        ArgumentNullException.ThrowIfNull(admin);
        admin.MapPost("/policy/explain", Explain)
            .RequireAuthorization(p => p.RequireRole(Roles.Admin, Roles.Auditor));
    }

    private static async Task<IResult> Explain(HttpContext http, EnclavePolicy policy, IPrincipalDirectory directory)
    {
        var (bytes, tooLarge) = await AdminRequestBody.ReadAsync(http, MaxBodyBytes).ConfigureAwait(false);
        if (tooLarge)
        {
            return Problem(413, "Request too large", $"the body is larger than {MaxBodyBytes} bytes");
        }

        JsonObject? body;
        try
        {
            body = Core.StrictJson.Parse(bytes, maxDepth: 8) as JsonObject;
        }
        catch (System.Text.Json.JsonException ex)
        {
            return Problem(400, "Invalid request", $"the body is not valid JSON: {ex.Message}");
        }

        if (body is null
            || !TryString(body, "user", required: true, out var user)
            || !TryString(body, "model", required: true, out var model)
            || !TryString(body, "label", required: false, out var label)
            || !TryString(body, "backend", required: false, out var backend))
        {
            return Problem(400, "Invalid request", "send a JSON object {\"user\": ID or name, \"model\": model, \"label\": marking (optional), \"backend\": name (optional)}, all strings");
        }

        var (answer, status, title, detail) = ExplainFor(policy, directory, user!, model!, label, backend);
        return answer is not null ? Results.Text(answer.ToJsonString(), "application/json") : Problem(status, title, detail!);
    }

    /// <summary>
    /// The explanation <c>POST /admin/v1/policy/explain</c> answers (and the console's Policy page shows): the answer, or
    /// no answer and the problem's status, title and detail.
    /// </summary>
    internal static (JsonObject? Answer, int Status, string Title, string? Detail) ExplainFor(
        EnclavePolicy policy, IPrincipalDirectory directory, string user, string model, string? label, string? backend)
    {
        var principal = directory.Find(user);
        if (principal is null)
        {
            return (null, 404, "Unknown user", $"no user or service account '{user}' is known to this enclave");
        }

        PolicyOutcome outcome;
        try
        {
            outcome = policy.Explain(principal.Clearance, model, label, backend);
        }
        catch (KeyNotFoundException ex)
        {
            return (null, 404, "Not found", ex.Message);
        }
        catch (ArgumentException ex)
        {
            return (null, 400, "Invalid label", ex.Message);
        }

        if (principal.Disabled)
        {
            var message = $"request denied by {DisabledRule}: '{principal.Id}' is disabled; its keys and tokens are refused before policy is consulted";
            outcome = outcome with
            {
                Allowed = false,
                Status = 403,
                Rule = DisabledRule,
                Message = message,
                Reasons = [new PolicyReason(DisabledRule, message), .. outcome.Reasons],
                Backends = [],
            };
        }

        var scheme = policy.Scheme;
        var allowed = outcome.Backends.ToHashSet(StringComparer.Ordinal);
        var answer = new JsonObject
        {
            ["allowed"] = outcome.Allowed,
            ["rule"] = outcome.Rule,
            ["message"] = outcome.Message,
            ["user"] = new JsonObject
            {
                ["id"] = principal.Id,
                ["name"] = principal.Name,
                ["roles"] = new JsonArray([.. principal.Roles.Select(r => (JsonNode)r)]),
                ["clearance"] = principal.Clearance ?? scheme.FormatBanner(scheme.Lowest),
                ["disabled"] = principal.Disabled,
            },
            ["model"] = model,
            ["modelLabel"] = scheme.FormatBanner(outcome.ModelLabel),
            ["requestLabel"] = outcome.RequestLabel is { } l ? scheme.FormatBanner(l.Label) : null,
            ["labelSource"] = outcome.RequestLabel is { } s ? (s.Source == Enclave.Policy.Labels.LabelSource.Default ? "default" : "given") : null,
            ["backends"] = new JsonArray([.. outcome.Candidates.Select(c => (JsonNode)new JsonObject
            {
                ["name"] = c.Id,
                ["accreditation"] = Accreditation(scheme, c.Accreditation),
                ["jurisdiction"] = c.Jurisdiction,
                ["leavesEnclave"] = c.LeavesEnclave,
                ["egressAction"] = c.LeavesEnclave ? policy.EgressActionFor(c.Id).ToString().ToLowerInvariant() : null,
                ["allowed"] = allowed.Contains(c.Id),
            })]),
            ["reasons"] = new JsonArray([.. outcome.Reasons.Select(r => (JsonNode)PolicyOutcome.Reason(r))]),
        };
        return (answer, 200, "OK", null);
    }

    /// <summary>
    /// A backend's accreditation as a banner. The top of the lattice (the built-in engine's default: it may process
    /// anything) is releasable to nobody as a label, which reads as "REL TO (NONE)"; for an accreditation that says the
    /// opposite of what it means, so it is shown as the highest level and compartments with "(any releasability)".
    /// </summary>
    internal static string Accreditation(Enclave.Policy.Labels.LabelScheme scheme, Enclave.Policy.Labels.SecurityLabel accreditation) =>
        accreditation == scheme.Highest
            ? scheme.FormatBanner(new Enclave.Policy.Labels.SecurityLabel(accreditation.Level, accreditation.CompartmentMask, unrestricted: true, 0)) + " (any releasability)"
            : scheme.FormatBanner(accreditation);

    private static bool TryString(JsonObject body, string name, bool required, out string? value)
    {
        value = null;
        if (!body.TryGetPropertyValue(name, out var node) || node is null)
        {
            return !required;
        }

        if (node is JsonValue v && v.TryGetValue<string>(out var text) && text.Length is > 0 and <= 512)
        {
            value = text;
            return true;
        }

        return false;
    }

    private static IResult Problem(int status, string title, string detail) => Results.Problem(title: title, detail: detail, statusCode: status);
}
