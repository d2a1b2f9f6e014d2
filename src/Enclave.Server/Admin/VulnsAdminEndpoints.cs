using System.Globalization;
using System.Text.Json;
using System.Text.Json.Nodes;
using Enclave.Core;
using Enclave.Core.Audit;
using Enclave.Intel.Vulnerabilities;
using Enclave.Intel.Vulnerabilities.Findings;
using Enclave.Policy.Identity;
using Enclave.Server.Hosting;
using Enclave.State.Vulnerabilities;
using Microsoft.AspNetCore.Builder;
using Microsoft.AspNetCore.Http;
using Microsoft.AspNetCore.Routing;

namespace Enclave.Server.Admin;

/// <summary>
/// <c>/admin/v1/vulns</c>: findings (filters <c>severity</c>, <c>kev</c>, <c>artifact</c>, <c>status</c>, <c>advisory</c>,
/// <c>limit</c>) and the inventory, for admins, auditors and analysts; SBOM registration and VEX decisions, for admins;
/// the decisions as OpenVEX. Every answer carries <c>data</c>: the freshness of the vulnerability data ("no-data",
/// "fresh" or "stale"); without data, <c>findings</c> is null, never an empty list.
/// </summary>
internal static class VulnsAdminEndpoints
{
    private const int MaxVexBodyBytes = 16 * 1024;

    private static readonly string[] Ratings = ["critical", "high", "medium", "low", "none"];

    public static RouteGroupBuilder MapVulns(this RouteGroupBuilder admin)
    {
        string[] readers = [Roles.Admin, Roles.Auditor, Roles.Analyst];
        admin.MapGet("/vulns/findings", ListAsync).RequireAuthorization(p => p.RequireRole(readers));
        admin.MapGet("/vulns/inventory", Inventory).RequireAuthorization(p => p.RequireRole(readers));
        admin.MapPost("/vulns/sboms", RegisterAsync).RequireAuthorization(p => p.RequireRole(Roles.Admin));
        admin.MapPost("/vulns/vex", DecideAsync).RequireAuthorization(p => p.RequireRole(Roles.Admin));
        admin.MapGet("/vulns/vex/openvex", OpenVex).RequireAuthorization(p => p.RequireRole(readers));
        return admin;
    }

    private static async Task<IResult> ListAsync(VulnerabilityFindingsService findings, string? severity, string? kev, string? artifact, string? status, string? advisory, string? limit, CancellationToken ct)
    {
        var problems = new List<string>();
        List<string>? ratings = null;
        if (!string.IsNullOrEmpty(severity))
        {
            ratings = [.. severity.Split(',', StringSplitOptions.TrimEntries).Select(s => s.ToLowerInvariant())];
            foreach (var bad in ratings.Where(r => !Ratings.Contains(r)))
            {
                problems.Add($"severity '{Shorten(bad)}' is not one of {string.Join(", ", Ratings)}");
            }
        }

        bool? kevFilter = null;
        if (!string.IsNullOrEmpty(kev))
        {
            if (bool.TryParse(kev, out var parsed))
            {
                kevFilter = parsed;
            }
            else
            {
                problems.Add($"kev must be true or false, not '{Shorten(kev)}'");
            }
        }

        List<string>? statuses = null;
        if (!string.IsNullOrEmpty(status))
        {
            statuses = [.. status.Split(',', StringSplitOptions.TrimEntries)];
            foreach (var bad in statuses.Where(s => s != "open" && !VulnerabilityFindingsService.Statuses.Contains(s)))
            {
                problems.Add($"status '{Shorten(bad)}' is not one of open, {string.Join(", ", VulnerabilityFindingsService.Statuses)}");
            }

            if (statuses.Remove("open"))
            {
                statuses.AddRange(["affected", "under_investigation"]);
            }
        }

        var count = 1000;
        if (!string.IsNullOrEmpty(limit) && (!int.TryParse(limit, NumberStyles.None, CultureInfo.InvariantCulture, out count) || count is < 1 or > FindingFilter.MaxLimit))
        {
            problems.Add($"limit must be a whole number from 1 to {FindingFilter.MaxLimit}, not '{Shorten(limit)}'");
        }

        if (problems.Count > 0)
        {
            return Problem(StatusCodes.Status400BadRequest, "Invalid filter", string.Join("; ", problems));
        }

        var freshness = await findings.CheckFreshnessAsync(ct).ConfigureAwait(false);
        var answer = new JsonObject { ["data"] = Freshness(freshness) };
        if (!freshness.HasData)
        {
            answer["findings"] = null;
            answer["unknown"] = null;
            return Results.Json(answer);
        }

        var rows = findings.Store.Findings(new FindingFilter { InventoryId = artifact, Ratings = ratings, Kev = kevFilter, Statuses = statuses, AdvisoryId = advisory, Limit = count });
        answer["findings"] = new JsonArray([.. rows.Select(r => (JsonNode)ToJson(r))]);
        answer["unknown"] = new JsonArray([.. findings.Store.Unknown(artifact).Take(count).Select(u => (JsonNode)new JsonObject
        {
            ["artifact"] = u.InventoryId,
            ["component"] = u.Component,
            ["advisory"] = u.AdvisoryId.Length == 0 ? null : u.AdvisoryId,
            ["reason"] = u.Reason,
        })]);
        return Results.Json(answer);
    }

    private static IResult Inventory(VulnerabilityFindingsService findings)
    {
        var freshness = findings.Freshness();
        return Results.Json(new JsonObject
        {
            ["data"] = Freshness(freshness),
            ["inventory"] = new JsonArray([.. findings.Store.Inventory().Select(i => (JsonNode)new JsonObject
            {
                ["id"] = i.Id,
                ["source"] = i.Source,
                ["name"] = i.Name,
                ["version"] = i.Version,
                ["importId"] = i.ImportId,
                ["sha256"] = i.Sha256,
                ["added"] = AuditEvent.FormatTime(i.Added),
                ["addedBy"] = i.AddedBy,
            })]),
        });
    }

    private static async Task<IResult> RegisterAsync(HttpContext http, VulnerabilityFindingsService findings, ServerSettings settings, string? name)
    {
        if (string.IsNullOrEmpty(name) || !VulnerabilityFindingsService.ValidName(name))
        {
            return Problem(StatusCodes.Status400BadRequest, "Invalid request", $"name (query) must be 1 to {VulnerabilityFindingsService.MaxNameLength} letters, digits, '.', '-' or '_', e.g. POST /admin/v1/vulns/sboms?name=mail-gateway with the SBOM as the body; nothing was changed");
        }

        var (body, tooLarge) = await AdminRequestBody.ReadAsync(http, settings.MaxRequestBytes).ConfigureAwait(false);
        if (tooLarge)
        {
            return Problem(StatusCodes.Status413PayloadTooLarge, "Body too large", $"the SBOM is at most {settings.MaxRequestBytes} bytes (Server:MaxRequestBytes); nothing was changed");
        }

        try
        {
            var summary = await findings.RegisterSbomAsync(name, body, http.User.PrincipalId(), http.RequestAborted).ConfigureAwait(false);
            return Results.Json(
                new JsonObject { ["id"] = "sbom:" + name, ["data"] = Freshness(summary.Freshness), ["newFindings"] = summary.Freshness.HasData ? summary.NewFindings : null, ["alerts"] = new JsonArray([.. summary.Alerts.Select(a => (JsonNode)a)]) },
                statusCode: StatusCodes.Status201Created);
        }
        catch (VulnerabilityDataException e)
        {
            return Problem(StatusCodes.Status400BadRequest, "Invalid SBOM", $"{e.Message}; the body must be a CycloneDX 1.4-1.6 or SPDX 2.3 JSON SBOM; nothing was changed", e.Reason.ToString());
        }
    }

    private static async Task<IResult> DecideAsync(HttpContext http, VulnerabilityFindingsService findings)
    {
        const string shape = "{\"artifact\": \"optional inventory ID\", \"component\": \"pkg:...\", \"advisory\": \"ID or alias\", \"status\": \"not_affected|affected|fixed|under_investigation\", \"justification\": \"for not_affected\", \"statement\": \"optional\"}";
        var (bytes, tooLarge) = await AdminRequestBody.ReadAsync(http, MaxVexBodyBytes).ConfigureAwait(false);
        if (tooLarge)
        {
            return Problem(StatusCodes.Status413PayloadTooLarge, "Body too large", $"the body is at most {MaxVexBodyBytes} bytes; nothing was changed");
        }

        JsonObject body;
        try
        {
            if (StrictJson.Parse(bytes, maxDepth: 4) is not JsonObject parsed)
            {
                return Problem(StatusCodes.Status400BadRequest, "Invalid request", $"the body must be a JSON object {shape}; nothing was changed");
            }

            body = parsed;
        }
        catch (JsonException e)
        {
            return Problem(StatusCodes.Status400BadRequest, "Invalid request", $"the body is not JSON ({e.Message}); it must be {shape}; nothing was changed");
        }

        var values = new Dictionary<string, string?>();
        foreach (var member in new[] { "artifact", "component", "advisory", "status", "justification", "statement" })
        {
            if (body[member] is null)
            {
                values[member] = null;
            }
            else if (body[member] is JsonValue v && v.TryGetValue<string>(out var text))
            {
                values[member] = text;
            }
            else
            {
                return Problem(StatusCodes.Status400BadRequest, "Invalid request", $"{member} must be a string; the body must be {shape}; nothing was changed");
            }
        }

        try
        {
            var (decision, evaluation) = await findings.DecideAsync(
                values["artifact"], values["component"] ?? "", values["advisory"] ?? "", values["status"] ?? "", values["justification"], values["statement"], http.User.PrincipalId(), http.RequestAborted).ConfigureAwait(false);
            return Results.Json(
                new JsonObject
                {
                    ["seq"] = decision.Seq,
                    ["ledgerIndex"] = decision.LedgerIndex,
                    ["artifact"] = decision.InventoryId,
                    ["component"] = decision.Product,
                    ["advisory"] = decision.AdvisoryId,
                    ["status"] = decision.Status,
                    ["justification"] = decision.Justification,
                    ["decidedBy"] = decision.Actor,
                    ["decided"] = AuditEvent.FormatTime(decision.Decided),
                    ["data"] = Freshness(evaluation.Freshness),
                },
                statusCode: StatusCodes.Status201Created);
        }
        catch (ArgumentException e)
        {
            return Problem(StatusCodes.Status400BadRequest, "Invalid VEX decision", e.Message);
        }
    }

    private static IResult OpenVex(VulnerabilityFindingsService findings) =>
        Results.Json(findings.ExportOpenVex($"Enclave at {Environment.MachineName}"));

    /// <summary>The findings of an import's SBOM against the data now in the store, for the airlock's import detail.</summary>
    internal static JsonObject? ImportFindings(VulnerabilityFindingsService findings, string? sbomFile)
    {
        if (sbomFile is null)
        {
            return null;
        }

        try
        {
            var preview = findings.Preview(File.ReadAllBytes(sbomFile), Path.GetFileName(sbomFile));
            return new JsonObject
            {
                ["data"] = Freshness(preview.Freshness),
                ["findings"] = preview.Freshness.HasData ? new JsonArray([.. preview.Findings.Select(f => (JsonNode)ToJson(f, withArtifact: false))]) : null,
                ["unknown"] = preview.Freshness.HasData ? preview.Unknown.Count : null,
            };
        }
        catch (Exception e) when (e is VulnerabilityDataException or IOException or UnauthorizedAccessException)
        {
            return new JsonObject { ["error"] = "the SBOM could not be matched: " + e.Message };
        }
    }

    internal static JsonObject Freshness(DataFreshness freshness) => new()
    {
        ["state"] = !freshness.HasData ? "no-data" : freshness.Stale ? "stale" : "fresh",
        ["newest"] = freshness.Newest is { } n ? AuditEvent.FormatTime(n) : null,
        ["ageDays"] = freshness.Age is { } a ? Math.Round(a.TotalDays, 1) : null,
        ["maxAgeDays"] = freshness.MaxAge.TotalDays,
        ["message"] = freshness.Describe(),
    };

    internal static JsonObject ToJson(FindingRow r, bool withArtifact = true)
    {
        var json = new JsonObject();
        if (withArtifact)
        {
            json["artifact"] = r.InventoryId;
        }

        json["component"] = r.Component;
        json["purl"] = r.Purl;
        json["version"] = r.Version;
        json["id"] = r.AdvisoryId;
        json["aliases"] = JsonNode.Parse(r.Aliases);
        json["severity"] = r.Score is null ? null : new JsonObject { ["score"] = r.Score, ["rating"] = r.Rating, ["vector"] = r.Vector };
        json["kev"] = r.KevCve is null ? null : new JsonObject { ["cve"] = r.KevCve, ["dueDate"] = r.KevDue?.ToString("yyyy-MM-dd", CultureInfo.InvariantCulture) };
        json["fixed"] = JsonNode.Parse(r.Fixed);
        json["status"] = r.Status;
        json["justification"] = r.Justification;
        json["firstSeen"] = AuditEvent.FormatTime(r.FirstSeen);
        json["evaluated"] = AuditEvent.FormatTime(r.Evaluated);
        return json;
    }

    private static IResult Problem(int status, string title, string detail, string? code = null) => Results.Problem(
        title: title,
        detail: detail,
        statusCode: status,
        extensions: code is null ? null : new Dictionary<string, object?> { ["code"] = code });

    private static string Shorten(string? s) => s is null ? "(none)" : s.Length <= 64 ? s : s[..64] + "…";
}
