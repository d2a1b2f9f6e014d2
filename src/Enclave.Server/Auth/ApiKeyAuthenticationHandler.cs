using System.Security.Claims;
using System.Text.Encodings.Web;
using System.Text.Json.Nodes;
using Microsoft.AspNetCore.Authentication;
using Microsoft.AspNetCore.Http;
using Microsoft.Extensions.Logging;
using Microsoft.Extensions.Options;

namespace Enclave.Server.Auth;

/// <summary>Bearer API keys: <c>Authorization: Bearer ek_...</c>, checked against the hashed key store.</summary>
internal sealed class ApiKeyAuthenticationHandler(
    IOptionsMonitor<AuthenticationSchemeOptions> options,
    ILoggerFactory logger,
    UrlEncoder encoder,
    ApiKeyStore keys)
    : AuthenticationHandler<AuthenticationSchemeOptions>(options, logger, encoder)
{
    public const string SchemeName = "ApiKey";
    public const string KeyIdClaim = Enclave.Policy.Identity.EnclaveClaims.KeyId;

    protected override Task<AuthenticateResult> HandleAuthenticateAsync()
    {
        var header = Request.Headers.Authorization.ToString();
        if (string.IsNullOrEmpty(header))
        {
            return Task.FromResult(AuthenticateResult.NoResult());
        }

        if (!header.StartsWith("Bearer ", StringComparison.Ordinal))
        {
            return Task.FromResult(AuthenticateResult.Fail("the Authorization header must be 'Bearer <api key>'"));
        }

        var record = keys.Validate(header["Bearer ".Length..].Trim());
        if (record is null)
        {
            return Task.FromResult(AuthenticateResult.Fail("the API key is not valid, revoked or expired"));
        }

        var identity = new ClaimsIdentity(
            [new Claim(ClaimTypes.NameIdentifier, "key:" + record.Id), new Claim(KeyIdClaim, record.Id), new Claim(ClaimTypes.Name, record.Name), new Claim(ClaimTypes.Role, record.Role)],
            SchemeName);
        return Task.FromResult(AuthenticateResult.Success(new AuthenticationTicket(new ClaimsPrincipal(identity), SchemeName)));
    }

    protected override async Task HandleChallengeAsync(AuthenticationProperties properties)
    {
        Response.StatusCode = StatusCodes.Status401Unauthorized;
        Response.Headers.WWWAuthenticate = "Bearer";
        var failure = (await HandleAuthenticateOnceSafeAsync().ConfigureAwait(false)).Failure?.Message;
        var message = failure ?? "missing API key: send 'Authorization: Bearer <api key>'";
        if (Request.Path.StartsWithSegments("/v1", StringComparison.Ordinal))
        {
            Response.ContentType = "application/json";
            var body = new JsonObject { ["error"] = new JsonObject { ["message"] = message, ["type"] = "invalid_request_error", ["param"] = null, ["code"] = "invalid_api_key" } };
            await Response.WriteAsync(body.ToJsonString(OpenAi.OpenAiError.Json), Context.RequestAborted).ConfigureAwait(false);
        }
        else
        {
            await Results.Problem(title: "Unauthorized", detail: message, statusCode: StatusCodes.Status401Unauthorized).ExecuteAsync(Context).ConfigureAwait(false);
        }
    }

    protected override async Task HandleForbiddenAsync(AuthenticationProperties properties)
    {
        Response.StatusCode = StatusCodes.Status403Forbidden;
        await Results.Problem(title: "Forbidden", detail: "this key's role may not use this endpoint", statusCode: StatusCodes.Status403Forbidden).ExecuteAsync(Context).ConfigureAwait(false);
    }
}
