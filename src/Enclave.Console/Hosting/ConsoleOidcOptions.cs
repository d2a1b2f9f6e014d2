namespace Enclave.OperatorConsole.Hosting;

/// <summary>
/// Single sign-on to the console (<c>Console:Oidc</c>): OpenID Connect authorization code flow with PKCE (S256) against
/// an identity provider inside the enclave. The console fetches the provider's discovery document and its JWKS from
/// <see cref="Issuer"/> and nothing else (every endpoint the document names must be on the issuer's origin). The ID
/// token is validated as the API validates OIDC bearer tokens (signature by <c>kid</c>, allowed algorithms, exact
/// issuer, audience = <see cref="ClientId"/>, <c>exp</c>) plus the nonce of the sign-in, and mapped to an enclave
/// principal the same way (<see cref="UserClaim"/>, <see cref="RoleClaim"/>, <see cref="ClearanceClaim"/>). Off while
/// <see cref="Issuer"/>, <see cref="ClientId"/> and <see cref="RedirectUri"/> are all unset.
/// </summary>
public sealed class ConsoleOidcOptions
{
    /// <summary>The provider's issuer, exactly as its tokens carry it, e.g. <c>https://keycloak.enclave.local/realms/enclave</c>; <c>https</c>, or <c>http</c> on a loopback address only.</summary>
    public string? Issuer { get; set; }

    /// <summary>The console's client ID at the provider (a public client: PKCE, no secret); the ID token's <c>aud</c>.</summary>
    public string? ClientId { get; set; }

    /// <summary>The redirect URI registered at the provider: the console's <c>/console/signin/oidc/callback</c> as browsers reach it, e.g. <c>https://enclave.example/console/signin/oidc/callback</c>.</summary>
    public string? RedirectUri { get; set; }

    /// <summary>The scopes asked for; must include <c>openid</c>. Default <c>openid profile</c>.</summary>
    public string Scope { get; set; } = "openid profile";

    /// <summary>Accepted ID token signature algorithms; default RS256, PS256, ES256 (asymmetric only, as for API tokens).</summary>
    public IReadOnlyList<string>? Algorithms { get; set; }

    /// <summary>Tolerance for clock differences on <c>exp</c> and <c>nbf</c>, 0 to 300 seconds; default 60.</summary>
    public int ClockSkewSeconds { get; set; } = 60;

    /// <summary>Where the ID token carries enclave roles (a claim or a dotted path such as <c>realm_access.roles</c>); default <c>roles</c>.</summary>
    public string RoleClaim { get; set; } = "roles";

    /// <summary>The claim holding the clearance as a marking; default <c>clearance</c>.</summary>
    public string ClearanceClaim { get; set; } = "clearance";

    /// <summary>The claim matched against the enclave's user names (a matched user's roles, clearance and disabled flag apply); default <c>preferred_username</c>.</summary>
    public string UserClaim { get; set; } = "preferred_username";

    /// <summary>How long a sign-in may take from the redirect to the provider until the callback, 1 to 30 minutes; default 10.</summary>
    public TimeSpan SignInTimeout { get; set; } = TimeSpan.FromMinutes(10);

    /// <summary>Whether console single sign-on is configured at all.</summary>
    public bool Enabled => !string.IsNullOrWhiteSpace(Issuer) || !string.IsNullOrWhiteSpace(ClientId) || !string.IsNullOrWhiteSpace(RedirectUri);

    /// <summary>Every problem with these options (empty when valid or off).</summary>
    public IReadOnlyList<string> Validate()
    {
        var problems = new List<string>();
        if (!Enabled)
        {
            return problems;
        }

        if (string.IsNullOrWhiteSpace(Issuer))
        {
            problems.Add("Console:Oidc:Issuer is required (the identity provider's exact issuer)");
        }
        else if (!Uri.TryCreate(Issuer, UriKind.Absolute, out var issuer) || !IsAllowedOrigin(issuer) || !string.IsNullOrEmpty(issuer.Query) || !string.IsNullOrEmpty(issuer.Fragment))
        {
            problems.Add($"Console:Oidc:Issuer must be an https URL (http only on a loopback address) without query or fragment, not '{Shorten(Issuer)}'");
        }

        if (string.IsNullOrWhiteSpace(ClientId))
        {
            problems.Add("Console:Oidc:ClientId is required (the console's client ID at the identity provider)");
        }
        else if (ClientId.Length > 255 || ClientId.Any(char.IsControl))
        {
            problems.Add("Console:Oidc:ClientId must be 1 to 255 characters without control characters");
        }

        if (string.IsNullOrWhiteSpace(RedirectUri))
        {
            problems.Add("Console:Oidc:RedirectUri is required (e.g. https://enclave.example/console/signin/oidc/callback)");
        }
        else if (!Uri.TryCreate(RedirectUri, UriKind.Absolute, out var redirect) || !IsAllowedOrigin(redirect)
            || !redirect.AbsolutePath.EndsWith(ConsoleEndpoints.Prefix + "/signin/oidc/callback", StringComparison.Ordinal) || !string.IsNullOrEmpty(redirect.Query))
        {
            problems.Add($"Console:Oidc:RedirectUri must be the console's https URL ending in /console/signin/oidc/callback (http only on loopback), not '{Shorten(RedirectUri)}'");
        }

        if (!Scope.Split(' ', StringSplitOptions.RemoveEmptyEntries).Contains("openid", StringComparer.Ordinal))
        {
            problems.Add($"Console:Oidc:Scope must include 'openid' (was '{Shorten(Scope)}')");
        }

        string[] supported = ["RS256", "RS384", "RS512", "PS256", "PS384", "PS512", "ES256", "ES384", "ES512"];
        foreach (var algorithm in Algorithms ?? [])
        {
            if (!supported.Contains(algorithm, StringComparer.Ordinal))
            {
                problems.Add($"Console:Oidc:Algorithms: '{Shorten(algorithm)}' is not allowed; use asymmetric signatures only ({string.Join(", ", supported)})");
            }
        }

        if (ClockSkewSeconds is < 0 or > 300)
        {
            problems.Add($"Console:Oidc:ClockSkewSeconds must be between 0 and 300 (was {ClockSkewSeconds})");
        }

        if (SignInTimeout < TimeSpan.FromMinutes(1) || SignInTimeout > TimeSpan.FromMinutes(30))
        {
            problems.Add($"Console:Oidc:SignInTimeout must be between 00:01:00 and 00:30:00, not {SignInTimeout}");
        }

        if (string.IsNullOrWhiteSpace(RoleClaim) || string.IsNullOrWhiteSpace(ClearanceClaim))
        {
            problems.Add("Console:Oidc:RoleClaim and Console:Oidc:ClearanceClaim must name claims (e.g. 'roles', 'clearance')");
        }

        return problems;
    }

    /// <summary>https anywhere, http only to a loopback address (a test or a provider on the same host).</summary>
    internal static bool IsAllowedOrigin(Uri uri) => uri.Scheme == Uri.UriSchemeHttps || (uri.Scheme == Uri.UriSchemeHttp && uri.IsLoopback);

    private static string Shorten(string text) => text.Length <= 64 ? text : text[..64] + "…";
}
