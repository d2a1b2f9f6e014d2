using System.Text.Json.Nodes;
using Microsoft.AspNetCore.Http;

namespace Enclave.Server.Anthropic;

/// <summary>
/// The Anthropic error object, <c>{"type":"error","error":{"type","message"}}</c>, answered on <c>/v1/messages</c>
/// (Anthropic clients parse this form, not the OpenAI one).
/// </summary>
internal static class AnthropicError
{
    /// <summary>The Anthropic error type for an HTTP status, as the Messages API documents them.</summary>
    public static string TypeFor(int status) => status switch
    {
        StatusCodes.Status401Unauthorized => "authentication_error",
        StatusCodes.Status403Forbidden => "permission_error",
        StatusCodes.Status404NotFound => "not_found_error",
        StatusCodes.Status413PayloadTooLarge => "request_too_large",
        StatusCodes.Status429TooManyRequests => "rate_limit_error",
        StatusCodes.Status503ServiceUnavailable or 529 => "overloaded_error",
        >= 500 => "api_error",
        _ => "invalid_request_error",
    };

    public static JsonObject Body(int status, string message) => new()
    {
        ["type"] = "error",
        ["error"] = new JsonObject { ["type"] = TypeFor(status), ["message"] = message },
    };

    public static Task WriteAsync(HttpContext http, int status, string message)
    {
        http.Response.StatusCode = status;
        http.Response.ContentLength = null;
        http.Response.ContentType = "application/json";
        return http.Response.WriteAsync(Body(status, message).ToJsonString(OpenAi.OpenAiError.Json), http.RequestAborted);
    }
}
