using System.Security.Claims;
using System.Security.Cryptography;
using System.Text;
using System.Text.Json;
using Enclave.OperatorConsole.Backend;
using Microsoft.AspNetCore.Authentication;
using Microsoft.AspNetCore.Builder;
using Microsoft.AspNetCore.DataProtection;
using Microsoft.AspNetCore.Http;
using Microsoft.AspNetCore.Routing;
using Microsoft.AspNetCore.WebUtilities;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Options;

namespace Enclave.OperatorConsole.Hosting;

/// <summary>
/// Console single sign-on, the browser's side of the authorization code flow with PKCE: <c>GET /console/signin/oidc</c>
/// makes a fresh state, nonce and code verifier, keeps them in a protected cookie that lives for
/// <see cref="ConsoleOidcOptions.SignInTimeout"/> and only on the callback's path, and redirects to the provider's
/// authorization endpoint with the S256 challenge; <c>GET /console/signin/oidc/callback</c> takes the cookie (once),
/// hands the provider's answer to <see cref="IConsoleBackend.CompleteOidcSignInAsync"/> and opens the console session.
/// </summary>
public static class ConsoleOidcEndpoints
{
    /// <summary>The cookie that holds a started sign-in until the provider redirects back.</summary>
    public const string PendingCookieName = "enclave-console-oidc";

    /// <summary>Where the provider sends the browser back.</summary>
    public const string CallbackPath = ConsoleEndpoints.Prefix + "/signin/oidc/callback";

    private const string StartPath = ConsoleEndpoints.Prefix + "/signin/oidc";
    private const string Purpose = "Enclave.Console.OidcSignIn.v1";

    /// <summary>Maps the two endpoints (anonymous; 404 while <c>Console:Oidc</c> is not configured).</summary>
    public static void MapEnclaveConsoleOidc(this WebApplication app)
    {
        ArgumentNullException.ThrowIfNull(app);
        app.MapGet(StartPath, StartAsync).AllowAnonymous();
        app.MapGet(CallbackPath, CallbackAsync).AllowAnonymous();
    }

    private static async Task<IResult> StartAsync(HttpContext http, IConsoleBackend backend, IOptions<ConsoleOptions> options, IDataProtectionProvider protection)
    {
        var oidc = options.Value.Oidc;
        if (!oidc.Enabled)
        {
            return NotConfigured();
        }

        var (endpoint, problem) = await backend.OidcAuthorizationEndpointAsync(http.RequestAborted).ConfigureAwait(false);
        if (endpoint is null)
        {
            return Text(StatusCodes.Status502BadGateway, $"502 single sign-on is not available: {problem}. Sign in with an API key at /console/signin, or ask an admin to check Console:Oidc.");
        }

        var pending = new ConsoleOidcPending { State = RandomText(), Nonce = RandomText(), CodeVerifier = RandomText() };
        var challenge = WebEncoders.Base64UrlEncode(SHA256.HashData(Encoding.ASCII.GetBytes(pending.CodeVerifier)));
        var protector = protection.CreateProtector(Purpose).ToTimeLimitedDataProtector();
        var sealedPending = protector.Protect(JsonSerializer.Serialize(pending), oidc.SignInTimeout);
        http.Response.Cookies.Append(PendingCookieName, sealedPending, new CookieOptions
        {
            Path = CallbackPath,
            HttpOnly = true,
            Secure = http.Request.IsHttps,
            // Lax, not Strict: the provider's redirect back is a cross-site top-level navigation, which must carry it.
            SameSite = SameSiteMode.Lax,
            MaxAge = oidc.SignInTimeout,
            IsEssential = true,
        });
        var url = QueryHelpers.AddQueryString(endpoint.ToString(), new Dictionary<string, string?>
        {
            ["response_type"] = "code",
            ["client_id"] = oidc.ClientId,
            ["redirect_uri"] = oidc.RedirectUri,
            ["scope"] = oidc.Scope,
            ["state"] = pending.State,
            ["nonce"] = pending.Nonce,
            ["code_challenge"] = challenge,
            ["code_challenge_method"] = "S256",
        });
        return Results.Redirect(url);
    }

    private static async Task<IResult> CallbackAsync(HttpContext http, IConsoleBackend backend, IOptions<ConsoleOptions> options, IDataProtectionProvider protection)
    {
        if (!options.Value.Oidc.Enabled)
        {
            return NotConfigured();
        }

        var query = http.Request.Query;
        var callback = new ConsoleOidcCallback
        {
            Code = Single(query, "code"),
            State = Single(query, "state"),
            Error = Single(query, "error"),
        };
        ConsoleOidcPending? pending = null;
        if (http.Request.Cookies[PendingCookieName] is { Length: > 0 and <= 8192 } sealedPending)
        {
            try
            {
                var json = protection.CreateProtector(Purpose).ToTimeLimitedDataProtector().Unprotect(sealedPending);
                pending = JsonSerializer.Deserialize<ConsoleOidcPending>(json);
            }
            catch (Exception ex) when (ex is CryptographicException or JsonException)
            {
                pending = null; // expired, tampered with, or from another enclave: the sign-in must start again
            }
        }

        // One use: a replayed callback finds no sign-in.
        http.Response.Cookies.Delete(PendingCookieName, new CookieOptions { Path = CallbackPath, Secure = http.Request.IsHttps, SameSite = SameSiteMode.Lax });
        var (principal, refusal) = await backend.CompleteOidcSignInAsync(callback, pending, http.Connection.RemoteIpAddress?.ToString(), http.RequestAborted).ConfigureAwait(false);
        if (principal is null)
        {
            return Text(StatusCodes.Status401Unauthorized, $"401 not signed in: {refusal}. Start again at {StartPath}, or sign in with an API key at /console/signin.");
        }

        var identity = new ClaimsIdentity(principal.Claims, ConsoleServices.Scheme, ClaimTypes.Name, ClaimTypes.Role);
        await http.SignInAsync(ConsoleServices.Scheme, new ClaimsPrincipal(identity)).ConfigureAwait(false);

        // A page, not a redirect: the session cookie is SameSite=Strict, and a browser does not send it on a redirect
        // chain that began at the provider (another site); a navigation from this page is same-site. No script.
        var css = http.RequestServices.GetRequiredService<ConsoleAssets>().Url("console.css");
        var body = "<!DOCTYPE html><html lang=\"en\"><head><meta charset=\"utf-8\"><title>Signed in · Enclave console</title>"
            + $"<meta http-equiv=\"refresh\" content=\"0;url=/console\"><link rel=\"stylesheet\" href=\"{css}\"></head>"
            + "<body><main><h1>Signed in</h1><p><a id=\"continue\" href=\"/console\">Continue to the console</a></p></main></body></html>";
        return Results.Content(body, "text/html; charset=utf-8");
    }

    private static string? Single(IQueryCollection query, string name) =>
        query.TryGetValue(name, out var values) && values.Count == 1 ? values[0] : null;

    private static string RandomText() => WebEncoders.Base64UrlEncode(RandomNumberGenerator.GetBytes(32));

    private static IResult NotConfigured() =>
        Text(StatusCodes.Status404NotFound, "404 single sign-on to the console is not configured (Console:Oidc); sign in with an API key at /console/signin.");

    private static IResult Text(int status, string message) => Results.Text(message + "\n", "text/plain; charset=utf-8", Encoding.UTF8, status);
}
