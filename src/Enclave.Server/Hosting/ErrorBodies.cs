using Microsoft.AspNetCore.Builder;
using Microsoft.AspNetCore.Http;
using Microsoft.AspNetCore.WebUtilities;

namespace Enclave.Server.Hosting;

/// <summary>
/// Gives an error answer that left the pipeline without a body (routing's 405 for a wrong method, its 404 for an
/// unknown path) the body of the API that was called: the OpenAI error object under <c>/v1</c> (clients such as the
/// official SDKs read <c>error.message</c>), RFC 9457 problem details under <c>/admin/v1</c>. Answers that already
/// carry a body, or that have started, are left alone.
/// </summary>
internal static class ErrorBodies
{
    public static IApplicationBuilder UseErrorBodies(this IApplicationBuilder app) => app.Use(async (http, next) =>
    {
        await next(http).ConfigureAwait(false);
        var response = http.Response;
        if (response.StatusCode < 400 || response.HasStarted || response.ContentLength is not null || response.ContentType is not null
            || http.RequestAborted.IsCancellationRequested)
        {
            return;
        }

        var status = response.StatusCode;
        var message = status switch
        {
            StatusCodes.Status405MethodNotAllowed => $"{http.Request.Method} is not allowed on {http.Request.Path}"
                + (response.Headers.Allow.Count > 0 ? $"; use {response.Headers.Allow}" : string.Empty),
            StatusCodes.Status404NotFound => $"there is no endpoint {http.Request.Method} {http.Request.Path}",
            _ => ReasonPhrases.GetReasonPhrase(status),
        };
        if (http.Request.Path.Equals(Anthropic.MessagesEndpoints.Path, StringComparison.Ordinal))
        {
            await Anthropic.AnthropicError.WriteAsync(http, status, message).ConfigureAwait(false);
        }
        else if (http.Request.Path.StartsWithSegments("/v1", StringComparison.Ordinal))
        {
            var code = status switch
            {
                StatusCodes.Status405MethodNotAllowed => "method_not_allowed",
                StatusCodes.Status404NotFound => "unknown_url",
                _ => null,
            };
            await OpenAi.OpenAiError.Result(status, status >= 500 ? "server_error" : "invalid_request_error", message, code: code).ExecuteAsync(http).ConfigureAwait(false);
        }
        else if (http.Request.Path.StartsWithSegments(Admin.AdminApi.Prefix, StringComparison.Ordinal))
        {
            await Results.Problem(title: ReasonPhrases.GetReasonPhrase(status), detail: message, statusCode: status).ExecuteAsync(http).ConfigureAwait(false);
        }
    });
}
