using Enclave.Server.Hosting;
using Enclave.Policy.Hosting;
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

    /// <summary>
    /// Adds the store, the directory and the schemes. <paramref name="oidc"/> is the <c>Identity:Oidc</c> section (null:
    /// single sign-on off); its problems are listed by <see cref="ServerSettings.Validate"/> when the host starts, and a
    /// valid section's JWKS file is read now, so that a bad file stops the server with a clear message instead of
    /// refusing every token.
    /// </summary>
    /// <exception cref="ArgumentException">The JWKS file is invalid.</exception>
    /// <exception cref="FileNotFoundException">The JWKS file does not exist.</exception>
    public static AuthenticationBuilder AddEnclaveAuthentication(this IServiceCollection services, OidcOptions? oidc)
    {
        ArgumentNullException.ThrowIfNull(services);
        oidc ??= new OidcOptions();
        IReadOnlyList<SecurityKey> signingKeys = [];
        if (oidc.Enabled && oidc.Validate().Count == 0)
        {
            try
            {
                signingKeys = JwksFile.Load(oidc.JwksFile!);
            }
            catch (InvalidDataException ex)
            {
                throw new ArgumentException("invalid single sign-on settings: " + ex.Message, nameof(oidc), ex);
            }
        }

        // The identity store is Enclave.Policy's; the server gives it the data directory.
        services.AddEnclaveIdentityStore(sp => sp.GetRequiredService<ServerSettings>().DataDirectory);
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
            builder.AddJwtBearer(OidcScheme, _ => { });
            services.AddOptions<JwtBearerOptions>(OidcScheme).Configure<TimeProvider>((o, clock) => OidcTokens.Configure(o, oidc, signingKeys, clock));
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
