using System.Security.Claims;
using Enclave.OperatorConsole.Backend;
using Enclave.OperatorConsole.Live;
using Microsoft.AspNetCore.Authentication;
using Microsoft.AspNetCore.Authentication.Cookies;
using Microsoft.AspNetCore.Http;
using Microsoft.Extensions.Configuration;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.DependencyInjection.Extensions;
using Microsoft.Extensions.Options;

namespace Enclave.OperatorConsole.Hosting;

/// <summary>Registers the operator console (<c>/console</c>): Blazor static server rendering with Interactive Server live parts, its session cookie, antiforgery, its options.</summary>
public static class ConsoleServices
{
    /// <summary>The console's authentication scheme: a session cookie, issued in exchange for an API key or after single sign-on.</summary>
    public const string Scheme = "EnclaveConsole";

    /// <summary>The session cookie's name.</summary>
    public const string CookieName = "enclave-console";

    /// <summary>
    /// The claim that tells a live part's circuit when its session ends unless the person acts (a page or a form; the
    /// cookie's expiry, in Unix milliseconds): set by the server on every request it authenticates with the session
    /// cookie, never kept in the cookie.
    /// </summary>
    public const string SessionExpiresClaim = "enclave:console-session-expires";

    /// <summary>The antiforgery cookie's name.</summary>
    public const string AntiforgeryCookieName = "enclave-console-af";

    /// <summary>
    /// Adds the console: Razor components (static server rendering, and Interactive Server for the live parts, fed by
    /// <see cref="ConsoleLiveUpdates"/> from the background <see cref="ConsoleLiveFeed"/>; no WebAssembly), the <see cref="Scheme"/> cookie
    /// (<c>HttpOnly</c>, <c>SameSite=Strict</c>, <c>Secure</c> over https, sliding idle timeout that only pages and forms
    /// extend, never the live parts' hub; each request re-reads
    /// the key it was signed in with through <see cref="IConsoleBackend.Refresh"/>, or a single sign-on's user through
    /// <see cref="IConsoleBackend.RefreshOidc"/>, so a revoked key or a disabled principal ends the session at once), antiforgery, and <see cref="ConsoleOptions"/> validated on start. The host
    /// registers <see cref="IConsoleBackend"/>.
    /// </summary>
    public static IServiceCollection AddEnclaveConsole(this IServiceCollection services, IConfiguration configuration)
    {
        ArgumentNullException.ThrowIfNull(services);
        ArgumentNullException.ThrowIfNull(configuration);
        services.AddOptions<ConsoleOptions>().Bind(configuration.GetSection(ConsoleOptions.Section)).ValidateOnStart();
        services.AddSingleton<IValidateOptions<ConsoleOptions>, ConsoleOptionsValidator>();
        services.AddRazorComponents().AddInteractiveServerComponents(o =>
        {
            // A live part is a view: nothing of the server's internals in the browser when one fails.
            o.DetailedErrors = false;
        });
        services.TryAddSingleton<ConsoleLiveUpdates>();
        services.TryAddSingleton<ConsoleAssets>();
        services.AddHostedService<ConsoleLiveFeed>();
        services.AddAntiforgery(o =>
        {
            o.Cookie.Name = AntiforgeryCookieName;
            o.Cookie.Path = ConsoleEndpoints.Prefix;
            o.Cookie.SameSite = SameSiteMode.Strict;
            o.Cookie.SecurePolicy = CookieSecurePolicy.SameAsRequest;
            o.Cookie.HttpOnly = true;
        });
        var idle = configuration.GetSection(ConsoleOptions.Section).Get<ConsoleOptions>()?.IdleTimeout ?? new ConsoleOptions().IdleTimeout;
        services.AddAuthentication().AddCookie(Scheme, o =>
        {
            o.Cookie.Name = CookieName;
            o.Cookie.Path = ConsoleEndpoints.Prefix;
            o.Cookie.HttpOnly = true;
            o.Cookie.SameSite = SameSiteMode.Strict;
            o.Cookie.SecurePolicy = CookieSecurePolicy.SameAsRequest;
            o.ExpireTimeSpan = idle;
            o.SlidingExpiration = true;
            o.LoginPath = ConsoleEndpoints.Prefix + "/signin";
            o.LogoutPath = ConsoleEndpoints.Prefix + "/signout";
            o.Events = new CookieAuthenticationEvents
            {
                OnValidatePrincipal = ValidateAsync,
                // Only a person's actions (pages, forms) keep a session alive: Blazor's hub (the live parts' connection,
                // its negotiation and reconnections) never extends it, so an open page alone lets it end.
                OnCheckSlidingExpiration = context =>
                {
                    if (context.HttpContext.Request.Path.StartsWithSegments(ConsoleEndpoints.HubPath, StringComparison.Ordinal))
                    {
                        context.ShouldRenew = false;
                    }

                    return Task.CompletedTask;
                },
                // A page or action the principal's roles do not allow: 403, never a redirect that hides it.
                OnRedirectToAccessDenied = context =>
                {
                    context.Response.StatusCode = StatusCodes.Status403Forbidden;
                    return Task.CompletedTask;
                },
                // No session: a page goes to sign-in; anything else (a forged or stale form post) is 401.
                OnRedirectToLogin = context =>
                {
                    if (HttpMethods.IsGet(context.Request.Method))
                    {
                        context.Response.Redirect(context.RedirectUri);
                    }
                    else
                    {
                        context.Response.StatusCode = StatusCodes.Status401Unauthorized;
                    }

                    return Task.CompletedTask;
                },
            };
        });
        return services;
    }

    /// <summary>
    /// The principal of a console session read anew: the key it was signed in with through
    /// <see cref="IConsoleBackend.Refresh"/>, or a single sign-on's user through <see cref="IConsoleBackend.RefreshOidc"/>,
    /// with the roles and clearance the directory holds now. Null once the key is revoked or expired or the principal
    /// disabled, or for a principal that is not a console session. Every request checks its session so, and every live
    /// part checks its circuit's principal so before each update.
    /// </summary>
    public static ClaimsPrincipal? Revalidate(IConsoleBackend backend, ClaimsPrincipal? session)
    {
        ArgumentNullException.ThrowIfNull(backend);
        var keyId = session?.FindFirst(Policy.Identity.EnclaveClaims.KeyId)?.Value;
        var current = keyId is not null ? backend.Refresh(keyId)
            : session?.FindFirst(Policy.Identity.EnclaveClaims.OidcSubject) is not null ? backend.RefreshOidc(session)
            : null;
        return current is null ? null : new ClaimsPrincipal(new ClaimsIdentity(current.Claims, Scheme, ClaimTypes.Name, ClaimTypes.Role));
    }

    private static async Task ValidateAsync(CookieValidatePrincipalContext context)
    {
        var current = Revalidate(context.HttpContext.RequestServices.GetRequiredService<IConsoleBackend>(), context.Principal);
        if (current is null)
        {
            context.RejectPrincipal();
            await context.HttpContext.SignOutAsync(Scheme).ConfigureAwait(false);
            return;
        }

        // The roles and clearance the directory holds now, not those at sign-in; and when the session ends unless the
        // person acts (a live part's circuit, whose hub requests never extend it, ends then).
        if (context.Properties.ExpiresUtc is { } expires)
        {
            ((ClaimsIdentity)current.Identity!).AddClaim(new Claim(SessionExpiresClaim, expires.ToUnixTimeMilliseconds().ToString(System.Globalization.CultureInfo.InvariantCulture), ClaimValueTypes.Integer64));
        }

        context.ReplacePrincipal(current);
    }

    private sealed class ConsoleOptionsValidator : IValidateOptions<ConsoleOptions>
    {
        public ValidateOptionsResult Validate(string? name, ConsoleOptions options)
        {
            var problems = options.Validate();
            return problems.Count == 0 ? ValidateOptionsResult.Success : ValidateOptionsResult.Fail(problems);
        }
    }
}
