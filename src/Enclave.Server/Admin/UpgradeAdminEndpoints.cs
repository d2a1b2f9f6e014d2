using System.Text.Json;
using System.Text.Json.Nodes;
using Enclave.Core;
using Enclave.Core.Audit;
using Enclave.Intel.Upgrades;
using Enclave.Policy.Identity;
using Enclave.State.Vulnerabilities;
using Microsoft.AspNetCore.Builder;
using Microsoft.AspNetCore.Http;
using Microsoft.AspNetCore.Routing;

namespace Enclave.Server.Admin;

/// <summary>
/// <c>/admin/v1/upgrade</c> (role admin): the install root's releases, the activated update bundles and what the staged
/// release resolves (<c>GET</c>); <c>POST .../stage</c> (<c>{"version"}</c> or <c>{"importId"}</c>), <c>POST .../apply</c>
/// (optional <c>{"version"}</c>, which must be the staged one), <c>POST .../rollback</c>. A refused or failed step is a
/// problem with <c>code</c> (the <see cref="UpgradeFailure"/> in kebab case) and an <c>upgrade.failed</c> ledger entry;
/// the current release is unchanged.
/// </summary>
internal static class UpgradeAdminEndpoints
{
    private const int MaxBodyBytes = 4 * 1024;

    public static RouteGroupBuilder MapUpgrade(this RouteGroupBuilder admin)
    {
        admin.MapGet("/upgrade", (UpgradeService upgrade) => Results.Json(Status(upgrade.Status()))).RequireAuthorization(p => p.RequireRole(Roles.Admin));
        admin.MapPost("/upgrade/stage", StageAsync).RequireAuthorization(p => p.RequireRole(Roles.Admin));
        admin.MapPost("/upgrade/apply", ApplyAsync).RequireAuthorization(p => p.RequireRole(Roles.Admin));
        admin.MapPost("/upgrade/rollback", RollbackAsync).RequireAuthorization(p => p.RequireRole(Roles.Admin));
        return admin;
    }

    private static async Task<IResult> StageAsync(HttpContext http, UpgradeService upgrade)
    {
        const string shape = "{\"version\": \"1.2.3\"} or {\"importId\": \"imp_...\"}";
        var (body, problem) = await ReadAsync(http, shape, ["version", "importId"], allowEmpty: false).ConfigureAwait(false);
        if (problem is not null)
        {
            return problem;
        }

        if ((body!["version"] is null) == (body["importId"] is null))
        {
            return Problem(StatusCodes.Status400BadRequest, "Invalid request", $"name exactly one of version and importId: {shape}; nothing was staged");
        }

        try
        {
            var staged = await upgrade.StageAsync(Text(body, "version"), Text(body, "importId"), http.User.PrincipalId(), http.RequestAborted).ConfigureAwait(false);
            var answer = Release(staged.Release)!;
            answer["ledgerIndex"] = staged.LedgerIndex;
            answer["comparison"] = Comparison(staged.Comparison);
            return Results.Json(answer, statusCode: StatusCodes.Status201Created);
        }
        catch (UpgradeException e)
        {
            return Failure(e);
        }
    }

    private static async Task<IResult> ApplyAsync(HttpContext http, UpgradeService upgrade)
    {
        var (body, problem) = await ReadAsync(http, "{\"version\": \"the staged version (optional)\"}", ["version"], allowEmpty: true).ConfigureAwait(false);
        if (problem is not null)
        {
            return problem;
        }

        try
        {
            return Switched(await upgrade.ApplyAsync(Text(body!, "version"), http.User.PrincipalId(), http.RequestAborted).ConfigureAwait(false));
        }
        catch (UpgradeException e)
        {
            return Failure(e);
        }
    }

    private static async Task<IResult> RollbackAsync(HttpContext http, UpgradeService upgrade)
    {
        var (_, problem) = await ReadAsync(http, "{} or no body", [], allowEmpty: true).ConfigureAwait(false);
        if (problem is not null)
        {
            return problem;
        }

        try
        {
            return Switched(await upgrade.RollbackAsync(http.User.PrincipalId(), http.RequestAborted).ConfigureAwait(false));
        }
        catch (UpgradeException e)
        {
            return Failure(e);
        }
    }

    // The body: a JSON object whose members are all strings among `members` (empty allowed when `allowEmpty`).
    private static async Task<(JsonObject? Body, IResult? Problem)> ReadAsync(HttpContext http, string shape, string[] members, bool allowEmpty)
    {
        var (bytes, tooLarge) = await AdminRequestBody.ReadAsync(http, MaxBodyBytes).ConfigureAwait(false);
        if (tooLarge)
        {
            return (null, Problem(StatusCodes.Status413PayloadTooLarge, "Body too large", $"the body is at most {MaxBodyBytes} bytes; nothing was changed"));
        }

        if (bytes.Length == 0 && allowEmpty)
        {
            return ([], null);
        }

        JsonObject body;
        try
        {
            if (StrictJson.Parse(bytes, maxDepth: 2) is not JsonObject parsed)
            {
                return (null, Problem(StatusCodes.Status400BadRequest, "Invalid request", $"the body must be a JSON object {shape}; nothing was changed"));
            }

            body = parsed;
        }
        catch (JsonException e)
        {
            return (null, Problem(StatusCodes.Status400BadRequest, "Invalid request", $"the body is not JSON ({e.Message}); it must be {shape}; nothing was changed"));
        }

        foreach (var (name, value) in body)
        {
            if (!members.Contains(name, StringComparer.Ordinal))
            {
                return (null, Problem(StatusCodes.Status400BadRequest, "Invalid request", $"unknown member '{Shorten(name)}'; the body must be {shape}; nothing was changed"));
            }

            if (value is not null && (value is not JsonValue v || !v.TryGetValue<string>(out var text) || text.Length is 0 or > 128))
            {
                return (null, Problem(StatusCodes.Status400BadRequest, "Invalid request", $"{name} must be a string of 1 to 128 characters; the body must be {shape}; nothing was changed"));
            }
        }

        return (body, null);
    }

    private static string? Text(JsonObject body, string name) => body[name]?.GetValue<string>();

    private static IResult Switched(SwitchResult result) => Results.Json(new JsonObject
    {
        ["from"] = result.From?.Version,
        ["to"] = result.To.Version,
        ["current"] = Release(result.To),
        ["ledgerIndex"] = result.LedgerIndex,
        ["restart"] = "the service runs the new current release from its next start",
    });

    private static IResult Failure(UpgradeException e) => Problem(
        e.Reason switch
        {
            UpgradeFailure.NotFound => StatusCodes.Status404NotFound,
            UpgradeFailure.NothingStaged or UpgradeFailure.NotStaged or UpgradeFailure.NoPrevious or UpgradeFailure.AlreadyCurrent => StatusCodes.Status409Conflict,
            UpgradeFailure.DiskError => StatusCodes.Status503ServiceUnavailable,
            _ => StatusCodes.Status422UnprocessableEntity,
        },
        "Upgrade step refused",
        e.Message,
        e.Code);

    private static JsonObject Status(UpgradeStatus status) => new()
    {
        ["installRoot"] = status.InstallRoot,
        ["running"] = status.Running,
        ["current"] = Release(status.Current),
        ["previous"] = Release(status.Previous),
        ["staged"] = Release(status.Staged),
        ["installed"] = new JsonArray([.. status.Installed.Select(r => (JsonNode)Release(r)!)]),
        ["available"] = new JsonArray([.. status.Available.Select(u => (JsonNode)new JsonObject
        {
            ["name"] = u.Name,
            ["version"] = u.Version,
            ["importId"] = u.ImportId,
            ["activated"] = AuditEvent.FormatTime(u.Activated),
            ["files"] = u.Files.Count,
            ["sbom"] = u.SbomPath is not null,
        })]),
        ["comparison"] = status.Comparison is null ? null : Comparison(status.Comparison),
    };

    private static JsonObject? Release(InstalledRelease? release) => release is null ? null : new JsonObject
    {
        ["version"] = release.Version,
        ["path"] = release.Path,
        ["name"] = release.Name,
        ["importId"] = release.ImportId,
    };

    private static JsonObject Comparison(UpgradeComparison comparison) => new()
    {
        ["data"] = comparison.Data is null ? null : VulnsAdminEndpoints.Freshness(comparison.Data),
        ["resolves"] = Findings(comparison.Resolves),
        ["introduces"] = Findings(comparison.Introduces),
        ["problem"] = comparison.Problem,
    };

    private static JsonArray? Findings(IReadOnlyList<FindingRow>? rows) =>
        rows is null ? null : new JsonArray([.. rows.Select(r => (JsonNode)VulnsAdminEndpoints.ToJson(r, withArtifact: false))]);

    private static IResult Problem(int status, string title, string detail, string? code = null) => Results.Problem(
        title: title,
        detail: detail,
        statusCode: status,
        extensions: code is null ? null : new Dictionary<string, object?> { ["code"] = code });

    private static string Shorten(string s) => s.Length <= 64 ? s : s[..64] + "…";
}
