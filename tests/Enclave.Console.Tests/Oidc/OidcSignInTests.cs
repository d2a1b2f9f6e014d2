using System.Net;
using System.Security.Cryptography;
using System.Text;
using System.Text.Json.Nodes;
using Enclave.Core.Audit;
using Enclave.Policy.Identity;
using Enclave.Server.Auth;
using Enclave.OperatorConsole.Hosting;
using Microsoft.AspNetCore.WebUtilities;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Logging.Abstractions;
using Microsoft.Extensions.Options;
using Microsoft.Playwright;

namespace Enclave.OperatorConsole.Tests.Oidc;

/// <summary>
/// Console single sign-on (authorization code + PKCE) against <see cref="TestIdentityProvider"/> on loopback: the full
/// redirect dance in Chromium, and the refusals (state, nonce, audience, expiry, issuer, signature, PKCE), each a 401
/// with no session and an <c>auth.failed</c> entry naming the reason. The refusal tests drive the dance with an HTTP
/// client that follows no redirect, so each hop can be checked or tampered with.
/// </summary>
public sealed class OidcSignInTests(OidcConsoleFixture enclave) : IClassFixture<OidcConsoleFixture>
{
    [Fact]
    public async Task SingleSignOn_InTheBrowser_OpensASessionWithTheTokensRoles_AndSignsOut()
    {
        enclave.Provider.User = ("sub-browser", "sso-browser-admin", ["admin"]);
        await using var context = await enclave.NewContextAsync();
        var page = await context.NewPageAsync();
        await page.GotoAsync("/console/signin");
        await page.ClickAsync("#signin-oidc");
        // The callback's page continues to the overview by itself (a meta refresh, no script).
        // (Polled: Playwright's navigation wait can miss a meta refresh that lands while it attaches.)
        for (var deadline = DateTime.UtcNow.AddSeconds(30); new Uri(page.Url).AbsolutePath != "/console" && DateTime.UtcNow < deadline;)
        {
            await Task.Delay(100);
        }

        Assert.Equal("/console", new Uri(page.Url).AbsolutePath);
        await page.Locator("#banner-top").WaitForAsync();
        Assert.Contains("sso-browser-admin", await page.InnerTextAsync("body"), StringComparison.Ordinal);

        // The provider was asked for a code with a fresh S256 challenge, and the code was exchanged with its verifier.
        var asked = enclave.Provider.AuthorizationRequests.Last();
        Assert.Equal("S256", asked["code_challenge_method"]);
        Assert.Equal(TestIdentityProvider.ClientId, asked["client_id"]);
        Assert.Equal("ok", enclave.Provider.TokenRequests.Last());

        // The session cookie: HttpOnly, SameSite=Strict, path /console; the sign-in's own cookie is gone.
        var cookies = await context.CookiesAsync();
        var session = Assert.Single(cookies, c => c.Name == ConsoleServices.CookieName);
        Assert.True(session.HttpOnly);
        Assert.Equal(SameSiteAttribute.Strict, session.SameSite);
        Assert.Equal("/console", session.Path);
        Assert.DoesNotContain(cookies, c => c.Name == ConsoleOidcEndpoints.PendingCookieName);

        // The token's role decides the pages: an admin page opens.
        var users = await page.GotoAsync("/console/users");
        Assert.Equal(200, users!.Status);

        // Sign-out ends the session.
        await page.GotoAsync("/console");
        await page.ClickAsync("text=Sign out");
        await page.WaitForURLAsync("**/console/signin");
        var after = await page.GotoAsync("/console/users");
        Assert.EndsWith("/console/signin", new Uri(after!.Url).AbsolutePath, StringComparison.Ordinal);
    }

    [Fact]
    public async Task SingleSignOn_OfADirectoryUser_GetsTheDirectorysRoles_AndEndsWhenTheUserIsDisabled()
    {
        await enclave.AddUserAsync("sso-directory-auditor", "auditor");
        using var browser = new Browserless(enclave.BaseUrl);
        var callback = await DanceAsync(browser, ("sub-dir", "sso-directory-auditor", ["admin"]));
        Assert.Equal(HttpStatusCode.OK, callback.Status);

        // The directory says auditor, whatever roles the token claims: the audit page opens, the users page is 403.
        Assert.Equal(HttpStatusCode.OK, (await browser.GetAsync("/console/audit")).Status);
        Assert.Equal(HttpStatusCode.Forbidden, (await browser.GetAsync("/console/users")).Status);

        using var admin = enclave.AdminClient();
        using var disabled = await admin.PostAsync("/admin/v1/users/sso-directory-auditor/disable", null);
        Assert.True(disabled.IsSuccessStatusCode, await disabled.Content.ReadAsStringAsync());
        var next = await browser.GetAsync("/console/audit");
        Assert.Equal(HttpStatusCode.Redirect, next.Status);
        Assert.Equal("/console/signin", new Uri(new Uri(enclave.BaseUrl), next.Location!).AbsolutePath);
    }

    public static TheoryData<string, string> TamperedTokens => new()
    {
        { "nonce", "nonce_mismatch" },
        { "audience", "wrong_audience" },
        { "expired", "expired" },
        { "issuer", "wrong_issuer" },
        { "signature", "bad_signature" },
    };

    [Theory]
    [MemberData(nameof(TamperedTokens))]
    public async Task SingleSignOn_WithATamperedIdToken_IsRefused_Recorded_AndOpensNoSession(string tamper, string reason)
    {
        using var forger = RSA.Create(2048);
        try
        {
            enclave.Provider.TamperIdToken = tamper switch
            {
                "nonce" => p => p["nonce"] = "a-nonce-of-another-sign-in",
                "audience" => p => p["aud"] = "another-client",
                "expired" => p => p["exp"] = DateTimeOffset.UtcNow.AddMinutes(-5).ToUnixTimeSeconds(),
                "issuer" => p => p["iss"] = "http://127.0.0.1:1/another-provider",
                _ => null,
            };
            enclave.Provider.ForgeWith = tamper == "signature" ? forger : null;
            using var browser = new Browserless(enclave.BaseUrl);
            var callback = await DanceAsync(browser, ("sub-" + tamper, "sso-" + tamper, ["admin"]));
            await AssertRefusedAsync(browser, callback, reason);
        }
        finally
        {
            enclave.Provider.TamperIdToken = null;
            enclave.Provider.ForgeWith = null;
        }
    }

    [Fact]
    public async Task SingleSignOn_WithAnotherState_IsRefused_BeforeTheCodeIsExchanged()
    {
        using var browser = new Browserless(enclave.BaseUrl);
        var authorize = await browser.StartAsync();
        var back = await browser.FollowAsync(authorize);
        var tokenRequests = enclave.Provider.TokenRequests.Count;
        var forged = Replace(back, "state", "state-of-an-attacker");
        var callback = await browser.FollowAsync(forged);
        await AssertRefusedAsync(browser, callback, "state_mismatch");
        Assert.Equal(tokenRequests, enclave.Provider.TokenRequests.Count);
    }

    [Fact]
    public async Task SingleSignOn_WithACodeStolenFromAnotherBrowser_FailsPkce_AndIsRefused()
    {
        // The victim's browser gets a code; the attacker injects it into a sign-in of their own. The attacker's sign-in
        // sends its own verifier, which does not match the victim's challenge: the provider refuses the exchange.
        using var victim = new Browserless(enclave.BaseUrl);
        var victimCallback = await victim.FollowAsync(await victim.StartAsync());
        using var attacker = new Browserless(enclave.BaseUrl);
        var attackerCallback = await attacker.FollowAsync(await attacker.StartAsync());
        var injected = Replace(attackerCallback, "code", Query(victimCallback, "code"));
        var callback = await attacker.FollowAsync(injected);
        await AssertRefusedAsync(attacker, callback, "code_refused");
        Assert.Equal("invalid_grant", enclave.Provider.TokenRequests.Last());
    }

    [Fact]
    public async Task SingleSignOn_CallbackWithoutAStartedSignIn_OrReplayed_IsRefused()
    {
        using var browser = new Browserless(enclave.BaseUrl);
        var callbackUrl = await browser.FollowAsync(await browser.StartAsync());
        var first = await browser.FollowAsync(callbackUrl);
        Assert.Equal(HttpStatusCode.OK, first.Status);

        // The same callback again: the sign-in's cookie was used up, the code too.
        using var replay = new Browserless(enclave.BaseUrl);
        var again = await replay.FollowAsync(callbackUrl);
        await AssertRefusedAsync(replay, again, "no_sign_in");
    }

    public static TheoryData<string, string> TamperedDiscovery => new()
    {
        { "duplicate-key", "is not valid JSON" },
        { "invalid-utf8", "is not valid JSON" },
        { "truncated", "is not valid JSON" },
        { "oversized", "is larger than" },
        { "issuer", "is not the configured" },
        { "foreign-jwks", "is not on the issuer's origin" },
        { "no-s256", "does not support PKCE with S256" },
    };

    [Theory]
    [MemberData(nameof(TamperedDiscovery))]
    public async Task Discovery_Tampered_IsRefused_WithWhatIsWrong(string tamper, string expected)
    {
        using var untampered = NewClient();
        var (endpoint, problem) = await untampered.AuthorizationEndpointAsync(CancellationToken.None);
        Assert.True(endpoint is not null, problem);

        enclave.Provider.DiscoveryOverride = document =>
        {
            var json = document.ToJsonString();
            return tamper switch
            {
                "duplicate-key" => Encoding.UTF8.GetBytes("{\"issuer\":\"http://127.0.0.1:1\"," + json[1..]),
                "invalid-utf8" => [.. Encoding.UTF8.GetBytes(json[..^1] + ",\"x\":\""), 0xC3, 0x28, .. "\"}"u8.ToArray()],
                "truncated" => Encoding.UTF8.GetBytes(json[..(json.Length / 2)]),
                "oversized" => Encoding.UTF8.GetBytes(json[..^1] + ",\"padding\":\"" + new string('a', ConsoleOidcClient.MaxDocumentBytes) + "\"}"),
                "issuer" => Encoding.UTF8.GetBytes(With(document, "issuer", "http://127.0.0.1:1")),
                "foreign-jwks" => Encoding.UTF8.GetBytes(With(document, "jwks_uri", "http://127.0.0.2:9/jwks")),
                _ => Encoding.UTF8.GetBytes(With(document, "code_challenge_methods_supported", new JsonArray("plain"))),
            };
        };
        try
        {
            using var client = NewClient();
            (endpoint, problem) = await client.AuthorizationEndpointAsync(CancellationToken.None);
            Assert.Null(endpoint);
            Assert.Contains(expected, problem, StringComparison.Ordinal);
        }
        finally
        {
            enclave.Provider.DiscoveryOverride = null;
        }
    }

    private ConsoleOidcClient NewClient() => new(
        Options.Create(new ConsoleOptions { Oidc = new ConsoleOidcOptions { Issuer = enclave.Provider.Issuer, ClientId = TestIdentityProvider.ClientId, RedirectUri = enclave.Provider.RedirectUri } }),
        enclave.Services.GetRequiredService<ApiKeyStore>(),
        enclave.Services.GetRequiredService<ILedger>(),
        TimeProvider.System,
        NullLogger<ConsoleOidcClient>.Instance);

    private static string With(JsonObject document, string name, JsonNode value)
    {
        var copy = document.DeepClone().AsObject();
        copy[name] = value;
        return copy.ToJsonString();
    }

    [Fact]
    public void Options_ReportEveryProblem()
    {
        var options = new ConsoleOidcOptions
        {
            Issuer = "http://idp.example/realms/enclave",
            RedirectUri = "https://enclave.example/elsewhere",
            Scope = "profile",
            Algorithms = ["HS256"],
            ClockSkewSeconds = 900,
            SignInTimeout = TimeSpan.FromHours(1),
        };
        var problems = options.Validate();
        Assert.Contains(problems, p => p.StartsWith("Console:Oidc:Issuer must be an https URL", StringComparison.Ordinal));
        Assert.Contains(problems, p => p.StartsWith("Console:Oidc:ClientId is required", StringComparison.Ordinal));
        Assert.Contains(problems, p => p.StartsWith("Console:Oidc:RedirectUri must be", StringComparison.Ordinal));
        Assert.Contains(problems, p => p.StartsWith("Console:Oidc:Scope must include 'openid'", StringComparison.Ordinal));
        Assert.Contains(problems, p => p.Contains("'HS256' is not allowed", StringComparison.Ordinal));
        Assert.Contains(problems, p => p.StartsWith("Console:Oidc:ClockSkewSeconds", StringComparison.Ordinal));
        Assert.Contains(problems, p => p.StartsWith("Console:Oidc:SignInTimeout", StringComparison.Ordinal));
        Assert.Empty(new ConsoleOidcOptions().Validate());
        Assert.Empty(new ConsoleOidcOptions { Issuer = "https://idp.example/realms/enclave", ClientId = "console", RedirectUri = "https://enclave.example/console/signin/oidc/callback" }.Validate());
    }

    private async Task<Answer> DanceAsync(Browserless browser, (string, string, string[]) user)
    {
        enclave.Provider.User = user;
        var back = await browser.FollowAsync(await browser.StartAsync());
        return await browser.FollowAsync(back);
    }

    private async Task AssertRefusedAsync(Browserless browser, Answer callback, string reason)
    {
        Assert.Equal(HttpStatusCode.Unauthorized, callback.Status);
        Assert.StartsWith("401 not signed in: ", callback.Body, StringComparison.Ordinal);
        Assert.False(browser.HasSession, "a refused sign-in must not open a session");
        Assert.Equal(HttpStatusCode.Redirect, (await browser.GetAsync("/console")).Status);
        var recorded = enclave.Entries().Last(e => e.Event.Type == "auth.failed").Event;
        Assert.Equal("/console/signin/oidc/callback", recorded.Subject);
        Assert.Equal("console-oidc", recorded.Details!.Value.GetProperty("scheme").GetString());
        Assert.Equal(reason, recorded.Details!.Value.GetProperty("reason").GetString());
    }

    private static Uri Replace(Answer answer, string name, string value)
    {
        var uri = answer.Location!;
        var query = QueryHelpers.ParseQuery(uri.Query).ToDictionary(q => q.Key, q => (string?)q.Value.ToString(), StringComparer.Ordinal);
        query[name] = value;
        return new Uri(QueryHelpers.AddQueryString(uri.GetLeftPart(UriPartial.Path), query));
    }

    private static string Query(Answer answer, string name) => QueryHelpers.ParseQuery(answer.Location!.Query)[name].ToString();

    /// <summary>An answer: status, redirect target, body.</summary>
    private sealed record Answer(HttpStatusCode Status, Uri? Location, string Body);

    /// <summary>A browser without a browser: a cookie jar and an HTTP client that follows no redirect.</summary>
    private sealed class Browserless : IDisposable
    {
        private readonly CookieContainer _cookies = new();
        private readonly HttpClient _http;
        private readonly Uri _base;

        public Browserless(string baseUrl)
        {
            _base = new Uri(baseUrl);
            _http = new HttpClient(new HttpClientHandler { CookieContainer = _cookies, AllowAutoRedirect = false }) { BaseAddress = _base };
        }

        public bool HasSession => _cookies.GetCookies(new Uri(_base, "/console")).Any(c => c.Name == ConsoleServices.CookieName);

        /// <summary>Starts a sign-in; returns the redirect to the provider.</summary>
        public async Task<Answer> StartAsync()
        {
            var started = await GetAsync("/console/signin/oidc");
            Assert.Equal(HttpStatusCode.Redirect, started.Status);
            return started;
        }

        /// <summary>Follows one redirect.</summary>
        public Task<Answer> FollowAsync(Answer answer) => GetAsync(answer.Location!.ToString());

        public Task<Answer> FollowAsync(Uri uri) => GetAsync(uri.ToString());

        public async Task<Answer> GetAsync(string url)
        {
            using var response = await _http.GetAsync(url);
            var location = response.Headers.Location is { } l ? (l.IsAbsoluteUri ? l : new Uri(l.OriginalString, UriKind.Relative)) : null;
            return new Answer(response.StatusCode, location, await response.Content.ReadAsStringAsync());
        }

        public void Dispose() => _http.Dispose();
    }
}
