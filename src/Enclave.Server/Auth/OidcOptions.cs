namespace Enclave.Server.Auth;

/// <summary>
/// Single sign-on: OIDC bearer JWTs from the enclave's identity provider (Keycloak, Entra ID, ...), validated offline
/// against a JWKS file; the enclave never fetches discovery metadata or keys. Configuration section
/// <c>Identity:Oidc</c>. Off while <see cref="Issuer"/>, <see cref="Audience"/> and <see cref="JwksFile"/> are all unset.
/// </summary>
public sealed class OidcOptions
{
    /// <summary>The algorithms accepted when <see cref="Algorithms"/> is not set.</summary>
    public static IReadOnlyList<string> DefaultAlgorithms { get; } = ["RS256", "PS256", "ES256"];

    /// <summary>The asymmetric algorithms that may be configured; never <c>none</c> or HMAC.</summary>
    public static IReadOnlyList<string> SupportedAlgorithms { get; } = ["RS256", "RS384", "RS512", "PS256", "PS384", "PS512", "ES256", "ES384", "ES512"];

    /// <summary>The exact <c>iss</c> tokens must carry, e.g. <c>https://keycloak.enclave.local/realms/enclave</c>.</summary>
    public string? Issuer { get; set; }

    /// <summary>The <c>aud</c> tokens must carry (Keycloak: the client ID, with an audience mapper).</summary>
    public string? Audience { get; set; }

    /// <summary>The JWKS file (RFC 7517) with the provider's public signing keys, e.g. a saved copy of its <c>jwks_uri</c>.</summary>
    public string? JwksFile { get; set; }

    /// <summary>Accepted signature algorithms; default RS256, PS256, ES256.</summary>
    public IReadOnlyList<string>? Algorithms { get; set; }

    /// <summary>Tolerance for clock differences on <c>exp</c> and <c>nbf</c>, 0 to 300 seconds; default 60.</summary>
    public int ClockSkewSeconds { get; set; } = 60;

    /// <summary>
    /// Where the token carries its roles, a claim name or a dotted path into nested objects: <c>roles</c> (default),
    /// <c>realm_access.roles</c> (Keycloak realm roles). Values other than the enclave's role names are ignored.
    /// </summary>
    public string RoleClaim { get; set; } = "roles";

    /// <summary>The claim (or dotted path) holding the clearance as a marking, e.g. <c>SECRET//REL TO USA, GBR</c>; default <c>clearance</c>.</summary>
    public string ClearanceClaim { get; set; } = "clearance";

    /// <summary>
    /// The claim whose value is matched against the names of the enclave's users (default <c>preferred_username</c>);
    /// a matched user's roles, clearance and disabled flag apply instead of the token's. Empty: never match.
    /// </summary>
    public string UserClaim { get; set; } = "preferred_username";

    /// <summary>Whether single sign-on is configured at all.</summary>
    public bool Enabled => !string.IsNullOrWhiteSpace(Issuer) || !string.IsNullOrWhiteSpace(Audience) || !string.IsNullOrWhiteSpace(JwksFile);

    /// <summary>The algorithms in force.</summary>
    public IReadOnlyList<string> EffectiveAlgorithms => Algorithms is { Count: > 0 } configured ? configured : DefaultAlgorithms;

    /// <summary>Every problem with these options (empty when valid or when single sign-on is off).</summary>
    public IReadOnlyList<string> Validate()
    {
        var problems = new List<string>();
        if (!Enabled)
        {
            return problems;
        }

        if (string.IsNullOrWhiteSpace(Issuer))
        {
            problems.Add("Identity:Oidc:Issuer is required (the exact 'iss' of the identity provider's tokens)");
        }

        if (string.IsNullOrWhiteSpace(Audience))
        {
            problems.Add("Identity:Oidc:Audience is required (the 'aud' the tokens are issued for)");
        }

        if (string.IsNullOrWhiteSpace(JwksFile))
        {
            problems.Add("Identity:Oidc:JwksFile is required (the provider's public keys as a JWKS file; the enclave fetches nothing)");
        }

        foreach (var algorithm in EffectiveAlgorithms)
        {
            if (!SupportedAlgorithms.Contains(algorithm, StringComparer.Ordinal))
            {
                problems.Add($"Identity:Oidc:Algorithms: '{algorithm}' is not allowed; use asymmetric signatures only ({string.Join(", ", SupportedAlgorithms)})");
            }
        }

        if (ClockSkewSeconds is < 0 or > 300)
        {
            problems.Add($"Identity:Oidc:ClockSkewSeconds must be between 0 and 300 (was {ClockSkewSeconds})");
        }

        if (string.IsNullOrWhiteSpace(RoleClaim))
        {
            problems.Add("Identity:Oidc:RoleClaim must name a claim (e.g. 'roles' or 'realm_access.roles')");
        }

        if (string.IsNullOrWhiteSpace(ClearanceClaim))
        {
            problems.Add("Identity:Oidc:ClearanceClaim must name a claim (e.g. 'clearance')");
        }

        return problems;
    }
}
