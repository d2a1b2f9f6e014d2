using System.Globalization;
using System.Text.Json;
using System.Text.Json.Nodes;
using Enclave.Core;
using Enclave.Core.Audit;
using Enclave.Intel.Alerts;
using Enclave.Policy.Identity;
using Microsoft.AspNetCore.Builder;
using Microsoft.AspNetCore.Http;
using Microsoft.AspNetCore.Routing;

namespace Enclave.Server.Admin;

/// <summary>
/// <c>/admin/v1/alerts</c>: list (filters <c>state</c>, <c>kind</c>, <c>severity</c> as a minimum, <c>since</c>,
/// <c>limit</c>) and show, for admins, auditors and analysts; acknowledge and resolve, for admins. Each change is a
/// ledger entry with the caller as actor (<see cref="AlertService"/>).
/// </summary>
internal static class AlertAdminEndpoints
{
    private const int MaxBodyBytes = 8 * 1024;

    public static RouteGroupBuilder MapAlerts(this RouteGroupBuilder admin)
    {
        string[] readers = [Roles.Admin, Roles.Auditor, Roles.Analyst];
        admin.MapGet("/alerts", List).RequireAuthorization(p => p.RequireRole(readers));
        admin.MapGet("/alerts/{id}", Show).RequireAuthorization(p => p.RequireRole(readers));
        admin.MapPost("/alerts/{id}/ack", AcknowledgeAsync).RequireAuthorization(p => p.RequireRole(Roles.Admin));
        admin.MapPost("/alerts/{id}/resolve", ResolveAsync).RequireAuthorization(p => p.RequireRole(Roles.Admin));
        return admin;
    }

    private static IResult List(AlertService alerts, string? state, string? kind, string? severity, string? since, string? limit)
    {
        var problems = new List<string>();
        List<AlertState>? states = null;
        if (!string.IsNullOrEmpty(state))
        {
            states = [];
            foreach (var name in state.Split(',', StringSplitOptions.TrimEntries))
            {
                if (AlertNames.TryParseState(name, out var parsed))
                {
                    states.Add(parsed);
                }
                else
                {
                    problems.Add($"state '{Shorten(name)}' is not one of {string.Join(", ", AlertNames.States)}");
                }
            }
        }

        AlertKind? kindFilter = null;
        if (!string.IsNullOrEmpty(kind))
        {
            if (AlertNames.TryParseKind(kind, out var parsed))
            {
                kindFilter = parsed;
            }
            else
            {
                problems.Add($"kind '{Shorten(kind)}' is not one of {string.Join(", ", AlertNames.Kinds)}");
            }
        }

        AlertSeverity? minimum = null;
        if (!string.IsNullOrEmpty(severity))
        {
            if (AlertNames.TryParseSeverity(severity, out var parsed))
            {
                minimum = parsed;
            }
            else
            {
                problems.Add($"severity '{Shorten(severity)}' is not one of {string.Join(", ", AlertNames.Severities)}");
            }
        }

        DateTimeOffset? sinceTime = null;
        if (!string.IsNullOrEmpty(since))
        {
            if (DateTimeOffset.TryParse(since, CultureInfo.InvariantCulture, DateTimeStyles.AssumeUniversal | DateTimeStyles.AdjustToUniversal, out var parsed))
            {
                sinceTime = parsed;
            }
            else
            {
                problems.Add($"since '{Shorten(since)}' is not an RFC 3339 time");
            }
        }

        var count = 100;
        if (!string.IsNullOrEmpty(limit) && (!int.TryParse(limit, NumberStyles.None, CultureInfo.InvariantCulture, out count) || count is < 1 or > AlertFilter.MaxLimit))
        {
            problems.Add($"limit must be a whole number from 1 to {AlertFilter.MaxLimit}, not '{Shorten(limit)}'");
        }

        if (problems.Count > 0)
        {
            return Problem(StatusCodes.Status400BadRequest, "Invalid filter", string.Join("; ", problems));
        }

        var list = alerts.List(new AlertFilter { States = states, Kind = kindFilter, MinimumSeverity = minimum, Since = sinceTime, Limit = count });
        return Results.Json(new JsonObject { ["alerts"] = new JsonArray([.. list.Select(a => (JsonNode)ToJson(a))]) });
    }

    private static IResult Show(string id, AlertService alerts) =>
        alerts.Find(id) is { } alert ? Results.Json(ToJson(alert)) : Problem(StatusCodes.Status404NotFound, "Not found", $"no alert has ID '{Shorten(id)}'");

    private static async Task<IResult> AcknowledgeAsync(string id, HttpContext http, AlertService alerts)
    {
        var (body, problem) = await ReadBodyAsync(http, "{\"note\": \"optional, what you are doing about it\"}").ConfigureAwait(false);
        if (body is null)
        {
            return problem ?? Problem(StatusCodes.Status400BadRequest, "Invalid request", "the body must be a JSON object; nothing was changed");
        }

        if (!TryString(body, "note", out var note))
        {
            return Problem(StatusCodes.Status400BadRequest, "Invalid request", "note must be a string; nothing was changed");
        }

        return await Change(() => alerts.AcknowledgeAsync(id, http.User.PrincipalId(), note, http.RequestAborted)).ConfigureAwait(false);
    }

    private static async Task<IResult> ResolveAsync(string id, HttpContext http, AlertService alerts)
    {
        const string shape = "{\"reason\": \"why it is resolved\", \"resolution\": \"resolved\" or \"false-positive\"}";
        var (body, problem) = await ReadBodyAsync(http, shape).ConfigureAwait(false);
        if (body is null)
        {
            return problem ?? Problem(StatusCodes.Status400BadRequest, "Invalid request", "the body must be a JSON object; nothing was changed");
        }

        if (!TryString(body, "reason", out var reason) || !TryString(body, "resolution", out var resolution)
            || resolution is not (null or "resolved" or "false-positive"))
        {
            return Problem(StatusCodes.Status400BadRequest, "Invalid request", $"the body must be {shape}; nothing was changed");
        }

        return await Change(() => alerts.ResolveAsync(id, http.User.PrincipalId(), resolution == "false-positive", reason ?? string.Empty, http.RequestAborted)).ConfigureAwait(false);
    }

    private static async Task<IResult> Change(Func<Task<Alert>> change)
    {
        try
        {
            return Results.Json(ToJson(await change().ConfigureAwait(false)));
        }
        catch (AlertException e)
        {
            return e.Reason switch
            {
                AlertError.NotFound => Problem(StatusCodes.Status404NotFound, "Not found", e.Message),
                AlertError.InvalidTransition => Problem(StatusCodes.Status409Conflict, "Not allowed in this state", e.Message + "; nothing was changed", "invalid-transition"),
                _ => Problem(StatusCodes.Status400BadRequest, "Invalid request", e.Message + "; nothing was changed"),
            };
        }
    }

    private static async Task<(JsonObject? Body, IResult? Problem)> ReadBodyAsync(HttpContext http, string shape)
    {
        var (bytes, tooLarge) = await AdminRequestBody.ReadAsync(http, MaxBodyBytes).ConfigureAwait(false);
        if (tooLarge)
        {
            return (null, Problem(StatusCodes.Status413PayloadTooLarge, "Body too large", $"the body is at most {MaxBodyBytes} bytes; nothing was changed"));
        }

        if (bytes.Length == 0)
        {
            return (new JsonObject(), null);
        }

        try
        {
            // Strict: duplicate keys, invalid UTF-8 and lone surrogates are a 400 here, not a 500 later.
            return StrictJson.Parse(bytes, maxDepth: 8) is JsonObject body
                ? (body, null)
                : (null, Problem(StatusCodes.Status400BadRequest, "Invalid request", $"the body must be a JSON object {shape}; nothing was changed"));
        }
        catch (JsonException e)
        {
            return (null, Problem(StatusCodes.Status400BadRequest, "Invalid request", $"the body is not JSON ({e.Message}); it must be {shape}; nothing was changed"));
        }
    }

    private static bool TryString(JsonObject body, string name, out string? value)
    {
        value = null;
        if (!body.TryGetPropertyValue(name, out var node) || node is null)
        {
            return true;
        }

        return node is JsonValue v && v.TryGetValue(out value);
    }

    /// <summary>An alert as the admin API shows it.</summary>
    internal static JsonObject ToJson(Alert alert)
    {
        var facts = new JsonObject();
        foreach (var (name, value) in alert.Evidence.Facts.OrderBy(f => f.Key, StringComparer.Ordinal))
        {
            facts[name] = value;
        }

        return new JsonObject
        {
            ["id"] = alert.Id,
            ["kind"] = alert.Kind.Name(),
            ["severity"] = alert.Severity.Name(),
            ["state"] = alert.State.Name(),
            ["title"] = alert.Title,
            ["subject"] = alert.Subject,
            ["evidence"] = new JsonObject
            {
                ["summary"] = alert.Evidence.Summary,
                ["ledgerIndices"] = new JsonArray([.. alert.Evidence.LedgerIndices.Select(i => JsonValue.Create(i))]),
                ["facts"] = facts,
            },
            ["dedupKey"] = alert.DeduplicationKey,
            ["raised"] = AuditEvent.FormatTime(alert.Raised),
            ["raisedBy"] = alert.RaisedBy,
            ["raisedIndex"] = alert.RaisedIndex,
            ["updated"] = alert.Updated is { } u ? AuditEvent.FormatTime(u) : null,
            ["updatedBy"] = alert.UpdatedBy,
            ["updatedIndex"] = alert.UpdatedIndex,
            ["reason"] = alert.Reason,
        };
    }

    private static IResult Problem(int status, string title, string detail, string? code = null) => Results.Problem(
        title: title,
        detail: detail,
        statusCode: status,
        extensions: code is null ? null : new Dictionary<string, object?> { ["code"] = code });

    private static string Shorten(string? s) => s is null ? "(none)" : s.Length <= 64 ? s : s[..64] + "…";
}
