using System.Globalization;
using System.Security.Claims;
using System.Text.Json;
using System.Text.Json.Nodes;
using Enclave.Core.Audit;
using Enclave.Ledger;
using Enclave.Policy.Identity;
using Microsoft.AspNetCore.Builder;
using Microsoft.AspNetCore.Http;
using Microsoft.AspNetCore.Routing;

namespace Enclave.Server.Admin;

/// <summary>
/// Users, service accounts and API keys under <c>/admin/v1</c>. Changes need the admin role and each is recorded in
/// the ledger (<c>user.added</c>, <c>user.updated</c>, <c>user.disabled</c>, <c>key.created</c>, <c>key.revoked</c>) before it takes effect;
/// if the ledger cannot record it, nothing changes (503). Any principal may list its own keys and see who it is.
/// </summary>
public static class IdentityAdminEndpoints
{
    /// <summary>Largest request body these endpoints read.</summary>
    public const int MaxBodyBytes = 64 * 1024;

    /// <summary>Maps <c>/users</c>, <c>/keys</c> and <c>/whoami</c> onto the admin group.</summary>
    public static RouteGroupBuilder MapIdentity(this RouteGroupBuilder admin)
    {
        ArgumentNullException.ThrowIfNull(admin);
        admin.MapGet("/whoami", (ClaimsPrincipal user) => Results.Json(new JsonObject
        {
            ["id"] = user.PrincipalId(),
            ["name"] = user.Identity?.Name,
            ["roles"] = new JsonArray([.. user.FindAll(ClaimTypes.Role).Select(c => (JsonNode)c.Value)]),
            ["clearance"] = user.FindFirst(EnclaveClaims.Clearance)?.Value,
            ["keyId"] = user.FindFirst(EnclaveClaims.KeyId)?.Value,
            ["authenticatedBy"] = user.Identity?.AuthenticationType,
        })).RequireAuthorization();

        admin.MapGet("/users", (ApiKeyStore store) => Results.Json(new JsonObject
        {
            ["users"] = new JsonArray([.. store.ListPrincipals().Select(p => (JsonNode)ToJson(p))]),
        })).RequireAuthorization(p => p.RequireRole(Roles.Admin));

        admin.MapGet("/users/{name}", (string name, ApiKeyStore store) => store.GetPrincipal(name) is { } principal
                ? Results.Json(ToJson(principal))
                : Results.Problem(title: "Not found", detail: $"there is no user or service account '{Shorten(name)}'", statusCode: StatusCodes.Status404NotFound))
            .RequireAuthorization(p => p.RequireRole(Roles.Admin));

        admin.MapPost("/users", AddUserAsync).RequireAuthorization(p => p.RequireRole(Roles.Admin));
        admin.MapPost("/users/{name}/disable", DisableUserAsync).RequireAuthorization(p => p.RequireRole(Roles.Admin));
        admin.MapPatch("/users/{name}", UpdateUserAsync).RequireAuthorization(p => p.RequireRole(Roles.Admin));

        admin.MapGet("/keys", ListKeys).RequireAuthorization();
        admin.MapPost("/keys", CreateKeyAsync).RequireAuthorization(p => p.RequireRole(Roles.Admin));
        admin.MapDelete("/keys/{id}", RevokeKeyAsync).RequireAuthorization(p => p.RequireRole(Roles.Admin));
        return admin;
    }

    private static async Task<IResult> AddUserAsync(HttpContext http, ApiKeyStore store, ILedger ledger, TimeProvider clock)
    {
        var (body, error) = await ReadBodyAsync(http, ["name", "kind", "roles", "clearance"]).ConfigureAwait(false);
        if (error is not null)
        {
            return error;
        }

        var problems = new List<string>();
        var name = String(body!, "name", problems, required: true);
        var kindText = String(body!, "kind", problems, required: false) ?? "user";
        var clearance = String(body!, "clearance", problems, required: false);
        if (!PrincipalNames.TryParseKind(kindText, out var kind))
        {
            problems.Add($"'kind' must be 'user' or 'service', not '{Shorten(kindText)}'");
        }

        var roles = new List<string>();
        if (body!["roles"] is JsonArray array)
        {
            foreach (var item in array)
            {
                if (item is JsonValue value && value.TryGetValue<string>(out var role))
                {
                    roles.Add(role);
                }
                else
                {
                    problems.Add("'roles' must be an array of strings");
                    break;
                }
            }
        }
        else if (body["roles"] is not null)
        {
            problems.Add("'roles' must be an array of strings");
        }

        if (problems.Count > 0)
        {
            return Invalid(problems);
        }

        var actor = http.User.PrincipalId();
        return await ChangeAsync(async () =>
        {
            var added = await store.AddPrincipalAsync(name!, kind, roles, clearance, p => Record(ledger, clock, actor, p.Id, new UserAddedDetails
            {
                Name = p.Name,
                Kind = PrincipalNames.KindName(p.Kind),
                Roles = [.. p.Roles],
                Clearance = p.Clearance,
            }), http.RequestAborted).ConfigureAwait(false);
            return Results.Created($"{AdminApi.Prefix}/users/{added.Name}", ToJson(added));
        }).ConfigureAwait(false);
    }

    private static async Task<IResult> UpdateUserAsync(string name, HttpContext http, ApiKeyStore store, ILedger ledger, TimeProvider clock)
    {
        var (body, error) = await ReadBodyAsync(http, ["roles", "clearance"]).ConfigureAwait(false);
        if (error is not null)
        {
            return error;
        }

        var problems = new List<string>();
        var clearance = String(body!, "clearance", problems, required: false);
        List<string>? roles = null;
        if (body!["roles"] is JsonArray array)
        {
            roles = [];
            foreach (var item in array)
            {
                if (item is JsonValue value && value.TryGetValue<string>(out var role))
                {
                    roles.Add(role);
                }
                else
                {
                    problems.Add("'roles' must be an array of strings");
                    break;
                }
            }
        }
        else if (body["roles"] is not null)
        {
            problems.Add("'roles' must be an array of strings");
        }

        if (roles is null && clearance is null && problems.Count == 0)
        {
            problems.Add("give 'roles' (the complete new list) and/or 'clearance' (a banner marking; \"\" for the lowest level)");
        }

        if (problems.Count > 0)
        {
            return Invalid(problems);
        }

        var actor = http.User.PrincipalId();
        return await ChangeAsync(async () =>
        {
            var (_, updated) = await store.UpdatePrincipalAsync(name, roles, clearance, (before, after) => Record(ledger, clock, actor, after.Id, new UserUpdatedDetails
            {
                Name = after.Name,
                Roles = [.. after.Roles],
                Clearance = after.Clearance,
                PreviousRoles = [.. before.Roles],
                PreviousClearance = before.Clearance,
            }), http.RequestAborted).ConfigureAwait(false);
            return Results.Json(ToJson(updated));
        }).ConfigureAwait(false);
    }

    private static Task<IResult> DisableUserAsync(string name, HttpContext http, ApiKeyStore store, ILedger ledger, TimeProvider clock)
    {
        var actor = http.User.PrincipalId();
        return ChangeAsync(async () =>
        {
            var disabled = await store.DisablePrincipalAsync(name, p => Record(ledger, clock, actor, p.Id, new UserDisabledDetails
            {
                Name = p.Name,
                ActiveKeys = store.ListKeys(p.Id).Count(k => k.Revoked is null),
            }), http.RequestAborted).ConfigureAwait(false);
            return Results.Json(ToJson(disabled));
        });
    }

    private static IResult ListKeys(HttpContext http, ApiKeyStore store, TimeProvider clock, string? user)
    {
        var caller = http.User.PrincipalId();
        string? principalId;
        if (http.User.IsInRole(Roles.Admin))
        {
            if (user is null)
            {
                principalId = null;
            }
            else if (store.GetPrincipal(user) is { } owner)
            {
                principalId = owner.Id;
            }
            else
            {
                return Results.Problem(title: "Not found", detail: $"there is no user or service account '{Shorten(user)}'", statusCode: StatusCodes.Status404NotFound);
            }
        }
        else
        {
            // Anyone may list their own keys, and only those.
            if (user is not null && store.GetPrincipal(user)?.Id != caller)
            {
                return Results.Problem(title: "Forbidden", detail: "only an admin may list another principal's keys", statusCode: StatusCodes.Status403Forbidden);
            }

            principalId = caller;
        }

        var now = clock.GetUtcNow();
        return Results.Json(new JsonObject
        {
            ["keys"] = new JsonArray([.. store.ListKeys(principalId).Select(k => (JsonNode)ToJson(k, now))]),
        });
    }

    private static async Task<IResult> CreateKeyAsync(HttpContext http, ApiKeyStore store, ILedger ledger, TimeProvider clock)
    {
        var (body, error) = await ReadBodyAsync(http, ["user", "name", "expires"]).ConfigureAwait(false);
        if (error is not null)
        {
            return error;
        }

        var problems = new List<string>();
        var user = String(body!, "user", problems, required: true);
        var name = String(body!, "name", problems, required: false);
        var expiresText = String(body!, "expires", problems, required: false);
        DateTimeOffset? expires = null;
        if (expiresText is not null)
        {
            if (DateTimeOffset.TryParse(expiresText, CultureInfo.InvariantCulture, DateTimeStyles.AssumeUniversal | DateTimeStyles.AdjustToUniversal, out var parsed)
                && expiresText.Contains('T', StringComparison.Ordinal))
            {
                expires = parsed;
            }
            else
            {
                problems.Add($"'expires' must be an RFC 3339 timestamp such as 2027-01-31T00:00:00Z, not '{Shorten(expiresText)}'");
            }
        }

        if (problems.Count > 0)
        {
            return Invalid(problems);
        }

        var actor = http.User.PrincipalId();
        return await ChangeAsync(async () =>
        {
            var (key, record) = await IdentityChanges.CreateKeyAsync(store, ledger, clock, actor, user!, name, expires, via: null, http.RequestAborted).ConfigureAwait(false);
            var json = ToJson(record, clock.GetUtcNow());
            json["key"] = key;
            return Results.Json(json, statusCode: StatusCodes.Status201Created);
        }).ConfigureAwait(false);
    }

    private static Task<IResult> RevokeKeyAsync(string id, HttpContext http, ApiKeyStore store, ILedger ledger, TimeProvider clock)
    {
        var actor = http.User.PrincipalId();
        return ChangeAsync(async () =>
        {
            var revoked = await IdentityChanges.RevokeKeyAsync(store, ledger, clock, actor, id, via: null, http.RequestAborted).ConfigureAwait(false);
            return Results.Json(ToJson(revoked, clock.GetUtcNow()));
        });
    }

    private static async Task<IResult> ChangeAsync(Func<Task<IResult>> change)
    {
        try
        {
            return await change().ConfigureAwait(false);
        }
        catch (IdentityException ex)
        {
            var (status, title) = ex.Error switch
            {
                IdentityError.NotFound => (StatusCodes.Status404NotFound, "Not found"),
                IdentityError.Conflict => (StatusCodes.Status409Conflict, "Conflict"),
                _ => (StatusCodes.Status400BadRequest, "Invalid request"),
            };
            return Results.Problem(title: title, detail: ex.Message + "; nothing was changed", statusCode: status);
        }
        catch (Exception ex) when (ex is LedgerWriteException or ObjectDisposedException)
        {
            return Results.Problem(
                title: "Ledger unavailable",
                detail: "the audit ledger could not record the change, so it was not made: " + ex.Message,
                statusCode: StatusCodes.Status503ServiceUnavailable);
        }
    }

    private static ValueTask Record<TDetails>(ILedger ledger, TimeProvider clock, string actor, string subject, TDetails details)
        where TDetails : class, IAuditDetails =>
        IdentityChanges.Record(ledger, clock, actor, subject, details);

    private static async Task<(JsonObject? Body, IResult? Error)> ReadBodyAsync(HttpContext http, string[] allowed)
    {
        var (bytes, tooLarge) = await AdminRequestBody.ReadAsync(http, MaxBodyBytes).ConfigureAwait(false);
        if (tooLarge)
        {
            return (null, Invalid([$"the request body is larger than {MaxBodyBytes} bytes"]));
        }

        JsonNode? node;
        try
        {
            node = Enclave.Core.StrictJson.Parse(bytes, maxDepth: 8);
        }
        catch (Exception ex) when (ex is JsonException or InvalidOperationException) // the latter: a member name with a lone surrogate
        {
            return (null, Invalid([$"the request body is not valid JSON: {ex.Message}"]));
        }

        if (node is not JsonObject body)
        {
            return (null, Invalid(["the request body must be a JSON object"]));
        }

        var unknown = body.Select(p => p.Key).Where(k => !allowed.Contains(k, StringComparer.Ordinal)).ToList();
        return unknown.Count > 0
            ? (null, Invalid([$"unknown field(s) {string.Join(", ", unknown.Select(u => "'" + Shorten(u) + "'"))}; allowed: {string.Join(", ", allowed)}"]))
            : (body, null);
    }

    private static string? String(JsonObject body, string name, List<string> problems, bool required)
    {
        var node = body[name];
        if (node is null)
        {
            if (required)
            {
                problems.Add($"'{name}' is required");
            }

            return null;
        }

        if (node is JsonValue value && value.TryGetValue<string>(out var text))
        {
            return text;
        }

        problems.Add($"'{name}' must be a string");
        return null;
    }

    private static IResult Invalid(IReadOnlyList<string> problems) =>
        Results.Problem(title: "Invalid request", detail: string.Join("; ", problems) + "; nothing was changed", statusCode: StatusCodes.Status400BadRequest);

    private static JsonObject ToJson(PrincipalRecord principal) => new()
    {
        ["id"] = principal.Id,
        ["name"] = principal.Name,
        ["kind"] = PrincipalNames.KindName(principal.Kind),
        ["roles"] = new JsonArray([.. principal.Roles.Select(r => (JsonNode)r)]),
        ["clearance"] = principal.Clearance,
        ["created"] = AuditEvent.FormatTime(principal.Created),
        ["disabled"] = principal.Disabled is { } d ? AuditEvent.FormatTime(d) : null,
    };

    private static JsonObject ToJson(ApiKeyRecord key, DateTimeOffset now) => new()
    {
        ["id"] = key.Id,
        ["name"] = key.Name,
        ["principal"] = key.PrincipalId,
        ["created"] = AuditEvent.FormatTime(key.Created),
        ["expires"] = key.Expires is { } e ? AuditEvent.FormatTime(e) : null,
        ["revoked"] = key.Revoked is { } r ? AuditEvent.FormatTime(r) : null,
        ["status"] = key.Revoked is not null ? "revoked" : key.Expires is { } x && x <= now ? "expired" : "active",
    };

    private static string Shorten(string text) => text.Length <= 64 ? text : text[..64] + "…";
}
