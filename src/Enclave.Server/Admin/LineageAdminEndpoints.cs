using Enclave.Policy.Identity;
using Enclave.Server.Lineage;
using Microsoft.AspNetCore.Builder;
using Microsoft.AspNetCore.Http;
using Microsoft.AspNetCore.Routing;

namespace Enclave.Server.Admin;

/// <summary>
/// <c>GET /admin/v1/lineage/requests/{requestId}</c> and <c>GET /admin/v1/lineage/entries/{index}</c> (admin, auditor):
/// what stands behind an answer, hop by hop, each hop with its ledger index, its exact entry and an inclusion proof
/// against one signed checkpoint (<see cref="LineageService"/>).
/// </summary>
internal static class LineageAdminEndpoints
{
    /// <summary>The longest request ID looked up (the enclave's are 28 characters).</summary>
    private const int MaxRequestIdLength = 128;

    public static RouteGroupBuilder MapLineage(this RouteGroupBuilder admin)
    {
        admin.MapGet("/lineage/requests/{requestId}", (string requestId, LineageService lineage, HttpContext http) =>
                requestId.Length > MaxRequestIdLength || requestId.Any(char.IsControl)
                    ? Task.FromResult(Problem(StatusCodes.Status400BadRequest, "Invalid request ID", $"a request ID is at most {MaxRequestIdLength} characters without control characters, as in a response's X-Request-Id header"))
                    : RunAsync(() => lineage.ForRequestAsync(requestId, http.RequestAborted)))
            .RequireAuthorization(p => p.RequireRole(Roles.Admin, Roles.Auditor));
        admin.MapGet("/lineage/entries/{index}", (string index, LineageService lineage, HttpContext http) =>
                long.TryParse(index, System.Globalization.NumberStyles.None, System.Globalization.CultureInfo.InvariantCulture, out var n)
                    ? RunAsync(() => lineage.ForIndexAsync(n, http.RequestAborted))
                    : Task.FromResult(Problem(StatusCodes.Status400BadRequest, "Invalid index", $"'{(index.Length > 32 ? index[..32] + "..." : index)}' is not a ledger index (a non-negative integer, as in a response's Enclave-Ledger-Index header)")))
            .RequireAuthorization(p => p.RequireRole(Roles.Admin, Roles.Auditor));
        return admin;
    }

    private static async Task<IResult> RunAsync(Func<Task<System.Text.Json.Nodes.JsonObject>> lineage)
    {
        try
        {
            return Results.Text((await lineage().ConfigureAwait(false)).ToJsonString(), "application/json");
        }
        catch (LineageException ex)
        {
            return ex.Reason == LineageError.NotFound
                ? Problem(StatusCodes.Status404NotFound, "No such request", ex.Message)
                : Problem(StatusCodes.Status400BadRequest, "Not a request", ex.Message);
        }
        catch (Enclave.Core.EnclaveFormatException ex)
        {
            return Problem(StatusCodes.Status500InternalServerError, "Unreadable entry", $"a ledger entry on the way could not be read ({ex.Message}); run enclave ledger verify");
        }
    }

    private static IResult Problem(int status, string title, string detail) => Results.Problem(title: title, detail: detail, statusCode: status);
}
