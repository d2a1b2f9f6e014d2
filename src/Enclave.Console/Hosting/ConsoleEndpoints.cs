using System.Text;
using Enclave.OperatorConsole.Backend;
using Enclave.OperatorConsole.Components;
using Enclave.OperatorConsole.Usage;
using Enclave.State.Usage;
using Microsoft.AspNetCore.Antiforgery;
using Microsoft.AspNetCore.Authorization;
using Microsoft.AspNetCore.Authentication;
using Microsoft.AspNetCore.Builder;
using Microsoft.AspNetCore.Http;
using Microsoft.AspNetCore.WebUtilities;
using Microsoft.AspNetCore.Routing;
using Microsoft.AspNetCore.Routing.Patterns;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Options;

namespace Enclave.OperatorConsole.Hosting;

/// <summary>
/// Maps the console at <c>/console</c>: its pages (Razor components, static server rendering), its two stylesheets
/// and sign-out; and the security headers every console answer carries.
/// </summary>
public static class ConsoleEndpoints
{
    /// <summary>Where the console lives.</summary>
    public const string Prefix = "/console";

    /// <summary>
    /// The Content-Security-Policy of every console answer: nothing but the enclave's own stylesheets, images and script
    /// files (no inline script, no eval), connections (the live parts' WebSocket, the playground's and the upload's
    /// fetches) only to the enclave itself, no frames, forms only to itself.
    /// </summary>
    public const string ContentSecurityPolicy =
        "default-src 'self'; script-src 'self'; style-src 'self'; img-src 'self' data:; font-src 'self'; connect-src 'self'; " +
        "form-action 'self'; frame-ancestors 'none'; base-uri 'none'; object-src 'none'";

    /// <summary>
    /// Where the live parts' circuits connect (Blazor's hub, mapped under <see cref="Prefix"/> so that the session cookie,
    /// whose path is <see cref="Prefix"/>, goes with it).
    /// </summary>
    public const string HubPath = Prefix + "/_blazor";

    /// <summary>The longest message the Models page's playground sends.</summary>
    public const int MaxPlaygroundMessage = 8000;

    /// <summary>
    /// The console's security headers (CSP, <c>Referrer-Policy: no-referrer</c>, no sniffing, no framing, no caching:
    /// the console's static files alone say otherwise, <see cref="ConsoleAssets"/>) on every answer under <see cref="Prefix"/>, and a plain-text body for an error answer that has none. Call before
    /// authentication.
    /// </summary>
    public static IApplicationBuilder UseEnclaveConsoleHeaders(this IApplicationBuilder app) => app.Use(async (http, next) =>
    {
        if (!http.Request.Path.StartsWithSegments(Prefix, StringComparison.Ordinal))
        {
            await next(http).ConfigureAwait(false);
            return;
        }

        var headers = http.Response.Headers;
        headers.ContentSecurityPolicy = ContentSecurityPolicy;
        headers["Referrer-Policy"] = "no-referrer";
        headers.XContentTypeOptions = "nosniff";
        headers.XFrameOptions = "DENY";
        headers["Cross-Origin-Opener-Policy"] = "same-origin";
        headers.CacheControl = "no-store";
        await next(http).ConfigureAwait(false);
        var response = http.Response;
        // Nothing written yet (a refusal by authorization or antiforgery, which may have set a content type but no body).
        if (response.StatusCode >= 400 && !response.HasStarted && response.ContentLength is null)
        {
            var message = response.StatusCode switch
            {
                StatusCodes.Status400BadRequest => "400 bad request: the form was not valid or its antiforgery token was missing or stale; reload the page and submit the form again.",
                StatusCodes.Status401Unauthorized => "401 not signed in: sign in at /console/signin with your API key, then try again.",
                StatusCodes.Status403Forbidden => "403 forbidden: your roles do not allow this page or action; ask an admin for the role it needs.",
                StatusCodes.Status404NotFound => $"404 not found: there is no console page {http.Request.Path}; start at /console.",
                _ => $"{response.StatusCode} {ReasonPhrases.GetReasonPhrase(response.StatusCode)}",
            };
            response.ContentType = "text/plain; charset=utf-8";
            await response.WriteAsync(message + "\n", http.RequestAborted).ConfigureAwait(false);
        }
    });

    /// <summary>Maps the pages, <c>/console/console.css</c>, <c>/console/banner.css</c>, <c>POST /console/signout</c>, single sign-on (<c>GET /console/signin/oidc</c> and its callback, <see cref="ConsoleOidcEndpoints"/>), the bundle upload <c>POST /console/airlock/upload</c> and its script <c>/console/airlock-upload.js</c>, the playground's script <c>/console/playground.js</c> and its chat <c>POST /console/models/chat</c>, the usage export <c>GET /console/usage.csv</c>, the audit export with proofs <c>GET /console/audit/export</c>, and for the live parts Blazor's script <c>/console/blazor-web.js</c>, its start-up <c>/console/live.js</c> and its hub under <see cref="HubPath"/>. Call after <c>UseAntiforgery</c>.</summary>
    public static void MapEnclaveConsole(this WebApplication app)
    {
        ArgumentNullException.ThrowIfNull(app);
        // The console's files: long-cached at their current version, revalidated without it (ConsoleAssets).
        var assets = app.Services.GetRequiredService<ConsoleAssets>();
        foreach (var name in assets.Names)
        {
            app.MapGet(Prefix + "/" + name, (HttpContext http) => assets.Serve(http, name)).AllowAnonymous();
        }

        app.MapPost(Prefix + "/models/chat", async (HttpContext http, IConsoleBackend backend) =>
            {
                // A post without a valid antiforgery token: 400 (the headers middleware says why); nothing is sent.
                if (http.Features.Get<IAntiforgeryValidationFeature>() is { IsValid: false } || !http.Request.HasFormContentType)
                {
                    return Results.StatusCode(StatusCodes.Status400BadRequest);
                }

                IFormCollection form;
                try
                {
                    form = await http.Request.ReadFormAsync(http.RequestAborted).ConfigureAwait(false);
                }
                catch (Exception ex) when (ex is InvalidDataException or BadHttpRequestException)
                {
                    return Results.StatusCode(StatusCodes.Status400BadRequest);
                }

                var model = form["model"].Count == 1 ? form["model"][0] : null;
                var message = form["message"].Count == 1 ? form["message"][0] : null;
                if (string.IsNullOrWhiteSpace(model) || string.IsNullOrWhiteSpace(message) || message.Length > MaxPlaygroundMessage)
                {
                    return Results.Text($"400 bad request: send one model and one message of 1 to {MaxPlaygroundMessage} characters.\n", "text/plain; charset=utf-8", statusCode: StatusCodes.Status400BadRequest);
                }

                await backend.ChatAsync(http, model, message).ConfigureAwait(false);
                return Results.Empty;
            })
            .WithMetadata(new RequireAntiforgeryTokenAttribute())
            .RequireAuthorization(p => p.AddAuthenticationSchemes(ConsoleServices.Scheme).RequireAuthenticatedUser());
        app.MapPost(Prefix + "/airlock/upload", async (HttpContext http, IConsoleBackend backend) =>
            {
                // The token comes in the RequestVerificationToken header (the body is the bundle); without it: 400, nothing read.
                if (http.Features.Get<IAntiforgeryValidationFeature>() is { IsValid: false })
                {
                    return Results.StatusCode(StatusCodes.Status400BadRequest);
                }

                await backend.UploadBundleAsync(http).ConfigureAwait(false);
                return Results.Empty;
            })
            .WithMetadata(new RequireAntiforgeryTokenAttribute())
            .RequireAuthorization(p => p.AddAuthenticationSchemes(ConsoleServices.Scheme).RequireRole(ConsoleRoles.AirlockImport.Split(',')));
        app.MapGet(Prefix + "/banner.css", (HttpContext http, IConsoleBackend backend, IOptions<ConsoleOptions> options) =>
            ConsoleAssets.ServeBanner(http, backend.Labels, options.Value)).AllowAnonymous();
        app.MapPost(Prefix + "/signout", async (HttpContext http) =>
            {
                await http.SignOutAsync(ConsoleServices.Scheme).ConfigureAwait(false);
                return Results.Redirect(Prefix + "/signin");
            })
            .WithMetadata(new RequireAntiforgeryTokenAttribute())
            .RequireAuthorization(p => p.AddAuthenticationSchemes(ConsoleServices.Scheme).RequireAuthenticatedUser());
        app.MapGet(Prefix + "/usage.csv", (IUsageStore store, IConsoleBackend backend, TimeProvider clock, string? range, string? by, string? model) =>
            {
                if (!UsageReport.TryParse(range, by, out var r, out var d, out var problem))
                {
                    return Results.Text($"400 bad request: {problem}; e.g. /console/usage.csv?range=day&by=model\n", "text/plain; charset=utf-8", statusCode: StatusCodes.Status400BadRequest);
                }

                var now = clock.GetUtcNow();
                var csv = UsageReport.Build(store, r, d, now, UsageReport.RolesOf(backend, d), string.IsNullOrEmpty(model) ? null : model).ToCsv();
                var name = $"enclave-usage-{UsageReport.RangeName(r)}-by-{UsageReport.DimensionName(d)}-{now.UtcDateTime:yyyyMMdd'T'HHmm'Z'}.csv";
                return Results.File(Encoding.UTF8.GetBytes(csv), "text/csv; charset=utf-8", name);
            })
            .RequireAuthorization(p => p.AddAuthenticationSchemes(ConsoleServices.Scheme).RequireRole(ConsoleRoles.Usage.Split(',')));
        app.MapGet(Prefix + "/audit/export", AuditExport.HandleAsync)
            .RequireAuthorization(p => p.AddAuthenticationSchemes(ConsoleServices.Scheme).RequireRole(ConsoleRoles.Audit.Split(',')));
        // Blazor's script (vendored: Assets/blazor.web.js, from the SDK's Microsoft.AspNetCore.App.Internal.Assets of the
        // runtime the enclave is built with) and the console's own start-up for it, both loaded only by pages with live
        // parts, are among the files mapped above.
        app.MapEnclaveConsoleOidc();
        app.MapRazorComponents<App>()
            // Blazor would add a second CSP header (frame-ancestors 'self') to every page for its compressed WebSocket;
            // the console's own CSP already says frame-ancestors 'none', in one header.
            .AddInteractiveServerRenderMode(o => o.ContentSecurityFrameAncestorsPolicy = null)
            .Add(HubUnderConsole);
    }

    /// <summary>
    /// Blazor maps its hub at <c>/_blazor</c>; the console's goes under <see cref="HubPath"/>, where the session cookie is
    /// sent, and needs a console session: a circuit is always some signed-in principal's (a GET without one goes to
    /// sign-in, anything else is 401), and each live part checks that principal again before every update.
    /// </summary>
    private static void HubUnderConsole(EndpointBuilder endpoint)
    {
        if (endpoint is RouteEndpointBuilder { RoutePattern.RawText: { } raw } route
            && raw.TrimStart('/') is var relative && (relative == "_blazor" || relative.StartsWith("_blazor/", StringComparison.Ordinal)))
        {
            route.RoutePattern = RoutePatternFactory.Parse(Prefix + "/" + relative);
            endpoint.Metadata.Add(new AuthorizeAttribute { AuthenticationSchemes = ConsoleServices.Scheme });
        }
    }
}
