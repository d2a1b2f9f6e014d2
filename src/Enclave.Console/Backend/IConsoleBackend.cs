using System.Security.Claims;
using System.Text.Json.Nodes;
using Microsoft.AspNetCore.Http;
using Enclave.Policy.Labels;

namespace Enclave.OperatorConsole.Backend;

/// <summary>
/// What the console needs from the server that lives above it (the identity store, the airlock's serving step): the
/// server implements it with the same code its admin API runs, so an action taken in the console is the same change and
/// the same ledger entry as through <c>/admin/v1</c>, with <c>via: console</c> in the entry's details. Every method
/// that changes state checks the actor's roles itself and throws <see cref="ConsoleActionException"/> when the actor
/// may not act or the change is refused; nothing is changed then.
/// </summary>
public interface IConsoleBackend
{
    /// <summary>The enclave's label scheme (the classification banner and the highest label on each page).</summary>
    LabelScheme Labels { get; }

    /// <summary>
    /// Exchanges an API key for the principal it authenticates (the same claims as the API's key scheme), or no principal and
    /// the reason (a refused key is an <c>auth.failed</c> ledger entry, as on the API).
    /// </summary>
    Task<(ClaimsPrincipal? Principal, string? Refusal)> SignInAsync(string presentedKey, string? remoteAddress, CancellationToken cancellationToken);

    /// <summary>The principal of a console session signed in with key <paramref name="keyId"/>, read anew (current roles); null once the key is revoked or expired or its principal disabled.</summary>
    ClaimsPrincipal? Refresh(string keyId);

    /// <summary>
    /// The identity provider's authorization endpoint for console single sign-on (<c>Console:Oidc</c>), from its
    /// discovery document (fetched from the configured issuer, cached), or the problem in words.
    /// </summary>
    Task<(Uri? AuthorizationEndpoint, string? Problem)> OidcAuthorizationEndpointAsync(CancellationToken cancellationToken);

    /// <summary>
    /// Completes a single sign-on: checks the callback's state against the sign-in the browser started, exchanges the
    /// code at the provider's token endpoint with the PKCE verifier, validates the ID token (signature, issuer, audience,
    /// expiry, nonce) as the API validates OIDC tokens and maps it to the same principal. A refusal is an
    /// <c>auth.failed</c> ledger entry (<c>scheme: console-oidc</c>) and its reason in words.
    /// </summary>
    Task<(ClaimsPrincipal? Principal, string? Refusal)> CompleteOidcSignInAsync(ConsoleOidcCallback callback, ConsoleOidcPending? pending, string? remoteAddress, CancellationToken cancellationToken);

    /// <summary>
    /// The principal of a console session opened by single sign-on, read anew: for a user of the directory its current
    /// roles and clearance (null once disabled or removed); otherwise the claims the ID token gave at sign-in.
    /// </summary>
    ClaimsPrincipal? RefreshOidc(ClaimsPrincipal session);

    /// <summary>
    /// The served models the principal may use (its clearance dominates the model's label), with their label, digest
    /// and where they came from (<c>airlock:IMPORT-ID</c>), as <c>GET /v1/models</c> serves them.
    /// </summary>
    IReadOnlyList<ConsoleModel> Models(ClaimsPrincipal actor);

    /// <summary>
    /// Sends one chat message as the signed-in principal through the API's own request path (<c>POST
    /// /v1/chat/completions</c>, streamed: authentication is the console session, then labels and policy, quotas, the
    /// ledger's <c>request.admitted</c> and <c>request.completed</c>, retention) and writes its answer, a stream of
    /// server-sent events or an OpenAI error object, to <paramref name="http"/>'s response.
    /// </summary>
    Task ChatAsync(HttpContext http, string model, string message);

    /// <summary>
    /// Imports the bundle in <paramref name="http"/>'s request body (streamed, never copied) with the admin API's own
    /// code (<c>POST /admin/v1/airlock/imports</c>: content type, size limit, the import pipeline, its ledger entries) as
    /// the signed-in principal (admin or airlock-importer), and writes that endpoint's answer (201 with the import, or
    /// problem details naming what was refused) to the response.
    /// </summary>
    Task UploadBundleAsync(HttpContext http);

    /// <summary>Every user and service account.</summary>
    IReadOnlyList<ConsolePrincipal> ListPrincipals();

    /// <summary>Every API key (never the secret).</summary>
    IReadOnlyList<ConsoleApiKey> ListKeys();

    /// <summary>Creates a key for <paramref name="user"/> (admin only): <c>key.created</c>, then the key, shown once.</summary>
    Task<string> CreateKeyAsync(ClaimsPrincipal actor, string user, string? name, CancellationToken cancellationToken);

    /// <summary>Revokes key <paramref name="keyId"/> (admin only): <c>key.revoked</c>.</summary>
    Task RevokeKeyAsync(ClaimsPrincipal actor, string keyId, CancellationToken cancellationToken);

    /// <summary>Approves an airlock import (airlock-approver or admin, never the importer); the last approval activates and serves it. Returns what happened, in words.</summary>
    Task<string> ApproveImportAsync(ClaimsPrincipal actor, string importId, CancellationToken cancellationToken);

    /// <summary>Rejects a pending airlock import with a reason (airlock-approver or admin).</summary>
    Task<string> RejectImportAsync(ClaimsPrincipal actor, string importId, string reason, CancellationToken cancellationToken);

    /// <summary>Acknowledges an open alert (admin only, as <c>POST /admin/v1/alerts/{id}/ack</c>): <c>alert.acknowledged</c>. Returns what happened, in words.</summary>
    Task<string> AcknowledgeAlertAsync(ClaimsPrincipal actor, string alertId, string? note, CancellationToken cancellationToken);

    /// <summary>Resolves an open or acknowledged alert, as a false positive when <paramref name="falsePositive"/> (admin only, as <c>POST /admin/v1/alerts/{id}/resolve</c>): <c>alert.resolved</c>.</summary>
    Task<string> ResolveAlertAsync(ClaimsPrincipal actor, string alertId, bool falsePositive, string reason, CancellationToken cancellationToken);

    /// <summary>
    /// Records a VEX decision (admin only, as <c>POST /admin/v1/vulns/vex</c>, through the same
    /// <c>VulnerabilityFindingsService.DecideAsync</c>): <c>vex.decided</c>, then the findings it concerns are evaluated
    /// again. Returns what happened, in words.
    /// </summary>
    Task<string> DecideVexAsync(ClaimsPrincipal actor, ConsoleVexDecision decision, CancellationToken cancellationToken);

    /// <summary>
    /// Hunts the whole ledger with the live indicators (admin only, as <c>POST /admin/v1/intel/hunt</c>, through the same
    /// <c>RetroHunter</c>): <c>intel.hunted</c> with trigger <c>console</c>. Returns what was scanned and found, in words.
    /// </summary>
    Task<string> HuntAsync(ClaimsPrincipal actor, CancellationToken cancellationToken);

    /// <summary>The effective configuration, flattened to <c>Section:Key</c> rows, secrets redacted (never a secret's value).</summary>
    IReadOnlyList<ConsoleSetting> Settings();

    /// <summary>Each served model's backends with their accreditation and jurisdiction (the Policy page).</summary>
    IReadOnlyList<ConsoleBackendRoute> Routes();

    /// <summary>
    /// The decision policy would take for a hypothetical request (user, model, request label, one backend), through the
    /// same code as <c>POST /admin/v1/policy/explain</c>: its JSON answer, or the problem (admin or auditor only).
    /// </summary>
    (JsonObject? Answer, string? Problem) Explain(ClaimsPrincipal actor, string user, string model, string? label, string? backend);
}

/// <summary>
/// A single sign-on the console started: kept in a protected, short-lived cookie until the provider redirects back.
/// </summary>
public sealed record ConsoleOidcPending
{
    /// <summary>The <c>state</c> sent to the provider (CSRF protection of the callback).</summary>
    public required string State { get; init; }

    /// <summary>The <c>nonce</c> the ID token must carry.</summary>
    public required string Nonce { get; init; }

    /// <summary>The PKCE <c>code_verifier</c> whose S256 challenge was sent.</summary>
    public required string CodeVerifier { get; init; }
}

/// <summary>The query of the provider's redirect to <c>/console/signin/oidc/callback</c>.</summary>
public sealed record ConsoleOidcCallback
{
    public string? Code { get; init; }

    public string? State { get; init; }

    /// <summary>The provider's <c>error</c> code, when it refused the sign-in.</summary>
    public string? Error { get; init; }
}

/// <summary>A served model as the Models page lists it.</summary>
public sealed record ConsoleModel
{
    public required string Id { get; init; }

    /// <summary>The model's label as a banner marking.</summary>
    public required string Label { get; init; }

    public string? Digest { get; init; }

    /// <summary>Where it came from: <c>airlock:IMPORT-ID</c>, a dev source, or null for a configured upstream model.</summary>
    public string? Source { get; init; }

    public required DateTimeOffset Created { get; init; }

    /// <summary>The backends that may serve it.</summary>
    public required IReadOnlyList<string> Backends { get; init; }
}

/// <summary>A VEX decision as the Vulnerabilities page's form sends it (the fields of <c>POST /admin/v1/vulns/vex</c>).</summary>
public sealed record ConsoleVexDecision
{
    /// <summary>The inventory entry it is limited to, or null: every entry with the component.</summary>
    public string? Artifact { get; init; }

    public required string Component { get; init; }

    public required string Advisory { get; init; }

    public required string Status { get; init; }

    public string? Justification { get; init; }

    public string? Statement { get; init; }
}

/// <summary>A backend that serves a model, as the Policy page lists it.</summary>
public sealed record ConsoleBackendRoute
{
    public required string Model { get; init; }

    public required string ModelLabel { get; init; }

    public required string Backend { get; init; }

    public required string Accreditation { get; init; }

    public required string Jurisdiction { get; init; }

    public required bool LeavesEnclave { get; init; }

    /// <summary>The egress action (<c>block</c>, <c>redact</c>) for a backend that leaves the enclave.</summary>
    public string? Egress { get; init; }
}

/// <summary>One configured value as the console's Settings page shows it.</summary>
public sealed record ConsoleSetting
{
    public required string Key { get; init; }

    /// <summary>The value, or <c>(redacted)</c> for a secret.</summary>
    public required string Value { get; init; }

    public bool Redacted { get; init; }
}

/// <summary>A user or service account as the console lists it.</summary>
public sealed record ConsolePrincipal
{
    public required string Id { get; init; }

    public required string Name { get; init; }

    public required string Kind { get; init; }

    public required IReadOnlyList<string> Roles { get; init; }

    public string? Clearance { get; init; }

    public required bool Disabled { get; init; }
}

/// <summary>An API key as the console lists it.</summary>
public sealed record ConsoleApiKey
{
    public required string Id { get; init; }

    public required string Name { get; init; }

    public required string PrincipalId { get; init; }

    public required DateTimeOffset Created { get; init; }

    public DateTimeOffset? Expires { get; init; }

    public DateTimeOffset? Revoked { get; init; }
}
