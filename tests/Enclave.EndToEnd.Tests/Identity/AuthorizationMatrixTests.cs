using System.Net;
using System.Text;
using Enclave.Policy.Identity;
using Microsoft.AspNetCore.Http;
using Microsoft.AspNetCore.Routing;
using Microsoft.Extensions.DependencyInjection;

namespace Enclave.EndToEnd.Tests.Identity;

/// <summary>
/// The authorization matrix: every endpoint of the running app (read from its <see cref="EndpointDataSource"/>) ×
/// every role, a principal with no role, and anonymous, through both API keys and OIDC tokens. An endpoint the table
/// does not list fails the test: whoever adds an endpoint must say here who may call it.
/// </summary>
public sealed class AuthorizationMatrixTests(IdentityFixture enclave) : IClassFixture<IdentityFixture>
{
    /// <summary>Callable without credentials.</summary>
    private static readonly string[] Public = ["anonymous"];

    /// <summary>Any authenticated principal, whatever its roles.</summary>
    private static readonly string[] Authenticated = ["authenticated"];

    /// <summary>
    /// The operator console's endpoints behind its session cookie: a bearer token (API key or OIDC) is not a console
    /// session, so every caller here is refused, a page with a redirect to <c>/console/signin</c> (302) and anything
    /// else with 401. Which roles may open each page with a session: tests/Enclave.Console.Tests/ConsoleAuthorizationTests.cs.
    /// </summary>
    private static readonly string[] ConsoleSession = ["console-session"];

    /// <summary>
    /// Who may call what. Keys are "METHOD pattern" as routing reports them ("*" for an endpoint that accepts every
    /// method); values are <see cref="Public"/>, <see cref="Authenticated"/> or the roles allowed.
    /// </summary>
    private static readonly Dictionary<string, string[]> Matrix = new(StringComparer.Ordinal)
    {
        ["GET /healthz"] = Public,
        ["GET /readyz"] = Public,
        ["* /metrics"] = [Roles.Admin, Roles.Auditor],

        ["GET /v1/models"] = Authenticated,
        ["GET /v1/models/{id}"] = Authenticated,
        ["POST /v1/chat/completions"] = Authenticated,
        ["POST /v1/completions"] = Authenticated,
        ["POST /v1/embeddings"] = Authenticated,
        ["POST /v1/messages"] = Authenticated,
        ["POST /v1/responses"] = Authenticated,
        ["GET /v1/responses/{id}"] = Authenticated,
        ["DELETE /v1/responses/{id}"] = Authenticated,
        ["GET /v1/responses/{id}/input_items"] = Authenticated,
        ["POST /v1/responses/{id}/cancel"] = Authenticated,
        ["POST /v1/files"] = Authenticated,
        ["GET /v1/files"] = Authenticated,
        ["GET /v1/files/{id}"] = Authenticated,
        ["GET /v1/files/{id}/content"] = Authenticated,
        ["DELETE /v1/files/{id}"] = Authenticated,
        ["POST /v1/vector_stores"] = Authenticated,
        ["GET /v1/vector_stores"] = Authenticated,
        ["GET /v1/vector_stores/{id}"] = Authenticated,
        ["DELETE /v1/vector_stores/{id}"] = Authenticated,
        ["POST /v1/vector_stores/{id}/files"] = Authenticated,
        ["POST /v1/vector_stores/{id}/file_batches"] = Authenticated,
        ["GET /v1/vector_stores/{id}/files"] = Authenticated,
        ["POST /v1/vector_stores/{id}/search"] = Authenticated,

        ["GET /admin/v1/ledger/checkpoint"] = [Roles.Admin, Roles.Auditor],
        ["POST /admin/v1/ledger/exports"] = [Roles.Admin, Roles.Auditor],
        ["GET /admin/v1/lineage/requests/{requestId}"] = [Roles.Admin, Roles.Auditor],
        ["GET /admin/v1/lineage/entries/{index}"] = [Roles.Admin, Roles.Auditor],
        ["GET /admin/v1/whoami"] = Authenticated,
        ["GET /admin/v1/users"] = [Roles.Admin],
        ["GET /admin/v1/users/{name}"] = [Roles.Admin],
        ["POST /admin/v1/users"] = [Roles.Admin],
        ["POST /admin/v1/users/{name}/disable"] = [Roles.Admin],
        ["PATCH /admin/v1/users/{name}"] = [Roles.Admin],
        ["GET /admin/v1/keys"] = Authenticated,
        ["POST /admin/v1/keys"] = [Roles.Admin],
        ["DELETE /admin/v1/keys/{id}"] = [Roles.Admin],
        ["GET /admin/v1/retention/{index}"] = [Roles.Admin, Roles.Auditor],
        ["POST /admin/v1/policy/explain"] = [Roles.Admin, Roles.Auditor],
        ["POST /admin/v1/airlock/trust"] = [Roles.Admin],
        ["POST /admin/v1/airlock/imports"] = [Roles.Admin, Roles.AirlockImporter],
        ["POST /admin/v1/airlock/pulls"] = [Roles.Admin, Roles.AirlockImporter],
        ["GET /admin/v1/airlock/imports"] = [Roles.Admin, Roles.AirlockImporter, Roles.AirlockApprover, Roles.Auditor],
        ["GET /admin/v1/airlock/imports/{id}"] = [Roles.Admin, Roles.AirlockImporter, Roles.AirlockApprover, Roles.Auditor],
        ["POST /admin/v1/airlock/imports/{id}/approve"] = [Roles.Admin, Roles.AirlockApprover],
        ["POST /admin/v1/airlock/imports/{id}/reject"] = [Roles.Admin, Roles.AirlockApprover],
        ["GET /admin/v1/alerts"] = [Roles.Admin, Roles.Auditor, Roles.Analyst],
        ["GET /admin/v1/alerts/{id}"] = [Roles.Admin, Roles.Auditor, Roles.Analyst],
        ["POST /admin/v1/alerts/{id}/ack"] = [Roles.Admin],
        ["POST /admin/v1/alerts/{id}/resolve"] = [Roles.Admin],
        ["GET /admin/v1/detections"] = [Roles.Admin, Roles.Auditor, Roles.Analyst],
        ["GET /admin/v1/intel"] = [Roles.Admin, Roles.Auditor, Roles.Analyst],
        ["GET /admin/v1/intel/sightings"] = [Roles.Admin, Roles.Auditor, Roles.Analyst],
        ["POST /admin/v1/intel/hunt"] = [Roles.Admin],

        // The operator console (/console): its stylesheets and sign-in page are public; the rest needs a console session.
        // Blazor's own endpoint for redirects after enhanced navigation (unused: the console turns enhanced navigation off).
        ["GET /_framework/opaque-redirect"] = Public,
        ["GET /console/console.css"] = Public,
        ["GET /console/banner.css"] = Public,
        ["GET /console/signin"] = Public,
        ["POST /console/signin"] = Public,
        ["GET /console/signin/oidc"] = Public,
        ["GET /console/signin/oidc/callback"] = Public,
        ["GET /console/playground.js"] = Public,
        ["GET /console/airlock-upload.js"] = Public,
        ["GET /console/blazor-web.js"] = Public,
        ["GET /console/live.js"] = Public,
        ["* /console/_blazor"] = ConsoleSession,
        ["* /console/_blazor/negotiate"] = ConsoleSession,
        ["* /console/_blazor/disconnect/"] = ConsoleSession,
        ["* /console/_blazor/initializers/"] = ConsoleSession,
        ["POST /console/airlock/upload"] = ConsoleSession,
        ["GET /console/models"] = ConsoleSession,
        ["POST /console/models"] = ConsoleSession,
        ["POST /console/models/chat"] = ConsoleSession,
        ["POST /console/signout"] = ConsoleSession,
        ["GET /console"] = ConsoleSession,
        ["POST /console"] = ConsoleSession,
        ["GET /console/usage"] = ConsoleSession,
        ["POST /console/usage"] = ConsoleSession,
        ["GET /console/usage.csv"] = ConsoleSession,
        ["GET /console/audit/export"] = ConsoleSession,
        ["GET /console/intel"] = ConsoleSession,
        ["POST /console/intel"] = ConsoleSession,
        ["GET /console/vulnerabilities"] = ConsoleSession,
        ["POST /console/vulnerabilities"] = ConsoleSession,
        ["GET /console/audit"] = ConsoleSession,
        ["POST /console/audit"] = ConsoleSession,
        ["GET /console/audit/{Index:long}"] = ConsoleSession,
        ["POST /console/audit/{Index:long}"] = ConsoleSession,
        ["GET /console/airlock"] = ConsoleSession,
        ["POST /console/airlock"] = ConsoleSession,
        ["GET /console/airlock/{Id}"] = ConsoleSession,
        ["POST /console/airlock/{Id}"] = ConsoleSession,
        ["GET /console/users"] = ConsoleSession,
        ["POST /console/users"] = ConsoleSession,
        ["GET /console/alerts"] = ConsoleSession,
        ["POST /console/alerts"] = ConsoleSession,
        ["GET /console/settings"] = ConsoleSession,
        ["POST /console/settings"] = ConsoleSession,
        ["GET /console/policy"] = ConsoleSession,
        ["POST /console/policy"] = ConsoleSession,
        ["GET /admin/v1/vulns/findings"] = [Roles.Admin, Roles.Auditor, Roles.Analyst],
        ["GET /admin/v1/vulns/inventory"] = [Roles.Admin, Roles.Auditor, Roles.Analyst],
        ["POST /admin/v1/vulns/sboms"] = [Roles.Admin],
        ["POST /admin/v1/vulns/vex"] = [Roles.Admin],
        ["GET /admin/v1/vulns/vex/openvex"] = [Roles.Admin, Roles.Auditor, Roles.Analyst],
        ["GET /admin/v1/upgrade"] = [Roles.Admin],
        ["POST /admin/v1/upgrade/stage"] = [Roles.Admin],
        ["POST /admin/v1/upgrade/apply"] = [Roles.Admin],
        ["POST /admin/v1/upgrade/rollback"] = [Roles.Admin],
    };

    [Fact]
    public void EveryEndpointOfTheApp_IsInTheMatrix_AndEveryMatrixRowIsAnEndpoint()
    {
        var endpoints = Endpoints().Select(e => e.Key).ToHashSet(StringComparer.Ordinal);

        var unlisted = endpoints.Except(Matrix.Keys).Order(StringComparer.Ordinal).ToList();
        var stale = Matrix.Keys.Except(endpoints).Order(StringComparer.Ordinal).ToList();

        Assert.True(unlisted.Count == 0, "endpoints missing from the authorization matrix (add a row saying who may call each): " + string.Join(", ", unlisted));
        Assert.True(stale.Count == 0, "matrix rows with no endpoint (remove them): " + string.Join(", ", stale));
    }

    [Fact]
    public async Task EveryPrincipal_TimesEveryEndpoint_IsAllowedOrDeniedAsTheMatrixSays()
    {
        var callers = new List<(string Label, string[] Roles, string? Bearer)> { ("anonymous", [], null) };
        foreach (var role in Roles.All.Append("none"))
        {
            string[] roles = role == "none" ? [] : [role];
            var key = await enclave.AddUserWithKeyAsync("matrix-" + role, roles);
            callers.Add(($"key of a principal with role {role}", roles, key));
            // The same roles from a single sign-on token of a user not in the directory.
            callers.Add(($"OIDC token with realm role {role}", roles, enclave.Tokens.Rs256(TestTokens.Payload("matrix-sub-" + role, "sso-" + role, roles, null))));
        }

        var failures = new List<string>();
        foreach (var (key, method, path) in Endpoints())
        {
            var allowed = Matrix.GetValueOrDefault(key) ?? throw new InvalidOperationException($"'{key}' is not in the matrix (see the other test)");
            foreach (var (label, roles, bearer) in callers)
            {
                using var http = enclave.Client(bearer);
                using var request = new HttpRequestMessage(new HttpMethod(method), path);
                if (method is "POST" or "PUT" or "PATCH")
                {
                    // An empty object: allowed callers get a validation error, never a change.
                    request.Content = new StringContent("{}", Encoding.UTF8, "application/json");
                }

                using var response = await http.SendAsync(request);
                var status = (int)response.StatusCode;
                if (allowed == ConsoleSession)
                {
                    // The client follows redirects: a page's refusal ends on the sign-in page.
                    var refusedAsExpected = method == "GET"
                        ? response.RequestMessage?.RequestUri?.AbsolutePath == "/console/signin" && status is 200 or 302
                        : status == 401;
                    if (!refusedAsExpected)
                    {
                        failures.Add($"{key} as {label}: expected {(method == "GET" ? "a redirect to /console/signin" : "401")} (a bearer token is not a console session), got {status} at {response.RequestMessage?.RequestUri?.AbsolutePath}");
                    }

                    continue;
                }

                var mayCall = allowed == Public || (bearer is not null && (allowed == Authenticated || roles.Any(allowed.Contains)));
                var expected = mayCall ? "not 401/403" : bearer is null ? "401" : "403";
                var ok = mayCall ? status is not (401 or 403) : status == (bearer is null ? 401 : 403);
                if (!ok)
                {
                    failures.Add($"{key} as {label}: expected {expected}, got {status}");
                }
            }
        }

        Assert.True(failures.Count == 0, "authorization matrix violations:\n" + string.Join("\n", failures));
    }

    /// <summary>The app's endpoints as (matrix key, method to call, a concrete path).</summary>
    private List<(string Key, string Method, string Path)> Endpoints()
    {
        var source = enclave.App.Services.GetRequiredService<EndpointDataSource>();
        var result = new List<(string, string, string)>();
        foreach (var endpoint in source.Endpoints.OfType<RouteEndpoint>())
        {
            var pattern = "/" + endpoint.RoutePattern.RawText!.TrimStart('/');
            var methods = endpoint.Metadata.GetMetadata<IHttpMethodMetadata>()?.HttpMethods;
            var path = string.Join('/', pattern.Split('/').Select(segment => segment.StartsWith('{') ? (segment.EndsWith(":long}", StringComparison.Ordinal) ? "0" : "matrix-probe") : segment));
            if (methods is null || methods.Count == 0)
            {
                result.Add(("* " + pattern, "GET", path));
                continue;
            }

            foreach (var method in methods)
            {
                result.Add(($"{method} {pattern}", method, path));
            }
        }

        return result;
    }
}
