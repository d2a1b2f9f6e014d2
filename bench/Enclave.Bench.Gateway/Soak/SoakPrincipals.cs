using Enclave.Policy.Identity;

namespace Enclave.Bench.Gateway.Soak;

/// <summary>
/// The principals the soak gateway has beside the admin key: an importer, two approvers (the soak's dataset bundles
/// need two distinct approvals, <c>Airlock:RequiredApprovals:dataset = 2</c>, as models and updates do by default) and
/// a user with a per-minute request quota that the soak's over-quota traffic exceeds on purpose.
/// </summary>
internal static class SoakPrincipals
{
    public const string Importer = "soak-importer";
    public const string FirstApprover = "soak-approver-1";
    public const string SecondApprover = "soak-approver-2";
    public const string Limited = "soak-limited";

    /// <summary>Adds the principals (those not there yet: a prefilled data directory may have them) and a new key each; returns the keys by principal name.</summary>
    public static async Task<IReadOnlyDictionary<string, string>> CreateAsync(ApiKeyStore keys)
    {
        ArgumentNullException.ThrowIfNull(keys);
        var created = new Dictionary<string, string>(StringComparer.Ordinal);
        var existing = keys.ListPrincipals().Select(p => p.Name).ToHashSet(StringComparer.Ordinal);
        foreach (var (name, role) in new[] { (Importer, Roles.AirlockImporter), (FirstApprover, Roles.AirlockApprover), (SecondApprover, Roles.AirlockApprover), (Limited, Roles.User) })
        {
            if (!existing.Contains(name))
            {
                await keys.AddPrincipalAsync(name, PrincipalKind.User, [role], clearance: null).ConfigureAwait(false);
            }

            created[name] = (await keys.CreateKeyAsync(name, "soak", expires: null).ConfigureAwait(false)).Key;
        }

        return created;
    }

    /// <summary>The gateway settings the soak needs: the limited user's quota and two approvals for datasets.</summary>
    public static void Configure(IDictionary<string, string?> settings, int requestsPerMinute)
    {
        ArgumentNullException.ThrowIfNull(settings);
        settings["Quotas:Principals:0:Id"] = PrincipalNames.IdOf(PrincipalKind.User, Limited);
        settings["Quotas:Principals:0:RequestsPerMinute"] = requestsPerMinute.ToString(System.Globalization.CultureInfo.InvariantCulture);
        settings["Airlock:RequiredApprovals:dataset"] = "2";
    }
}
