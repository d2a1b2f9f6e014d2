using System.Text.Json.Nodes;
using Enclave.Core.Audit;
using Enclave.Intel.Detections;
using Enclave.Policy.Identity;
using Microsoft.AspNetCore.Builder;
using Microsoft.AspNetCore.Http;
using Microsoft.AspNetCore.Routing;
using Microsoft.Extensions.DependencyInjection;

namespace Enclave.Server.Admin;

/// <summary>
/// <c>GET /admin/v1/detections</c> (admins, auditors, analysts): whether the live detections run, the Sigma rule sets
/// live, the append feed's cursor and lag, and the alerts raised since the server started.
/// </summary>
internal static class DetectionAdminEndpoints
{
    public static RouteGroupBuilder MapDetections(this RouteGroupBuilder admin)
    {
        admin.MapGet("/detections", Status).RequireAuthorization(p => p.RequireRole(Roles.Admin, Roles.Auditor, Roles.Analyst));
        return admin;
    }

    private static IResult Status(IServiceProvider services, DetectionOptions options, LiveSigmaRules rules, ILedger ledger)
    {
        var status = options.Enabled
            ? services.GetRequiredService<DetectionPipeline>().Status()
            : new DetectionStatus { Enabled = false, RuleSets = rules.Sets, LiveRules = rules.Sets.Sum(s => s.Rules), NextIndex = -1, LedgerSize = ledger.Size };
        return Results.Json(ToJson(status, options));
    }

    internal static JsonObject ToJson(DetectionStatus s, DetectionOptions options) => new()
    {
        ["enabled"] = s.Enabled,
        ["sigma"] = new JsonObject { ["enabled"] = options.Enabled && options.Sigma.Enabled, ["alertsRaised"] = s.SigmaAlerts },
        ["insider"] = new JsonObject
        {
            ["enabled"] = options.Enabled && options.Insider.Enabled,
            ["alertsRaised"] = s.InsiderAlerts,
            ["replayEntries"] = options.Insider.ReplayEntries,
            ["windowDays"] = options.Insider.WindowDays,
            ["replayed"] = s.Replayed,
        },
        ["liveRules"] = s.LiveRules,
        ["ruleSets"] = new JsonArray([.. s.RuleSets.Select(r => (JsonNode)new JsonObject
        {
            ["name"] = r.Name,
            ["version"] = r.Version,
            ["importId"] = r.ImportId,
            ["loaded"] = AuditEvent.FormatTime(r.Loaded),
            ["rules"] = r.Rules,
            ["skipped"] = r.Skipped,
        })]),
        ["cursor"] = s.NextIndex,
        ["ledgerSize"] = s.LedgerSize,
        ["lag"] = s.Lag,
        ["processed"] = s.Processed,
        ["skippedOwn"] = s.SkippedOwn,
        ["unreadable"] = s.Unreadable,
        ["alertsRaised"] = s.SigmaAlerts + s.InsiderAlerts,
        ["alertFailures"] = s.AlertFailures,
        ["feed"] = new JsonObject { ["dropped"] = s.FeedDropped, ["fromStore"] = s.FeedFromStore },
    };
}
