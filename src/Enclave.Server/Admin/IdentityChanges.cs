using Enclave.Core.Audit;
using Enclave.Ledger;
using Enclave.Policy.Identity;

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
        store.CreateKeyAsync(user, name, expires, k => Record(ledger, clock, actor, "key:" + k.Id, new KeyCreatedDetails
        {
            Principal = k.PrincipalId,
            Name = k.Name,
            Expires = k.Expires is { } e ? AuditEvent.FormatTime(e) : null,
            Via = via,
        }), cancellationToken);

    public static Task<ApiKeyRecord> RevokeKeyAsync(
        ApiKeyStore store, ILedger ledger, TimeProvider clock, string actor, string id, string? via, CancellationToken cancellationToken) =>
        store.RevokeKeyAsync(id, k => Record(ledger, clock, actor, "key:" + k.Id, new KeyRevokedDetails
        {
            Principal = k.PrincipalId,
            Name = k.Name,
            Via = via,
        }), cancellationToken);

    public static async ValueTask Record<TDetails>(ILedger ledger, TimeProvider clock, string actor, string subject, TDetails details)
        where TDetails : class, IAuditDetails =>
        await ledger.AppendAsync(AuditEvent.Create(clock.GetUtcNow(), actor, subject, details), CancellationToken.None).ConfigureAwait(false);
}
