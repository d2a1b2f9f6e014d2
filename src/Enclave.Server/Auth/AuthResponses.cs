using System.Text;
using System.Text.Json;
using System.Text.Json.Nodes;
using Enclave.Core;
using Enclave.Core.Audit;
using Enclave.Ledger;
using Microsoft.AspNetCore.Http;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Logging;
using Microsoft.IdentityModel.Tokens;

namespace Enclave.Server.Auth;

/// <summary>
/// The 401 and 403 answers of every scheme, in the form of the API that was called (the OpenAI error object on
/// <c>/v1</c>, RFC 9457 problem details elsewhere), and the <c>auth.failed</c> ledger entry of every refused credential.
/// </summary>
/// <remarks>
/// A request without credentials gets a 401 and no ledger entry (probes and scanners would fill the ledger with
/// nothing); a request whose credential is refused gets a 401 once its entry is durable. The entry names the reason,
/// the API key ID or the token's <c>kid</c>, <c>alg</c> and <c>iss</c> (untrusted, shortened), never the credential.
/// Failed attempts go through the ledger's group commit, so a flood of them is bounded by its write rate.
/// </remarks>
internal static partial class AuthResponses
{
    private const int MaxRecordedText = 128;

    public static async Task ChallengeAsync(HttpContext context, string scheme, Exception? failure, string missingMessage)
    {
        string message;
        string? tokenError = null;
        if (failure is null)
        {
            message = missingMessage;
        }
        else
        {
            var (reason, publicMessage) = Describe(failure);
            message = publicMessage;
            tokenError = "invalid_token";
            await RecordAsync(context, scheme, reason, failure).ConfigureAwait(false);
        }

        context.Response.StatusCode = StatusCodes.Status401Unauthorized;
        // RFC 6750 section 3: the error code only, never the description (it stays in the body).
        context.Response.Headers.WWWAuthenticate = tokenError is null ? "Bearer" : $"Bearer error=\"{tokenError}\"";
        await WriteAsync(context, StatusCodes.Status401Unauthorized, "Unauthorized", message, "invalid_api_key").ConfigureAwait(false);
    }

    public static Task ForbiddenAsync(HttpContext context) =>
        WriteAsync(context, StatusCodes.Status403Forbidden, "Forbidden", "this principal's roles do not allow this endpoint", "permission_denied");

    /// <summary>The ledger reason code and the client's message for a refused credential.</summary>
    internal static (string Reason, string Message) Describe(Exception failure) => failure switch
    {
        AuthenticationRejectedException rejected => (rejected.Reason, rejected.Message),
        SecurityTokenExpiredException => ("expired", "the token has expired"),
        SecurityTokenNotYetValidException => ("not_yet_valid", "the token is not valid yet (nbf)"),
        SecurityTokenNoExpirationException => ("no_expiry", "the token has no expiry (exp)"),
        SecurityTokenInvalidLifetimeException => ("invalid_lifetime", "the token's lifetime is invalid"),
        SecurityTokenInvalidIssuerException => ("wrong_issuer", "the token's issuer is not the configured identity provider"),
        SecurityTokenInvalidAudienceException => ("wrong_audience", "the token was not issued for this enclave (aud)"),
        SecurityTokenInvalidAlgorithmException => ("algorithm_not_allowed", "the token's signature algorithm is not allowed"),
        SecurityTokenSignatureKeyNotFoundException => ("unknown_key", "the token is signed with a key that is not in the enclave's JWKS (kid)"),
        SecurityTokenInvalidSignatureException => ("bad_signature", "the token's signature is not valid"),
        // IdentityModel reports a header or payload it cannot decode as an ArgumentException.
        SecurityTokenMalformedException or ArgumentException => ("malformed_token", "the token is not a well-formed JWT"),
        SecurityTokenException => ("invalid_token", "the token is not valid"),
        _ => ("invalid_token", "the credentials are not valid"),
    };

    private static async Task RecordAsync(HttpContext context, string scheme, string reason, Exception failure)
    {
        var details = new AuthFailedDetails
        {
            Scheme = scheme,
            Reason = reason,
            Method = context.Request.Method,

            // An unexpected kind of failure: its type tells an operator where to look (its message may quote the token).
            Exception = reason == "invalid_token" ? failure.GetType().Name : null,
            KeyId = (failure as AuthenticationRejectedException)?.KeyId,
            RemoteAddress = context.Connection.RemoteIpAddress?.ToString(),
        };
        if (scheme == EnclaveAuthentication.OidcScheme)
        {
            details = WithTokenFacts(details, context.Request.Headers.Authorization.ToString());
        }

        try
        {
            var evt = AuditEvent.Create(
                context.RequestServices.GetRequiredService<TimeProvider>().GetUtcNow(),
                "anonymous",
                Clean(context.Request.Path.Value is { Length: > 0 } path ? path : "/", AuditEvent.MaxFieldLength),
                details);
            await context.RequestServices.GetRequiredService<ILedger>().AppendAsync(evt, CancellationToken.None).ConfigureAwait(false);
        }
        catch (Exception ex) when (ex is LedgerWriteException or ObjectDisposedException or EnclaveFormatException)
        {
            // The request is refused either way; the failure to record it is logged for the operator.
            LogNotRecorded(context.RequestServices.GetRequiredService<ILoggerFactory>().CreateLogger(typeof(AuthResponses)), reason, ex.Message);
        }
    }

    /// <summary>The unverified header facts of a refused JWT that help an operator: kid, alg and iss.</summary>
    private static AuthFailedDetails WithTokenFacts(AuthFailedDetails details, string authorization)
    {
        if (!EnclaveAuthentication.TryGetBearer(authorization, out var token))
        {
            return details;
        }

        var parts = token.Split('.');
        if (parts.Length != 3)
        {
            return details;
        }

        try
        {
            using (var header = JsonDocument.Parse(Base64UrlEncoder.DecodeBytes(parts[0])))
            {
                if (header.RootElement.ValueKind == JsonValueKind.Object)
                {
                    details = details with { Kid = Text(header.RootElement, "kid"), Alg = Text(header.RootElement, "alg") };
                }
            }

            using var payload = JsonDocument.Parse(Base64UrlEncoder.DecodeBytes(parts[1]));
            if (payload.RootElement.ValueKind == JsonValueKind.Object)
            {
                details = details with { Iss = Text(payload.RootElement, "iss") };
            }
        }
        catch (Exception ex) when (ex is FormatException or JsonException or ArgumentException)
        {
            // A token too broken to read: the reason says so; nothing more to record.
        }

        return details;
    }

    private static string? Text(JsonElement source, string name) =>
        source.TryGetProperty(name, out var value) && value.ValueKind == JsonValueKind.String ? Clean(value.GetString()!, MaxRecordedText) : null;

    private static string Clean(string text, int max)
    {
        var builder = new StringBuilder(Math.Min(text.Length, max));
        foreach (var c in text)
        {
            if (builder.Length == max)
            {
                break;
            }

            builder.Append(char.IsControl(c) || char.IsSurrogate(c) ? '?' : c);
        }

        return builder.ToString();
    }

    private static async Task WriteAsync(HttpContext context, int status, string title, string message, string openAiCode)
    {
        context.Response.StatusCode = status;
        if (context.Request.Path.Equals(Anthropic.MessagesEndpoints.Path, StringComparison.Ordinal))
        {
            await Anthropic.AnthropicError.WriteAsync(context, status, message).ConfigureAwait(false);
        }
        else if (context.Request.Path.StartsWithSegments("/v1", StringComparison.Ordinal))
        {
            context.Response.ContentType = "application/json";
            var body = new JsonObject { ["error"] = new JsonObject { ["message"] = message, ["type"] = "invalid_request_error", ["param"] = null, ["code"] = openAiCode } };
            await context.Response.WriteAsync(body.ToJsonString(OpenAi.OpenAiError.Json), context.RequestAborted).ConfigureAwait(false);
        }
        else
        {
            await Results.Problem(title: title, detail: message, statusCode: status).ExecuteAsync(context).ConfigureAwait(false);
        }
    }

    [LoggerMessage(EventId = 4001, Level = LogLevel.Error, Message = "a refused credential ({Reason}) could not be recorded in the ledger: {Error}")]
    private static partial void LogNotRecorded(ILogger logger, string reason, string error);
}
