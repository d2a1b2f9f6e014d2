using Enclave.Server.Hosting;
using Enclave.Policy.Identity;
using Microsoft.AspNetCore.Authentication;
using Microsoft.AspNetCore.Authentication.JwtBearer;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.DependencyInjection.Extensions;
using Microsoft.IdentityModel.Tokens;

namespace Enclave.Server.Auth;

/// <summary>
/// Registers the enclave's identities: the identity store (<see cref="ApiKeyStore"/>, also the
/// <see cref="IPrincipalDirectory"/>), the API key scheme, the OIDC JWT scheme when <c>Identity:Oidc</c> is configured,
/// and a policy scheme (the default) that sends <c>ek_...</c> bearer tokens to the first and JWT-shaped ones to the second.
/// </summary>
public static class EnclaveAuthentication
{
    /// <summary>The default scheme, which forwards to <see cref="ApiKeyScheme"/> or <see cref="OidcScheme"/>.</summary>
    public const string Scheme = "Enclave";

    /// <summary>Bearer API keys.</summary>
    public const string ApiKeyScheme = ApiKeyAuthenticationHandler.SchemeName;

    /// <summary>OIDC bearer JWTs validated against the configured JWKS file.</summary>
    public const string OidcScheme = "Oidc";

    /// <summary>Adds the store, the directory and the schemes.</summary>
    /// <exception cref="ArgumentException">The <c>Identity:Oidc</c> options or the JWKS file are invalid; the message lists every problem.</exception>
    /// <exception cref="FileNotFoundException">The JWKS file does not exist.</exception>
    public static AuthenticationBuilder AddEnclaveAuthentication(this IServiceCollection services, ServerSettings settings, TimeProvider clock)
    {
        ArgumentNullException.ThrowIfNull(services);
        ArgumentNullException.ThrowIfNull(settings);
        ArgumentNullException.ThrowIfNull(clock);
        var oidc = settings.Oidc ?? new OidcOptions();
        var problems = oidc.Validate();
        if (problems.Count > 0)
        {
            throw new ArgumentException("invalid single sign-on settings:\n- " + string.Join("\n- ", problems), nameof(settings));
        }

        // Read at start-up, so that a bad file stops the server with a clear message instead of refusing every token.
        IReadOnlyList<SecurityKey> signingKeys = [];
        if (oidc.Enabled)
        {
            try
            {
                signingKeys = JwksFile.Load(oidc.JwksFile!);
            }
            catch (InvalidDataException ex)
            {
                throw new ArgumentException("invalid single sign-on settings: " + ex.Message, nameof(settings), ex);
            }
        }

        services.TryAddSingleton(sp => new ApiKeyStore(settings.DataDirectory, clock));
        services.TryAddSingleton<IPrincipalDirectory>(sp => sp.GetRequiredService<ApiKeyStore>());
        services.TryAddSingleton(oidc);
        var builder = services.AddAuthentication(Scheme)
            .AddPolicyScheme(Scheme, "API key or OIDC token", o => o.ForwardDefaultSelector = context =>
                oidc.Enabled && TryGetBearer(context.Request.Headers.Authorization.ToString(), out var token)
                    && !token.StartsWith(ApiKeyStore.Prefix, StringComparison.Ordinal) && LooksLikeJwt(token)
                    ? OidcScheme
                    : ApiKeyScheme)
            .AddScheme<AuthenticationSchemeOptions, ApiKeyAuthenticationHandler>(ApiKeyScheme, null);
        if (oidc.Enabled)
        {
            builder.AddJwtBearer(OidcScheme, o => OidcTokens.Configure(o, oidc, signingKeys, clock));
        }

        return builder;
    }

    /// <summary>The token of an <c>Authorization: Bearer &lt;token&gt;</c> header (scheme name case-insensitive, RFC 9110).</summary>
    internal static bool TryGetBearer(string header, out string token)
    {
        const string bearer = "Bearer ";
        if (header.Length > bearer.Length && header.StartsWith(bearer, StringComparison.OrdinalIgnoreCase))
        {
            token = header[bearer.Length..].Trim();
            return token.Length > 0;
        }

        token = string.Empty;
        return false;
    }

    /// <summary>Whether <paramref name="token"/> has the shape of a JWS compact serialization: three base64url parts.</summary>
    internal static bool LooksLikeJwt(string token)
    {
        var dots = 0;
        foreach (var c in token)
        {
            if (c == '.')
            {
                dots++;
            }
            else if (!char.IsAsciiLetterOrDigit(c) && c is not ('-' or '_'))
            {
                return false;
            }
        }

        return dots == 2 && token[0] != '.';
    }
}
