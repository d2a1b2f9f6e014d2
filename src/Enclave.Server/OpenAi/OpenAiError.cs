using System.Text.Json.Nodes;
using Microsoft.AspNetCore.Http;

namespace Enclave.Server.OpenAi;

/// <summary>The OpenAI error object: <c>{"error":{"message","type","param","code"}}</c> with its HTTP status.</summary>
internal static class OpenAiError
{
    internal static readonly System.Text.Json.JsonSerializerOptions Json = new() { Encoder = System.Text.Encodings.Web.JavaScriptEncoder.UnsafeRelaxedJsonEscaping };

    public static IResult Result(int status, string type, string message, string? param = null, string? code = null, TimeSpan? retryAfter = null)
    {
        var body = new JsonObject
        {
            ["error"] = new JsonObject
            {
                ["message"] = message,
                ["type"] = type,
                ["param"] = param,
                ["code"] = code,
            },
        };
        return new ErrorResult(status, body, retryAfter);
    }

    public static IResult InvalidRequest(string message, string? param = null, string? code = null) =>
        Result(StatusCodes.Status400BadRequest, "invalid_request_error", message, param, code);

    public static IResult NotFound(string message, string? param = null, string code = "model_not_found") =>
        Result(StatusCodes.Status404NotFound, "invalid_request_error", message, param, code);

    public static IResult Unauthorized(string message) =>
        Result(StatusCodes.Status401Unauthorized, "invalid_request_error", message, code: "invalid_api_key");

    private sealed class ErrorResult(int status, JsonObject body, TimeSpan? retryAfter) : IResult
    {
        public async Task ExecuteAsync(HttpContext httpContext)
        {
            httpContext.Response.StatusCode = status;
            if (retryAfter is { } delay)
            {
                httpContext.Response.Headers.RetryAfter = Math.Max(1, (int)Math.Ceiling(delay.TotalSeconds)).ToString(System.Globalization.CultureInfo.InvariantCulture);
            }

            httpContext.Response.ContentType = "application/json";
            await httpContext.Response.WriteAsync(body.ToJsonString(Json), httpContext.RequestAborted).ConfigureAwait(false);
        }
    }
}
