namespace Enclave.Policy.Identity;

/// <summary>The roles a principal can hold. The admin API and the CLI's admin commands check them.</summary>
public static class Roles
{
    /// <summary>Everything, including users, keys and configuration.</summary>
    public const string Admin = "admin";

    /// <summary>Brings bundles into the airlock (cannot approve their own imports).</summary>
    public const string AirlockImporter = "airlock-importer";

    /// <summary>Approves or rejects verified imports.</summary>
    public const string AirlockApprover = "airlock-approver";

    /// <summary>Reads the ledger, checkpoints, metrics and decisions; changes nothing.</summary>
    public const string Auditor = "auditor";

    /// <summary>Uses the API and reads threat-intel findings.</summary>
    public const string Analyst = "analyst";

    /// <summary>Uses the OpenAI-compatible API.</summary>
    public const string User = "user";

    /// <summary>Every role, in a stable order.</summary>
    public static IReadOnlyList<string> All { get; } = [Admin, AirlockImporter, AirlockApprover, Auditor, Analyst, User];

    /// <summary>Whether <paramref name="role"/> is one of <see cref="All"/> (exact, lower-case).</summary>
    public static bool IsKnown(string role) => All.Contains(role, StringComparer.Ordinal);
}
