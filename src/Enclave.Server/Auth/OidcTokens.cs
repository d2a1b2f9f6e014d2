using System.Security.Claims;
using System.Text.Json;
using Enclave.Policy.Identity;
using Enclave.Policy.Labels;
using Microsoft.AspNetCore.Authentication.JwtBearer;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.IdentityModel.JsonWebTokens;
using Microsoft.IdentityModel.Tokens;

namespace Enclave.Server.Auth;

/// <summary>
/// OIDC bearer JWTs, validated offline: signature with a key of the JWKS file chosen by <c>kid</c> (an unknown kid is
/// refused, never "try every key"), algorithm from the allowed list, exact issuer and audience, <c>exp</c> required and
/// <c>exp</c>/<c>nbf</c> checked with the configured skew. No metadata address and no authority: nothing is fetched.
/// A valid token is mapped to the claims of <see cref="EnclaveClaims"/>: when its user claim names a user of the
/// directory, that user (its ID, roles, clearance; refused while disabled), otherwise <c>oidc:&lt;sub&gt;</c> with the
/// enclave roles and the clearance the token carries.
/// </summary>
internal static class OidcTokens
{
    /// <summary>The claim holding the token's <c>sub</c> on every principal an OIDC token gives (an API request or a console session).</summary>
    public const string SubjectClaim = EnclaveClaims.OidcSubject;

    private const int MaxClaimValues = 256;

    public static void Configure(JwtBearerOptions options, OidcOptions oidc, IReadOnlyList<SecurityKey> signingKeys, TimeProvider clock)
    {
        options.Authority = null;
        options.MetadataAddress = null!;
        options.Configuration = null;
        options.ConfigurationManager = null;
        options.RefreshOnIssuerKeyNotFound = false;
        options.MapInboundClaims = false;
        options.SaveToken = false;
        options.IncludeErrorDetails = false;
        options.TimeProvider = clock;
        options.TokenValidationParameters = Parameters(oidc, signingKeys);
        options.Events = new JwtBearerEvents
        {
            // The allowed-algorithm check runs before anything else looks at the token (IdentityModel checks again):
            // 'none' and HMAC never reach signature validation, and the ledger says why they were refused.
            OnMessageReceived = context =>
            {
                if (EnclaveAuthentication.TryGetBearer(context.Request.Headers.Authorization.ToString(), out var token)
                    && HeaderAlgorithm(token) is { } algorithm && !oidc.EffectiveAlgorithms.Contains(algorithm, StringComparer.Ordinal))
                {
                    context.Fail(new AuthenticationRejectedException("algorithm_not_allowed", $"the token's signature algorithm is not allowed (accepted: {string.Join(", ", oidc.EffectiveAlgorithms)})"));
                }

                return Task.CompletedTask;
            },
            OnTokenValidated = context =>
            {
                var store = context.HttpContext.RequestServices.GetRequiredService<ApiKeyStore>();
                if (context.SecurityToken is not JsonWebToken token)
                {
                    context.Fail(new AuthenticationRejectedException("malformed_token", "the token is not a JWT"));
                    return Task.CompletedTask;
                }

                try
                {
                    context.Principal = new ClaimsPrincipal(MapClaims(token, oidc, store));
                    context.Success();
                }
                catch (AuthenticationRejectedException rejected)
                {
                    context.Fail(rejected);
                }

                return Task.CompletedTask;
            },
            OnChallenge = async context =>
            {
                context.HandleResponse();
                await AuthResponses.ChallengeAsync(context.HttpContext, EnclaveAuthentication.OidcScheme, context.AuthenticateFailure, "missing credentials: send 'Authorization: Bearer <token>'").ConfigureAwait(false);
            },
            OnForbidden = context => AuthResponses.ForbiddenAsync(context.HttpContext),
        };
    }

    /// <summary>
    /// The validation of an OIDC token: signature by a key of <paramref name="signingKeys"/> chosen by <c>kid</c>, the
    /// allowed algorithms, exact issuer and audience, <c>exp</c> required and checked with the skew. The API's bearer
    /// tokens and the console's ID tokens (<see cref="ConsoleOidcClient"/>) are validated with it.
    /// </summary>
    internal static TokenValidationParameters Parameters(OidcOptions oidc, IReadOnlyList<SecurityKey> signingKeys) => new()
    {
        ValidIssuer = oidc.Issuer,
        ValidAudience = oidc.Audience,
        ValidateIssuer = true,
        ValidateAudience = true,
        ValidateLifetime = true,
        RequireAudience = true,
        RequireExpirationTime = true,
        RequireSignedTokens = true,
        ValidateIssuerSigningKey = true,
        IssuerSigningKeys = signingKeys,
        TryAllIssuerSigningKeys = false,
        ValidAlgorithms = oidc.EffectiveAlgorithms,
        ClockSkew = TimeSpan.FromSeconds(oidc.ClockSkewSeconds),
        NameClaimType = ClaimTypes.Name,
        RoleClaimType = ClaimTypes.Role,
    };

    /// <summary>The <c>alg</c> of a JWS header, "" when it has none; null when the header cannot be read (left to the validator).</summary>
    internal static string? HeaderAlgorithm(string token)
    {
        var dot = token.IndexOf('.', StringComparison.Ordinal);
        if (dot <= 0 || dot > 4096)
        {
            return null;
        }

        try
        {
            using var header = JsonDocument.Parse(Base64UrlEncoder.DecodeBytes(token[..dot]), new JsonDocumentOptions { MaxDepth = 8 });
            return header.RootElement.ValueKind != JsonValueKind.Object ? null
                : header.RootElement.TryGetProperty("alg", out var alg) && alg.ValueKind == JsonValueKind.String ? alg.GetString() ?? string.Empty
                : string.Empty;
        }
        catch (Exception ex) when (ex is FormatException or JsonException or ArgumentException)
        {
            return null;
        }
    }

    /// <summary>The enclave's claims for a validated token.</summary>
    /// <exception cref="AuthenticationRejectedException">The token's subject, matched user, roles or clearance are unacceptable.</exception>
    internal static ClaimsIdentity MapClaims(JsonWebToken token, OidcOptions oidc, ApiKeyStore store)
    {
        var subject = token.Subject;
        if (string.IsNullOrEmpty(subject) || subject.Length > 255 || subject.Any(char.IsControl))
        {
            throw new AuthenticationRejectedException("invalid_subject", "the token's 'sub' must be 1 to 255 characters without control characters");
        }

        using var payload = JsonDocument.Parse(Base64UrlEncoder.DecodeBytes(token.EncodedPayload), new JsonDocumentOptions { MaxDepth = 32 });
        var claims = new List<Claim>();
        var userName = string.IsNullOrEmpty(oidc.UserClaim) ? null : Values(payload.RootElement, oidc.UserClaim).FirstOrDefault();
        if (PrincipalNames.IsValid(userName) && store.GetPrincipal(userName) is { Kind: PrincipalKind.User } user && user.Name == userName)
        {
            if (user.Disabled is not null)
            {
                throw new AuthenticationRejectedException("principal_disabled", "this user is disabled on the enclave");
            }

            claims.Add(new Claim(ClaimTypes.NameIdentifier, user.Id));
            claims.Add(new Claim(ClaimTypes.Name, user.Name));
            claims.AddRange(user.Roles.Select(r => new Claim(ClaimTypes.Role, r)));
            if (user.Clearance is { } userClearance)
            {
                claims.Add(new Claim(EnclaveClaims.Clearance, userClearance));
            }
        }
        else
        {
            claims.Add(new Claim(ClaimTypes.NameIdentifier, PrincipalNames.OidcPrefix + subject));
            claims.Add(new Claim(ClaimTypes.Name, userName is { Length: <= 255 } && !userName.Any(char.IsControl) ? userName : subject));
            var roles = Values(payload.RootElement, oidc.RoleClaim).Where(Roles.IsKnown).ToHashSet(StringComparer.Ordinal);
            claims.AddRange(Roles.All.Where(roles.Contains).Select(r => new Claim(ClaimTypes.Role, r)));
            var clearances = Values(payload.RootElement, oidc.ClearanceClaim).ToList();
            if (clearances.Count > 1)
            {
                throw new AuthenticationRejectedException("invalid_clearance", $"the token carries {clearances.Count} clearances in '{oidc.ClearanceClaim}'; one is allowed");
            }

            if (clearances.Count == 1)
            {
                if (store.Labels.TryParse(clearances[0], portion: false, out var label, out var message) != MarkingError.None)
                {
                    throw new AuthenticationRejectedException("invalid_clearance", $"the token's clearance is not a valid marking: {message}");
                }

                claims.Add(new Claim(EnclaveClaims.Clearance, store.Labels.FormatBanner(label)));
            }
        }

        claims.Add(new Claim(SubjectClaim, subject));
        return new ClaimsIdentity(claims, EnclaveAuthentication.OidcScheme, ClaimTypes.Name, ClaimTypes.Role);
    }

    /// <summary>
    /// The string values at <paramref name="path"/>: a top-level claim of that exact name, else a dotted path into
    /// nested objects (<c>realm_access.roles</c>). A string gives one value, an array its string elements (bounded).
    /// </summary>
    internal static IEnumerable<string> Values(JsonElement root, string path)
    {
        if (!root.TryGetProperty(path, out var value))
        {
            value = root;
            foreach (var segment in path.Split('.'))
            {
                if (value.ValueKind != JsonValueKind.Object || !value.TryGetProperty(segment, out value))
                {
                    return [];
                }
            }
        }

        return value.ValueKind switch
        {
            JsonValueKind.String => [value.GetString()!],
            JsonValueKind.Array => [.. value.EnumerateArray().Take(MaxClaimValues).Where(v => v.ValueKind == JsonValueKind.String).Select(v => v.GetString()!)],
            _ => [],
        };
    }
}
