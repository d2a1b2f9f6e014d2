using System.Text.Json;
using Enclave.Core.Audit;
using Enclave.Ledger;
using Enclave.Policy.Identity;

namespace Enclave.Server.Auth;

/// <summary>
/// Makes sure a fresh enclave can be administered: when no enabled admin holds a usable key, the user <c>admin</c>
/// (role admin) is added if missing and given a key, both recorded in the ledger with actor <c>system</c>.
/// </summary>
public static class IdentityBootstrap
{
    /// <summary>The user that start-up creates and gives the first admin key.</summary>
    public const string AdminUser = "admin";

    /// <summary>The ledger actor of changes made by start-up.</summary>
    public const string SystemActor = "system";

    /// <summary>
    /// Ensures an admin key. With <paramref name="keyFile"/> (the demo of <c>enclave up</c>) the key kept in that file
    /// is reused while it is valid and belongs to an admin, and a new one is created and written there (owner-only)
    /// otherwise; without it a key is created only when no enabled admin has a usable key.
    /// </summary>
    public static async Task<AdminKeyResult> EnsureAdminKeyAsync(ApiKeyStore store, ILedger ledger, TimeProvider clock, string? keyFile = null, CancellationToken cancellationToken = default)
    {
        ArgumentNullException.ThrowIfNull(store);
        ArgumentNullException.ThrowIfNull(ledger);
        ArgumentNullException.ThrowIfNull(clock);
        if (keyFile is not null && File.Exists(keyFile) && (await File.ReadAllTextAsync(keyFile, cancellationToken).ConfigureAwait(false)).Trim() is { Length: > 0 } kept
            && store.TryValidate(kept, out var valid, out _) && valid.Principal.Roles.Contains(Roles.Admin))
        {
            return new AdminKeyResult { Key = kept };
        }

        if (keyFile is null && store.HasUsableAdminKey())
        {
            return new AdminKeyResult();
        }

        var admin = store.GetPrincipal(AdminUser);
        if (admin is { Disabled: not null } || admin is not null && (admin.Kind != PrincipalKind.User || !admin.Roles.Contains(Roles.Admin)))
        {
            return new AdminKeyResult
            {
                Problem = $"no enabled admin has a usable API key, and the user '{AdminUser}' is disabled or not an admin, so no key was created; " +
                          "create one with an admin's single sign-on token or restore a backup of the data directory",
            };
        }

        if (admin is null)
        {
            await store.AddPrincipalAsync(AdminUser, PrincipalKind.User, [Roles.Admin], clearance: null, p => RecordAsync(ledger, clock, p.Id, new UserAddedDetails
            {
                Name = p.Name,
                Kind = "user",
                Roles = [Roles.Admin],
                Clearance = null,
            }), cancellationToken).ConfigureAwait(false);
        }

        var (key, record) = await store.CreateKeyAsync(AdminUser, keyFile is null ? "initial admin" : "enclave up demo", expires: null, k => RecordAsync(ledger, clock, "key:" + k.Id, new KeyCreatedDetails
        {
            Principal = k.PrincipalId,
            Name = k.Name,
            Expires = null,
        }), cancellationToken).ConfigureAwait(false);
        if (keyFile is not null)
        {
            Directory.CreateDirectory(Path.GetDirectoryName(Path.GetFullPath(keyFile))!);
            var options = new FileStreamOptions { Mode = FileMode.Create, Access = FileAccess.Write };
            if (!OperatingSystem.IsWindows())
            {
                options.UnixCreateMode = UnixFileMode.UserRead | UnixFileMode.UserWrite;
            }

            await using var writer = new StreamWriter(keyFile, options);
            await writer.WriteLineAsync(key).ConfigureAwait(false);
        }

        return new AdminKeyResult { Key = key, Created = record };
    }

    private static async ValueTask RecordAsync<TDetails>(ILedger ledger, TimeProvider clock, string subject, TDetails details)
        where TDetails : class, IAuditDetails =>
        await ledger.AppendAsync(AuditEvent.Create(clock.GetUtcNow(), SystemActor, subject, details)).ConfigureAwait(false);
}

/// <summary>What <see cref="IdentityBootstrap.EnsureAdminKeyAsync"/> did.</summary>
public sealed record AdminKeyResult
{
    /// <summary>The admin key's text when one was created now or reused from the key file; null otherwise.</summary>
    public string? Key { get; init; }

    /// <summary>The record of the key created now; null when none was.</summary>
    public ApiKeyRecord? Created { get; init; }

    /// <summary>Why no key could be created although none is usable; null when all is well.</summary>
    public string? Problem { get; init; }
}
