using System.Security.Claims;

namespace Enclave.Policy.Identity;

/// <summary>
/// The claims every authenticated principal carries, whichever way it authenticated (API key or OIDC JWT):
/// <see cref="ClaimTypes.NameIdentifier"/> is the principal ID used as the ledger actor (<c>user:alice</c>,
/// <c>key:4f2a...</c>), <see cref="ClaimTypes.Name"/> a display name, one <see cref="ClaimTypes.Role"/> per role,
/// and <see cref="Clearance"/> the label the principal is cleared for (marking syntax, e.g. <c>SECRET//NOFORN</c>).
/// </summary>
public static class EnclaveClaims
{
    /// <summary>The principal's clearance as a marking string; absent means the scheme's lowest level.</summary>
    public const string Clearance = "enclave:clearance";

    /// <summary>The API key ID that authenticated the request, when a key did.</summary>
    public const string KeyId = "enclave:key_id";

    /// <summary>The <c>sub</c> of the OIDC token that authenticated the principal (an API request or a console single sign-on), when one did.</summary>
    public const string OidcSubject = "enclave:oidc_sub";

    /// <summary>The principal ID (ledger actor) of an authenticated principal.</summary>
    public static string PrincipalId(this ClaimsPrincipal principal)
    {
        ArgumentNullException.ThrowIfNull(principal);
        return principal.FindFirst(ClaimTypes.NameIdentifier)?.Value
            ?? throw new InvalidOperationException("the principal is not authenticated (no name identifier claim)");
    }
}
