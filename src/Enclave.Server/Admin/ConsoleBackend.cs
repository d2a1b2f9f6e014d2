using System.Security.Claims;
using System.Text.Json.Nodes;
using Enclave.Airlock.Import;
using Enclave.Core;
using Enclave.Core.Audit;
using Enclave.Intel.Alerts;
using Enclave.Intel.Live;
using Enclave.Intel.Vulnerabilities.Findings;
using Enclave.Ledger;
using Enclave.OperatorConsole.Backend;
using Enclave.Policy.Identity;
using Enclave.Policy.Labels;
using Enclave.Policy.Requests;
using Enclave.Server.Audit;
using Enclave.Server.Auth;
using Enclave.Server.Hosting;
using Enclave.Server.OpenAi;
using Enclave.Server.Policy;
using Microsoft.AspNetCore.Http;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Logging;

namespace Enclave.Server.Admin;

/// <summary>
/// The operator console's way into the server: the same stores, the same change code and the same role checks as the
/// admin API endpoints (<see cref="IdentityAdminEndpoints"/>, <see cref="AirlockAdminEndpoints"/>), with <c>via:
/// console</c> in the ledger entries the console's actions write.
/// </summary>
internal sealed class ConsoleBackend(
    ApiKeyStore keys,
    ILedger ledger,
    TimeProvider clock,
    AirlockImporter importer,
    AirlockModels models,
    EnclavePolicy policy,
    VulnerabilityFindingsService findings,
    RetroHunter hunter,
    AlertService alerts,
    EffectiveSettings settings,
    IPrincipalDirectory directory,
    ConsoleOidcClient oidc,
    ModelCatalog catalog,
    IServiceProvider services,
    ILoggerFactory logs) : IConsoleBackend
{
    /// <summary>The <c>via</c> detail of the entries the console writes.</summary>
    public const string Via = "console";

    public LabelScheme Labels => policy.Scheme;

    public async Task<(ClaimsPrincipal? Principal, string? Refusal)> SignInAsync(string presentedKey, string? remoteAddress, CancellationToken cancellationToken)
    {
        ArgumentNullException.ThrowIfNull(presentedKey);
        if (keys.TryValidate(presentedKey.Trim(), out var valid, out var rejection))
        {
            return (PrincipalOf(valid.Key, valid.Principal), null);
        }

        var reason = rejection switch
        {
            KeyRejection.Malformed => "malformed_key",
            KeyRejection.UnknownKey => "unknown_key",
            KeyRejection.WrongSecret => "wrong_secret",
            KeyRejection.Revoked => "revoked",
            KeyRejection.Expired => "expired",
            KeyRejection.PrincipalDisabled => "principal_disabled",
            _ => "invalid",
        };
        var refusal = rejection switch
        {
            KeyRejection.Revoked => "the key has been revoked",
            KeyRejection.Expired => "the key has expired",
            KeyRejection.PrincipalDisabled => "the key's user is disabled",
            KeyRejection.Malformed => "that is not an API key (they start with ek_)",
            _ => "the key is not valid",
        };

        // Refused like the API refuses a key: an auth.failed entry (never the key itself, only its ID).
        var details = new AuthFailedDetails
        {
            Scheme = "console",
            Reason = reason,
            Method = "POST",
            KeyId = ApiKeyStore.PresentedKeyId(presentedKey.Trim()),
            RemoteAddress = remoteAddress,
        };

        try
        {
            await ledger.AppendAsync(AuditEvent.Create(clock.GetUtcNow(), "anonymous", "/console/signin", details), cancellationToken).ConfigureAwait(false);
        }
        catch (Exception e) when (e is LedgerWriteException or ObjectDisposedException or EnclaveFormatException)
        {
            refusal += " (and the refusal could not be recorded in the ledger)";
        }

        return (null, refusal);
    }

    public ClaimsPrincipal? Refresh(string keyId)
    {
        var key = keys.GetKey(keyId);
        if (key is null || key.Revoked is not null || (key.Expires is { } expires && expires <= clock.GetUtcNow()))
        {
            return null;
        }

        var principal = keys.GetPrincipal(key.PrincipalId);
        return principal is null || principal.Disabled is not null ? null : PrincipalOf(key, principal);
    }

    public Task<(Uri? AuthorizationEndpoint, string? Problem)> OidcAuthorizationEndpointAsync(CancellationToken cancellationToken) =>
        oidc.AuthorizationEndpointAsync(cancellationToken);

    public Task<(ClaimsPrincipal? Principal, string? Refusal)> CompleteOidcSignInAsync(ConsoleOidcCallback callback, ConsoleOidcPending? pending, string? remoteAddress, CancellationToken cancellationToken) =>
        oidc.CompleteAsync(callback, pending, remoteAddress, cancellationToken);

    public ClaimsPrincipal? RefreshOidc(ClaimsPrincipal session)
    {
        ArgumentNullException.ThrowIfNull(session);
        var id = session.FindFirst(ClaimTypes.NameIdentifier)?.Value;
        var subject = session.FindFirst(OidcTokens.SubjectClaim)?.Value;
        if (id is null || subject is null)
        {
            return null;
        }

        if (id.StartsWith(PrincipalNames.OidcPrefix, StringComparison.Ordinal))
        {
            // Not a user of the directory: the roles and clearance the ID token gave, until the session ends.
            return session;
        }

        // A user of the directory: its current roles and clearance; the session ends once it is disabled or removed.
        if (keys.GetPrincipal(id) is not { Kind: PrincipalKind.User } user || user.Disabled is not null)
        {
            return null;
        }

        var claims = new List<Claim>
        {
            new(ClaimTypes.NameIdentifier, user.Id),
            new(ClaimTypes.Name, user.Name),
            new(OidcTokens.SubjectClaim, subject),
        };
        claims.AddRange(user.Roles.Select(r => new Claim(ClaimTypes.Role, r)));
        if (user.Clearance is { } clearance)
        {
            claims.Add(new Claim(EnclaveClaims.Clearance, clearance));
        }

        return new ClaimsPrincipal(new ClaimsIdentity(claims, EnclaveAuthentication.OidcScheme, ClaimTypes.Name, ClaimTypes.Role));
    }

    public IReadOnlyList<ConsoleModel> Models(ClaimsPrincipal actor)
    {
        ArgumentNullException.ThrowIfNull(actor);
        var (clearance, problem) = policy.ClearanceOf(actor);
        if (problem is not null)
        {
            return [];
        }

        var result = new List<ConsoleModel>();
        foreach (var (model, label, backends) in policy.Routes())
        {
            if (!clearance.Dominates(label) || !catalog.TryResolve(model, out var route))
            {
                continue;
            }

            result.Add(new ConsoleModel
            {
                Id = model,
                Label = policy.Scheme.FormatBanner(label),
                Digest = route.Digest,
                Source = route.Source,
                Created = route.Created,
                Backends = [.. backends.Select(b => b.Id)],
            });
        }

        return result;
    }

    public async Task ChatAsync(HttpContext http, string model, string message)
    {
        ArgumentNullException.ThrowIfNull(http);
        var chat = new JsonObject
        {
            ["model"] = model,
            ["messages"] = new JsonArray(new JsonObject { ["role"] = "user", ["content"] = message }),
            ["stream"] = true,
        };
        http.Items[RequestAuditor.ViaItem] = Via;
        var handler = services.GetRequiredService<RequestHandler>();
        var result = await handler.HandleAsync(http, Operation.Chat, chat).ConfigureAwait(false);
        await result.ExecuteAsync(http).ConfigureAwait(false);
    }

    public async Task UploadBundleAsync(HttpContext http)
    {
        ArgumentNullException.ThrowIfNull(http);
        var result = await AirlockAdminEndpoints.ImportAsync(http, importer, policy, services.GetRequiredService<ServerSettings>(), Via).ConfigureAwait(false);
        await result.ExecuteAsync(http).ConfigureAwait(false);
    }

    public IReadOnlyList<ConsolePrincipal> ListPrincipals() => [.. keys.ListPrincipals().Select(p => new ConsolePrincipal
    {
        Id = p.Id,
        Name = p.Name,
        Kind = PrincipalNames.KindName(p.Kind),
        Roles = p.Roles,
        Clearance = p.Clearance,
        Disabled = p.Disabled is not null,
    })];

    public IReadOnlyList<ConsoleApiKey> ListKeys() => [.. keys.ListKeys().Select(k => new ConsoleApiKey
    {
        Id = k.Id,
        Name = k.Name,
        PrincipalId = k.PrincipalId,
        Created = k.Created,
        Expires = k.Expires,
        Revoked = k.Revoked,
    })];

    public async Task<string> CreateKeyAsync(ClaimsPrincipal actor, string user, string? name, CancellationToken cancellationToken)
    {
        Require(actor, "create keys", Roles.Admin);
        var (key, _) = await IdentityChangeAsync(() => IdentityChanges.CreateKeyAsync(keys, ledger, clock, actor.PrincipalId(), user, name, null, Via, cancellationToken)).ConfigureAwait(false);
        return key;
    }

    public Task RevokeKeyAsync(ClaimsPrincipal actor, string keyId, CancellationToken cancellationToken)
    {
        Require(actor, "revoke keys", Roles.Admin);
        return IdentityChangeAsync(() => IdentityChanges.RevokeKeyAsync(keys, ledger, clock, actor.PrincipalId(), keyId, Via, cancellationToken));
    }

    public async Task<string> ApproveImportAsync(ClaimsPrincipal actor, string importId, CancellationToken cancellationToken)
    {
        Require(actor, "approve imports", Roles.Admin, Roles.AirlockApprover);
        if (findings.Options.BlockApprovalOnKev
            && await AirlockAdminEndpoints.KevRefusalAsync(importId, actor.PrincipalId(), importer, findings, ledger, clock, cancellationToken, Via).ConfigureAwait(false) is { } refusal)
        {
            throw new ConsoleActionException(refusal);
        }

        var record = await AirlockChangeAsync(() => importer.ApproveAsync(importId, actor.PrincipalId(), Via, cancellationToken)).ConfigureAwait(false);
        if (AirlockAdminEndpoints.ServeActivated(record, importer, models, logs) is { } serving)
        {
            return serving.Warning ?? $"Approved: import {record.Id} is activated and model {serving.Served?["model"]} is served.";
        }

        return record.State == ImportState.Activated
            ? $"Approved: import {record.Id} is activated."
            : $"Approved: {record.Approvers.Count} of {record.RequiredApprovals} approvals; another approver must approve before it is activated.";
    }

    public async Task<string> RejectImportAsync(ClaimsPrincipal actor, string importId, string reason, CancellationToken cancellationToken)
    {
        Require(actor, "reject imports", Roles.Admin, Roles.AirlockApprover);
        var record = await AirlockChangeAsync(() => importer.RejectAsync(importId, actor.PrincipalId(), reason, Via, cancellationToken)).ConfigureAwait(false);
        return $"Rejected: import {record.Id} will never be activated; its quarantine is removed.";
    }

    public async Task<string> AcknowledgeAlertAsync(ClaimsPrincipal actor, string alertId, string? note, CancellationToken cancellationToken)
    {
        Require(actor, "acknowledge alerts", Roles.Admin);
        var alert = await AlertChangeAsync(() => alerts.AcknowledgeAsync(alertId, actor.PrincipalId(), note, Via, cancellationToken)).ConfigureAwait(false);
        return $"Acknowledged: alert {alert.Id} (ledger entry {alert.UpdatedIndex}).";
    }

    public async Task<string> ResolveAlertAsync(ClaimsPrincipal actor, string alertId, bool falsePositive, string reason, CancellationToken cancellationToken)
    {
        Require(actor, "resolve alerts", Roles.Admin);
        var alert = await AlertChangeAsync(() => alerts.ResolveAsync(alertId, actor.PrincipalId(), falsePositive, reason, Via, cancellationToken)).ConfigureAwait(false);
        return $"{(falsePositive ? "Marked a false positive" : "Resolved")}: alert {alert.Id} (ledger entry {alert.UpdatedIndex}).";
    }

    public async Task<string> DecideVexAsync(ClaimsPrincipal actor, ConsoleVexDecision decision, CancellationToken cancellationToken)
    {
        ArgumentNullException.ThrowIfNull(decision);
        Require(actor, "record VEX decisions", Roles.Admin);
        try
        {
            var (row, evaluation) = await findings.DecideAsync(
                decision.Artifact, decision.Component, decision.Advisory, decision.Status, decision.Justification, decision.Statement, actor.PrincipalId(), cancellationToken, Via).ConfigureAwait(false);
            return $"Recorded: {row.Status} for {row.AdvisoryId} in {row.Product} ({row.InventoryId ?? "every artifact"}), ledger entry {row.LedgerIndex}; "
                + $"{evaluation.Evaluated} inventory {(evaluation.Evaluated == 1 ? "entry" : "entries")} evaluated again.";
        }
        catch (ArgumentException e)
        {
            throw new ConsoleActionException(e.Message, e);
        }
        catch (Exception e) when (e is LedgerWriteException or ObjectDisposedException)
        {
            throw new ConsoleActionException("the audit ledger could not record the decision, so it was not made: " + e.Message, e);
        }
    }

    public async Task<string> HuntAsync(ClaimsPrincipal actor, CancellationToken cancellationToken)
    {
        Require(actor, "run a retro-hunt", Roles.Admin);
        try
        {
            var result = await hunter.HuntAsync(Via, actor.PrincipalId(), 0, null, cancellationToken).ConfigureAwait(false);
            return $"Hunted ledger entries {result.From} to {result.To - 1}: {result.Entries} read, {result.Hits} {(result.Hits == 1 ? "hit" : "hits")}, {result.Alerts} new {(result.Alerts == 1 ? "alert" : "alerts")}.";
        }
        catch (Exception e) when (e is LedgerWriteException or ObjectDisposedException)
        {
            throw new ConsoleActionException("the audit ledger could not record the hunt: " + e.Message, e);
        }
    }

    public IReadOnlyList<ConsoleSetting> Settings() => settings.Read();

    public IReadOnlyList<ConsoleBackendRoute> Routes() =>
    [
        .. policy.Routes().SelectMany(r => r.Backends.Select(b => new ConsoleBackendRoute
        {
            Model = r.Model,
            ModelLabel = policy.Scheme.FormatBanner(r.Label),
            Backend = b.Id,
            Accreditation = PolicyAdminEndpoints.Accreditation(policy.Scheme, b.Accreditation),
            Jurisdiction = b.Jurisdiction,
            LeavesEnclave = b.LeavesEnclave,
            Egress = b.LeavesEnclave ? policy.EgressActionFor(b.Id).ToString().ToLowerInvariant() : null,
        })),
    ];

    public (JsonObject? Answer, string? Problem) Explain(ClaimsPrincipal actor, string user, string model, string? label, string? backend)
    {
        Require(actor, "ask policy to explain a request", Roles.Admin, Roles.Auditor);
        var (answer, _, title, detail) = PolicyAdminEndpoints.ExplainFor(policy, directory, user, model, label, backend);
        return answer is not null ? (answer, null) : (null, $"{title}: {detail}");
    }

    private static async Task<Alert> AlertChangeAsync(Func<Task<Alert>> change)
    {
        try
        {
            return await change().ConfigureAwait(false);
        }
        catch (AlertException e)
        {
            throw new ConsoleActionException(e.Message + "; nothing was changed", e);
        }
        catch (Exception e) when (e is LedgerWriteException or ObjectDisposedException)
        {
            throw new ConsoleActionException("the audit ledger could not record the change, so it was not made: " + e.Message, e);
        }
    }

    private static void Require(ClaimsPrincipal actor, string what, params string[] roles)
    {
        ArgumentNullException.ThrowIfNull(actor);
        if (!roles.Any(actor.IsInRole))
        {
            throw new ConsoleActionException($"only {string.Join(" or ", roles)} may {what}; nothing was changed", forbidden: true);
        }
    }

    private static async Task<T> IdentityChangeAsync<T>(Func<Task<T>> change)
    {
        try
        {
            return await change().ConfigureAwait(false);
        }
        catch (IdentityException e)
        {
            throw new ConsoleActionException(e.Message + "; nothing was changed", e);
        }
        catch (Exception e) when (e is LedgerWriteException or ObjectDisposedException)
        {
            throw new ConsoleActionException("the audit ledger could not record the change, so it was not made: " + e.Message, e);
        }
    }

    private static async Task<ImportRecord> AirlockChangeAsync(Func<Task<ImportRecord>> change)
    {
        try
        {
            return await change().ConfigureAwait(false);
        }
        catch (ImportWorkflowException e)
        {
            throw new ConsoleActionException(e.Message, e);
        }
        catch (ArgumentException e)
        {
            throw new ConsoleActionException(e.Message + "; nothing was changed", e);
        }
        catch (Exception e) when (e is LedgerWriteException or ObjectDisposedException)
        {
            throw new ConsoleActionException("the audit ledger could not record the decision, so it was not made: " + e.Message, e);
        }
    }

    private static ClaimsPrincipal PrincipalOf(ApiKeyRecord key, PrincipalRecord principal)
    {
        var claims = new List<Claim>
        {
            new(ClaimTypes.NameIdentifier, principal.Id),
            new(ClaimTypes.Name, principal.Name),
            new(EnclaveClaims.KeyId, key.Id),
        };
        claims.AddRange(principal.Roles.Select(r => new Claim(ClaimTypes.Role, r)));
        if (principal.Clearance is { } clearance)
        {
            claims.Add(new Claim(EnclaveClaims.Clearance, clearance));
        }

        return new ClaimsPrincipal(new ClaimsIdentity(claims, "ApiKey", ClaimTypes.Name, ClaimTypes.Role));
    }
}
