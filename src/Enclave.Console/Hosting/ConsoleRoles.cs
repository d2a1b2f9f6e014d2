using Enclave.Policy.Identity;

namespace Enclave.OperatorConsole.Hosting;

/// <summary>
/// Who may open each console page, the same roles as the admin API endpoints the page shows (the server checks the
/// actions again in <see cref="Backend.IConsoleBackend"/>). Used by the pages' <c>[Authorize]</c> attributes and by
/// the navigation, which shows only the pages the signed-in principal may open.
/// </summary>
public static class ConsoleRoles
{
    /// <summary>The audit log (as <c>GET /admin/v1/ledger/checkpoint</c>).</summary>
    public const string Audit = Roles.Admin + "," + Roles.Auditor;

    /// <summary>The airlock queue and imports (as <c>GET /admin/v1/airlock/imports</c>).</summary>
    public const string Airlock = Roles.Admin + "," + Roles.AirlockImporter + "," + Roles.AirlockApprover + "," + Roles.Auditor;

    /// <summary>Uploading a bundle (as <c>POST /admin/v1/airlock/imports</c>).</summary>
    public const string AirlockImport = Roles.Admin + "," + Roles.AirlockImporter;

    /// <summary>Approving and rejecting imports (as <c>POST /admin/v1/airlock/imports/{id}/approve</c>).</summary>
    public const string AirlockDecide = Roles.Admin + "," + Roles.AirlockApprover;

    /// <summary>Users and keys (as <c>GET /admin/v1/users</c>).</summary>
    public const string Users = Roles.Admin;

    /// <summary>Alerts (as <c>GET /admin/v1/alerts</c>).</summary>
    public const string Alerts = Roles.Admin + "," + Roles.Auditor + "," + Roles.Analyst;

    /// <summary>Acknowledging and resolving alerts (as <c>POST /admin/v1/alerts/{id}/ack</c> and <c>/resolve</c>).</summary>
    public const string AlertsDecide = Roles.Admin;

    /// <summary>Vulnerability findings and the inventory (as <c>GET /admin/v1/vulns/findings</c>).</summary>
    public const string Vulnerabilities = Roles.Admin + "," + Roles.Auditor + "," + Roles.Analyst;

    /// <summary>Recording VEX decisions (as <c>POST /admin/v1/vulns/vex</c>).</summary>
    public const string VulnerabilitiesDecide = Roles.Admin;

    /// <summary>Threat intelligence and detections in force (as <c>GET /admin/v1/intel</c> and <c>GET /admin/v1/detections</c>).</summary>
    public const string Intel = Roles.Admin + "," + Roles.Auditor + "," + Roles.Analyst;

    /// <summary>Running a retro-hunt (as <c>POST /admin/v1/intel/hunt</c>).</summary>
    public const string IntelHunt = Roles.Admin;

    /// <summary>Usage by principal, role, model and backend, and its CSV export (figures from the ledger's request entries, as the audit log).</summary>
    public const string Usage = Roles.Admin + "," + Roles.Auditor;

    /// <summary>The effective configuration, secrets redacted (the Settings page).</summary>
    public const string Settings = Roles.Admin + "," + Roles.Auditor;

    /// <summary>The label scheme, backends and policy explanations (as <c>POST /admin/v1/policy/explain</c>).</summary>
    public const string Policy = Roles.Admin + "," + Roles.Auditor;

    /// <summary>Whether <paramref name="user"/> holds one of the comma-separated <paramref name="roles"/>.</summary>
    public static bool Allows(System.Security.Claims.ClaimsPrincipal user, string roles)
    {
        ArgumentNullException.ThrowIfNull(user);
        ArgumentNullException.ThrowIfNull(roles);
        return roles.Split(',').Any(user.IsInRole);
    }
}
