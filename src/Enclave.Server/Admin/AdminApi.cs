using Microsoft.AspNetCore.Builder;
using Microsoft.AspNetCore.Http;
using Microsoft.AspNetCore.Routing;

namespace Enclave.Server.Admin;

/// <summary>
/// The admin API under <c>/admin/v1</c>: every endpoint needs an authenticated principal and names the roles it
/// accepts; errors are RFC 9457 problem details. Each area (ledger, users and keys, airlock, policy, ...) maps its
/// endpoints in its own file through a <c>Map...(RouteGroupBuilder)</c> method called from here.
/// </summary>
public static class AdminApi
{
    public const string Prefix = "/admin/v1";

    public static RouteGroupBuilder MapAdminApi(this WebApplication app)
    {
        ArgumentNullException.ThrowIfNull(app);
        var admin = app.MapGroup(Prefix).RequireAuthorization();
        admin.MapLedger();
        admin.MapLineage();
        RetentionAdminEndpoints.MapRetention(admin);
        PolicyAdminEndpoints.MapPolicy(admin);
        admin.MapIdentity();
        admin.MapAirlock();
        admin.MapAlerts();
        admin.MapDetections();
        admin.MapIntel();
        admin.MapVulns();
        admin.MapUpgrade();
        return admin;
    }
}
