using System.Text.Json.Nodes;
using Enclave.Core.Audit;
using Enclave.Ledger;
using Enclave.Server.Auth;

namespace Enclave.Server.Admin;

/// <summary>
/// Key changes as one piece of code for every surface that makes them (the admin API, the operator console): the
/// ledger entry is recorded before the change takes effect, and the change is not made if it cannot be recorded.
/// <c>via</c> names the surface when it is not the admin API (<c>console</c>).
/// </summary>
internal static class IdentityChanges
{
    public static Task<(string Key, ApiKeyRecord Record)> CreateKeyAsync(
        ApiKeyStore store, ILedger ledger, TimeProvider clock, string actor, string user, string? name, DateTimeOffset? expires, string? via, CancellationToken cancellationToken) =>
        store.CreateKeyAsync(user, name, expires, k => Record(ledger, clock, AuditEventTypes.KeyCreated, actor, "key:" + k.Id, Via(new JsonObject
        {
            ["principal"] = k.PrincipalId,
            ["name"] = k.Name,
            ["expires"] = k.Expires is { } e ? AuditEvent.FormatTime(e) : null,
        }, via)), cancellationToken);

    public static Task<ApiKeyRecord> RevokeKeyAsync(
        ApiKeyStore store, ILedger ledger, TimeProvider clock, string actor, string id, string? via, CancellationToken cancellationToken) =>
        store.RevokeKeyAsync(id, k => Record(ledger, clock, AuditEventTypes.KeyRevoked, actor, "key:" + k.Id, Via(new JsonObject
        {
            ["principal"] = k.PrincipalId,
            ["name"] = k.Name,
        }, via)), cancellationToken);

    public static async ValueTask Record(ILedger ledger, TimeProvider clock, AuditEventType type, string actor, string subject, JsonObject details) =>
        await ledger.AppendAsync(AuditEvent.Create(type, clock.GetUtcNow(), actor, subject, details), CancellationToken.None).ConfigureAwait(false);

    private static JsonObject Via(JsonObject details, string? via)
    {
        if (via is not null)
        {
            details["via"] = via;
        }

        return details;
    }
}
