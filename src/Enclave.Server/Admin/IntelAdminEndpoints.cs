using System.Text.Json;
using System.Text.Json.Nodes;
using Enclave.Core;
using Enclave.Core.Audit;
using Enclave.Intel.Alerts;
using Enclave.Intel.Live;
using Enclave.Ledger;
using Enclave.Policy.Identity;
using Enclave.State.Intel;
using Microsoft.AspNetCore.Builder;
using Microsoft.AspNetCore.Http;
using Microsoft.AspNetCore.Routing;

namespace Enclave.Server.Admin;

/// <summary>
/// <c>/admin/v1/intel</c>: the threat intelligence in force (counts, sources, newest load) and the enclave's sightings
/// as a STIX 2.1 bundle, for admins, auditors and analysts; <c>POST /intel/hunt</c>, a retro-hunt over the ledger, for
/// admins (recorded as <c>intel.hunted</c> with the caller as actor).
/// </summary>
internal static class IntelAdminEndpoints
{
    private const int MaxBodyBytes = 1024;

    public static RouteGroupBuilder MapIntel(this RouteGroupBuilder admin)
    {
        string[] readers = [Roles.Admin, Roles.Auditor, Roles.Analyst];
        admin.MapGet("/intel", Status).RequireAuthorization(p => p.RequireRole(readers));
        admin.MapGet("/intel/sightings", Sightings).RequireAuthorization(p => p.RequireRole(readers));
        admin.MapPost("/intel/hunt", HuntAsync).RequireAuthorization(p => p.RequireRole(Roles.Admin));
        return admin;
    }

    private static IResult Status(LiveIndicators live, IIndicatorStore store)
    {
        var counts = live.Counts();
        var sources = store.Sources();
        return Results.Json(new JsonObject
        {
            ["live"] = counts.Live,
            ["notEvaluable"] = counts.NotEvaluable,
            ["inactive"] = counts.Inactive,
            ["newestLoad"] = sources.Count == 0 ? null : AuditEvent.FormatTime(sources.Max(s => s.Loaded)),
            ["indexBuilt"] = live.LoadedAt is { } at ? AuditEvent.FormatTime(at) : null,
            ["sources"] = new JsonArray([.. sources.Select(s => (JsonNode?)new JsonObject
            {
                ["importId"] = s.ImportId,
                ["name"] = s.Name,
                ["version"] = s.Version,
                ["loaded"] = AuditEvent.FormatTime(s.Loaded),
                ["arrivedIndex"] = s.ArrivedIndex,
                ["indicators"] = s.Indicators,
                ["notEvaluable"] = s.NotEvaluable,
                ["skipped"] = s.Skipped,
            })]),
        });
    }

    private static IResult Sightings(AlertService alerts, ILedger ledger, TimeProvider clock)
    {
        var list = alerts.List(new AlertFilter { Kind = AlertKind.Intel, Limit = AlertFilter.MaxLimit });
        return Results.Json(SightingExporter.Build(list, ledger.Origin, clock.GetUtcNow()));
    }

    private static async Task<IResult> HuntAsync(HttpContext http, RetroHunter hunter)
    {
        const string shape = "{\"from\": first ledger index (optional), \"to\": end index, exclusive (optional)}";
        var (bytes, tooLarge) = await AdminRequestBody.ReadAsync(http, MaxBodyBytes).ConfigureAwait(false);
        if (tooLarge)
        {
            return Problem(StatusCodes.Status413PayloadTooLarge, "Body too large", $"the body is at most {MaxBodyBytes} bytes; nothing was hunted");
        }

        long from = 0;
        long? to = null;
        if (bytes.Length > 0)
        {
            JsonNode? node;
            try
            {
                node = StrictJson.Parse(bytes, maxDepth: 4);
            }
            catch (JsonException e)
            {
                return Problem(StatusCodes.Status400BadRequest, "Invalid request", $"the body is not JSON ({e.Message}); it must be {shape}; nothing was hunted");
            }

            if (node is not JsonObject body || !TryIndex(body, "from", out var f) || !TryIndex(body, "to", out to) || (to is { } t && t < (f ?? 0)))
            {
                return Problem(StatusCodes.Status400BadRequest, "Invalid request", $"the body must be {shape} with whole, non-negative indices, to not below from; nothing was hunted");
            }

            from = f ?? 0;
        }

        var result = await hunter.HuntAsync("admin", http.User.PrincipalId(), from, to, http.RequestAborted).ConfigureAwait(false);
        return Results.Json(new JsonObject
        {
            ["from"] = result.From,
            ["to"] = result.To,
            ["entries"] = result.Entries,
            ["hits"] = result.Hits,
            ["alerts"] = result.Alerts,
        });
    }

    private static bool TryIndex(JsonObject body, string name, out long? value)
    {
        value = null;
        if (!body.TryGetPropertyValue(name, out var node) || node is null)
        {
            return true;
        }

        if (node is JsonValue v && v.TryGetValue(out long parsed) && parsed >= 0)
        {
            value = parsed;
            return true;
        }

        return false;
    }

    private static IResult Problem(int status, string title, string detail) => Results.Problem(title: title, detail: detail, statusCode: status);
}
