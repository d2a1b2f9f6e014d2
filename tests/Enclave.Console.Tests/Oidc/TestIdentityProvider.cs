using System.Collections.Concurrent;
using System.Security.Cryptography;
using System.Text;
using System.Text.Json.Nodes;
using Microsoft.AspNetCore.Builder;
using Microsoft.AspNetCore.Hosting;
using Microsoft.AspNetCore.Http;
using Microsoft.AspNetCore.WebUtilities;
using Microsoft.Extensions.Logging;

namespace Enclave.OperatorConsole.Tests.Oidc;

/// <summary>
/// A minimal OpenID Connect provider on a loopback port, for the console's single sign-on tests: a discovery document,
/// a JWKS (one RSA key), an authorization endpoint that signs in <see cref="User"/> at once (no login form) and
/// redirects back with a one-time code, and a token endpoint that checks the client, the redirect URI and the PKCE
/// verifier (S256) before it issues an RS256 ID token. Tokens are built byte by byte here, not with the library the
/// enclave validates with. <see cref="TamperIdToken"/> changes the next ID tokens' payload (wrong audience, expired, ...).
/// </summary>
public sealed class TestIdentityProvider : IAsyncDisposable
{
    public const string ClientId = "enclave-console";
    public const string Kid = "console-idp-rsa";

    private readonly ConcurrentDictionary<string, Grant> _codes = new(StringComparer.Ordinal);
    private readonly RSA _key = RSA.Create(2048);
    private WebApplication? _app;

    /// <summary>The issuer: the provider's base address, e.g. <c>http://127.0.0.1:40123</c>.</summary>
    public string Issuer { get; private set; } = string.Empty;

    /// <summary>The redirect URI the console is registered with.</summary>
    public string RedirectUri { get; set; } = string.Empty;

    /// <summary>Who signs in at the authorization endpoint: subject, preferred_username, roles.</summary>
    public (string Subject, string UserName, string[] Roles) User { get; set; } = ("sso-sub-1", "sso-operator", ["admin"]);

    /// <summary>Changes each ID token's payload before it is signed; null: none.</summary>
    public Action<JsonObject>? TamperIdToken { get; set; }

    /// <summary>Signs the next ID tokens with this key instead of the one in the JWKS (same kid); null: the JWKS key.</summary>
    public RSA? ForgeWith { get; set; }

    /// <summary>Serves these bytes (made from the real document) as the discovery document instead; null: the real one.</summary>
    public Func<JsonObject, byte[]>? DiscoveryOverride { get; set; }

    /// <summary>Every authorization request's query, in order.</summary>
    public ConcurrentQueue<IReadOnlyDictionary<string, string>> AuthorizationRequests { get; } = new();

    /// <summary>Every token request's outcome: "ok" or the error returned.</summary>
    public ConcurrentQueue<string> TokenRequests { get; } = new();

    public async Task StartAsync()
    {
        var builder = WebApplication.CreateSlimBuilder();
        builder.Logging.ClearProviders();
        builder.WebHost.UseUrls("http://127.0.0.1:0");
        _app = builder.Build();
        _app.MapGet("/.well-known/openid-configuration", () => DiscoveryOverride is { } raw ? Results.Bytes(raw(Discovery()), "application/json") : Results.Json(Discovery()));
        _app.MapGet("/jwks", () =>
        {
            var rsa = _key.ExportParameters(false);
            return Results.Json(new JsonObject
            {
                ["keys"] = new JsonArray(new JsonObject { ["kty"] = "RSA", ["kid"] = Kid, ["use"] = "sig", ["alg"] = "RS256", ["n"] = B64(rsa.Modulus!), ["e"] = B64(rsa.Exponent!) }),
            });
        });
        _app.MapGet("/authorize", (Func<HttpContext, IResult>)Authorize);
        _app.MapPost("/token", (Func<HttpContext, Task<IResult>>)TokenAsync);
        await _app.StartAsync();
        Issuer = _app.Urls.First().TrimEnd('/');
    }

    /// <summary>The provider's discovery document.</summary>
    public JsonObject Discovery() => new()
    {
        ["issuer"] = Issuer,
        ["authorization_endpoint"] = Issuer + "/authorize",
        ["token_endpoint"] = Issuer + "/token",
        ["jwks_uri"] = Issuer + "/jwks",
        ["response_types_supported"] = new JsonArray("code"),
        ["subject_types_supported"] = new JsonArray("public"),
        ["id_token_signing_alg_values_supported"] = new JsonArray("RS256"),
        ["code_challenge_methods_supported"] = new JsonArray("S256"),
    };

    private IResult Authorize(HttpContext http)
    {
        var query = http.Request.Query.ToDictionary(q => q.Key, q => q.Value.ToString(), StringComparer.Ordinal);
        AuthorizationRequests.Enqueue(query);
        if (query.GetValueOrDefault("client_id") != ClientId || query.GetValueOrDefault("redirect_uri") != RedirectUri)
        {
            return Results.BadRequest("unknown client or redirect_uri");
        }

        if (query.GetValueOrDefault("response_type") != "code" || query.GetValueOrDefault("code_challenge_method") != "S256"
            || query.GetValueOrDefault("code_challenge") is not { Length: 43 } challenge || query.GetValueOrDefault("nonce") is not { Length: > 0 } nonce)
        {
            return Results.Redirect(QueryHelpers.AddQueryString(RedirectUri, new Dictionary<string, string?> { ["error"] = "invalid_request", ["state"] = query.GetValueOrDefault("state") }));
        }

        var code = B64(RandomNumberGenerator.GetBytes(24));
        _codes[code] = new Grant(challenge, nonce, User);
        return Results.Redirect(QueryHelpers.AddQueryString(RedirectUri, new Dictionary<string, string?> { ["code"] = code, ["state"] = query.GetValueOrDefault("state") }));
    }

    private async Task<IResult> TokenAsync(HttpContext http)
    {
        var form = await http.Request.ReadFormAsync();
        string? Error(string error)
        {
            TokenRequests.Enqueue(error);
            return error;
        }

        if (form["grant_type"] != "authorization_code" || form["client_id"] != ClientId || form["redirect_uri"] != RedirectUri)
        {
            return Results.Json(new JsonObject { ["error"] = Error("invalid_client") }, statusCode: 400);
        }

        // One use: the code is gone whether or not the verifier matches (RFC 6749 section 4.1.2).
        if (!_codes.TryRemove(form["code"].ToString(), out var grant))
        {
            return Results.Json(new JsonObject { ["error"] = Error("invalid_grant") }, statusCode: 400);
        }

        var computed = B64(SHA256.HashData(Encoding.ASCII.GetBytes(form["code_verifier"].ToString())));
        if (!CryptographicOperations.FixedTimeEquals(Encoding.ASCII.GetBytes(computed), Encoding.ASCII.GetBytes(grant.Challenge)))
        {
            return Results.Json(new JsonObject { ["error"] = Error("invalid_grant"), ["error_description"] = "PKCE verification failed" }, statusCode: 400);
        }

        var now = DateTimeOffset.UtcNow;
        var payload = new JsonObject
        {
            ["iss"] = Issuer,
            ["aud"] = ClientId,
            ["sub"] = grant.User.Subject,
            ["preferred_username"] = grant.User.UserName,
            ["roles"] = new JsonArray([.. grant.User.Roles.Select(r => (JsonNode)r)]),
            ["nonce"] = grant.Nonce,
            ["iat"] = now.ToUnixTimeSeconds(),
            ["exp"] = now.AddMinutes(5).ToUnixTimeSeconds(),
        };
        TamperIdToken?.Invoke(payload);
        TokenRequests.Enqueue("ok");
        return Results.Json(new JsonObject { ["access_token"] = B64(RandomNumberGenerator.GetBytes(16)), ["token_type"] = "Bearer", ["expires_in"] = 300, ["id_token"] = Sign(payload, ForgeWith) });
    }

    /// <summary>An RS256 JWS over the payload with this provider's key.</summary>
    public string Sign(JsonObject payload, RSA? key = null)
    {
        var header = new JsonObject { ["alg"] = "RS256", ["typ"] = "JWT", ["kid"] = Kid };
        var input = B64(Encoding.UTF8.GetBytes(header.ToJsonString())) + "." + B64(Encoding.UTF8.GetBytes(payload.ToJsonString()));
        return input + "." + B64((key ?? _key).SignData(Encoding.ASCII.GetBytes(input), HashAlgorithmName.SHA256, RSASignaturePadding.Pkcs1));
    }

    public static string B64(byte[] bytes) => Convert.ToBase64String(bytes).TrimEnd('=').Replace('+', '-').Replace('/', '_');

    public async ValueTask DisposeAsync()
    {
        if (_app is not null)
        {
            await _app.StopAsync();
            await _app.DisposeAsync();
        }

        _key.Dispose();
    }

    private sealed record Grant(string Challenge, string Nonce, (string Subject, string UserName, string[] Roles) User);
}
