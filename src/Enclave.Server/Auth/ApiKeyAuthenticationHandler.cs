using System.Security.Claims;
using System.Text.Encodings.Web;
using Enclave.Policy.Identity;
using Microsoft.AspNetCore.Authentication;
using Microsoft.Extensions.Logging;
using Microsoft.Extensions.Options;

namespace Enclave.Server.Auth;

/// <summary>
/// Bearer API keys: <c>Authorization: Bearer ek_...</c>, checked against the identity store's in-memory index. The
/// principal gets the claims of <see cref="EnclaveClaims"/>: its ID (<c>user:alice</c>), name, roles and clearance, and
/// the key's ID.
/// </summary>
internal sealed class ApiKeyAuthenticationHandler(
    IOptionsMonitor<AuthenticationSchemeOptions> options,
    ILoggerFactory logger,
    UrlEncoder encoder,
    ApiKeyStore keys,
    OidcOptions oidc)
    : AuthenticationHandler<AuthenticationSchemeOptions>(options, logger, encoder)
{
    public const string SchemeName = "ApiKey";
    public const string KeyIdClaim = EnclaveClaims.KeyId;

    /// <summary>The header Anthropic clients send their key in (<c>/v1/messages</c> only).</summary>
    public const string AnthropicApiKeyHeader = "x-api-key";

    protected override Task<AuthenticateResult> HandleAuthenticateAsync()
    {
        var header = Request.Headers.Authorization;
        string token;
        if (header.Count == 0 || string.IsNullOrEmpty(header[0]))
        {
            // Anthropic clients send the key in x-api-key; accepted on /v1/messages only, where they call.
            var apiKey = Request.Headers[AnthropicApiKeyHeader];
            if (apiKey.Count == 0 || string.IsNullOrEmpty(apiKey[0]) || !Request.Path.Equals(Anthropic.MessagesEndpoints.Path, StringComparison.Ordinal))
            {
                return Task.FromResult(AuthenticateResult.NoResult());
            }

            if (apiKey.Count > 1)
            {
                return Fail("malformed_header", "send one x-api-key header");
            }

            token = apiKey[0]!;
        }
        else if (header.Count > 1 || !EnclaveAuthentication.TryGetBearer(header[0]!, out token))
        {
            return Fail("malformed_header", "the Authorization header must be 'Bearer <api key>'");
        }

        if (!token.StartsWith(ApiKeyStore.Prefix, StringComparison.Ordinal) && EnclaveAuthentication.LooksLikeJwt(token))
        {
            return oidc.Enabled
                ? Fail("malformed_token", "the bearer token is neither an API key nor a well-formed JWT")
                : Fail("oidc_not_configured", "single sign-on is not configured on this enclave (Identity:Oidc); send an API key");
        }

        if (!keys.TryValidate(token, out var valid, out var rejection))
        {
            var reason = rejection switch
            {
                KeyRejection.Malformed => "malformed_key",
                KeyRejection.UnknownKey => "unknown_key",
                KeyRejection.WrongSecret => "wrong_secret",
                KeyRejection.Revoked => "revoked",
                KeyRejection.Expired => "expired",
                KeyRejection.PrincipalDisabled => "principal_disabled",
                _ => "invalid",
            };
            return Fail(reason, "the API key is not valid, revoked or expired", ApiKeyStore.PresentedKeyId(token));
        }

        var principal = valid.Principal;
        var claims = new List<Claim>(5 + principal.Roles.Count)
        {
            new(ClaimTypes.NameIdentifier, principal.Id),
            new(ClaimTypes.Name, principal.Name),
            new(KeyIdClaim, valid.Key.Id),
        };
        foreach (var role in principal.Roles)
        {
            claims.Add(new Claim(ClaimTypes.Role, role));
        }

        if (principal.Clearance is { } clearance)
        {
            claims.Add(new Claim(EnclaveClaims.Clearance, clearance));
        }

        var identity = new ClaimsIdentity(claims, SchemeName, ClaimTypes.Name, ClaimTypes.Role);
        return Task.FromResult(AuthenticateResult.Success(new AuthenticationTicket(new ClaimsPrincipal(identity), SchemeName)));
    }

    protected override async Task HandleChallengeAsync(AuthenticationProperties properties)
    {
        var failure = (await HandleAuthenticateOnceSafeAsync().ConfigureAwait(false)).Failure;
        await AuthResponses.ChallengeAsync(Context, SchemeName, failure, "missing credentials: send 'Authorization: Bearer <api key>'").ConfigureAwait(false);
    }

    protected override Task HandleForbiddenAsync(AuthenticationProperties properties) => AuthResponses.ForbiddenAsync(Context);

    private static Task<AuthenticateResult> Fail(string reason, string message, string? keyId = null) =>
        Task.FromResult(AuthenticateResult.Fail(new AuthenticationRejectedException(reason, message) { KeyId = keyId }));
}
