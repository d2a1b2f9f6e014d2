using Enclave.OperatorConsole.Hosting;
using Enclave.Policy.Identity;
using Microsoft.AspNetCore.Http;
using Microsoft.AspNetCore.Routing;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Playwright;

namespace Enclave.OperatorConsole.Tests;

/// <summary>
/// The console's authorization matrix, with real console sessions (a bearer token is not one: the end-to-end
/// authorization matrix checks that): every console endpoint of the running app × every role and a principal with no
/// role, signed in through the sign-in page. An endpoint under <c>/console</c> that the table does not list fails the
/// test. The same roles as the admin API endpoints each page shows (<see cref="ConsoleRoles"/>).
/// </summary>
public sealed class ConsoleAuthorizationTests(ConsoleFixture enclave) : IClassFixture<ConsoleFixture>
{
    private static readonly string[] Public = ["anonymous"];
    private static readonly string[] Session = ["signed-in"];

    /// <summary>Who may call what; keys are "METHOD pattern" as routing reports them.</summary>
    internal static readonly Dictionary<string, string[]> Matrix = new(StringComparer.Ordinal)
    {
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
        // Blazor's hub for the live parts: any console session (a circuit checks its principal again on every update).
        ["* /console/_blazor"] = Session,
        ["* /console/_blazor/negotiate"] = Session,
        ["* /console/_blazor/disconnect/"] = Session,
        ["* /console/_blazor/initializers/"] = Session,
        ["POST /console/airlock/upload"] = ConsoleRoles.AirlockImport.Split(','),
        ["GET /console/models"] = Session,
        ["POST /console/models"] = Session,
        ["POST /console/models/chat"] = Session,
        ["POST /console/signout"] = Session,
        ["GET /console"] = Session,
        ["POST /console"] = Session,
        ["GET /console/usage"] = ConsoleRoles.Usage.Split(','),
        ["POST /console/usage"] = ConsoleRoles.Usage.Split(','),
        ["GET /console/usage.csv"] = ConsoleRoles.Usage.Split(','),
        ["GET /console/intel"] = ConsoleRoles.Intel.Split(','),
        ["POST /console/intel"] = ConsoleRoles.Intel.Split(','),
        ["GET /console/vulnerabilities"] = ConsoleRoles.Vulnerabilities.Split(','),
        ["POST /console/vulnerabilities"] = ConsoleRoles.Vulnerabilities.Split(','),
        ["GET /console/audit"] = ConsoleRoles.Audit.Split(','),
        ["POST /console/audit"] = ConsoleRoles.Audit.Split(','),
        ["GET /console/audit/{Index:long}"] = ConsoleRoles.Audit.Split(','),
        ["GET /console/audit/export"] = ConsoleRoles.Audit.Split(','),
        ["POST /console/audit/{Index:long}"] = ConsoleRoles.Audit.Split(','),
        ["GET /console/airlock"] = ConsoleRoles.Airlock.Split(','),
        ["POST /console/airlock"] = ConsoleRoles.Airlock.Split(','),
        ["GET /console/airlock/{Id}"] = ConsoleRoles.Airlock.Split(','),
        ["POST /console/airlock/{Id}"] = ConsoleRoles.Airlock.Split(','),
        ["GET /console/users"] = ConsoleRoles.Users.Split(','),
        ["POST /console/users"] = ConsoleRoles.Users.Split(','),
        ["GET /console/alerts"] = ConsoleRoles.Alerts.Split(','),
        ["POST /console/alerts"] = ConsoleRoles.Alerts.Split(','),
        ["GET /console/settings"] = ConsoleRoles.Settings.Split(','),
        ["POST /console/settings"] = ConsoleRoles.Settings.Split(','),
        ["GET /console/policy"] = ConsoleRoles.Policy.Split(','),
        ["POST /console/policy"] = ConsoleRoles.Policy.Split(','),
    };

    [Fact]
    public void EveryConsoleEndpoint_IsInTheMatrix_AndEveryRowIsAnEndpoint()
    {
        var endpoints = Endpoints().Select(e => e.Key).ToHashSet(StringComparer.Ordinal);
        var unlisted = endpoints.Except(Matrix.Keys).Order(StringComparer.Ordinal).ToList();
        var stale = Matrix.Keys.Except(endpoints).Order(StringComparer.Ordinal).ToList();
        Assert.True(unlisted.Count == 0, "console endpoints missing from the matrix: " + string.Join(", ", unlisted));
        Assert.True(stale.Count == 0, "matrix rows with no endpoint: " + string.Join(", ", stale));
    }

    [Fact]
    public async Task EveryRole_TimesEveryConsoleEndpoint_IsAllowedOrRefusedAsTheMatrixSays()
    {
        var failures = new List<string>();
        foreach (var role in Roles.All.Append("none"))
        {
            string[] roles = role == "none" ? [] : [role];
            var (key, _) = await enclave.AddUserAsync("console-matrix-" + role, roles);
            await using var context = await enclave.NewContextAsync();
            var page = await ConsoleFixture.SignInAsync(context, key);
            var token = await page.GetAttributeAsync("input[name=__RequestVerificationToken]", "value");
            foreach (var (endpoint, method, path) in Endpoints())
            {
                if (endpoint == "POST /console/signout")
                {
                    continue; // would end this session; the browser tests sign out
                }

                var allowed = Matrix[endpoint];
                var mayCall = allowed == Public || allowed == Session || roles.Any(allowed.Contains);
                var options = new APIRequestContextOptions { Method = method, MaxRedirects = 0 };
                if (method == "POST")
                {
                    // A valid antiforgery token and no form name: allowed callers get a 400 from the form dispatch, never a change.
                    var form = context.APIRequest.CreateFormData();
                    form.Set("__RequestVerificationToken", token!);
                    options.Form = form;
                }

                var response = await context.APIRequest.FetchAsync(path, options);
                var ok = mayCall ? response.Status is not (401 or 403) and < 500 : response.Status == 403;
                if (!ok)
                {
                    failures.Add($"{endpoint} as role {role}: expected {(mayCall ? "allowed" : "403")}, got {response.Status}");
                }
            }
        }

        Assert.True(failures.Count == 0, "console authorization matrix violations:\n" + string.Join("\n", failures));
    }

    private List<(string Key, string Method, string Path)> Endpoints()
    {
        var source = enclave.Services.GetRequiredService<EndpointDataSource>();
        var result = new List<(string, string, string)>();
        foreach (var endpoint in source.Endpoints.OfType<RouteEndpoint>())
        {
            var pattern = "/" + endpoint.RoutePattern.RawText!.TrimStart('/');
            if (!pattern.StartsWith(ConsoleEndpoints.Prefix, StringComparison.Ordinal))
            {
                continue;
            }

            var path = string.Join('/', pattern.Split('/').Select(segment => segment.StartsWith('{') ? (segment.Contains(":long", StringComparison.Ordinal) ? "0" : "matrix-probe") : segment));
            foreach (var method in endpoint.Metadata.GetMetadata<IHttpMethodMetadata>()?.HttpMethods ?? ["*"])
            {
                // An endpoint for every method (Blazor's hub) is called with GET.
                result.Add(($"{method} {pattern}", method == "*" ? "GET" : method, path));
            }
        }

        return result;
    }
}
