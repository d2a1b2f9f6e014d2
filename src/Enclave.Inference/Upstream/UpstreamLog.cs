using Microsoft.Extensions.Logging;

namespace Enclave.Inference.Upstream;

/// <summary>
/// The upstream router's log messages, event IDs 6001–6099 (docs/architecture.md, "Logging"). They name backends,
/// models, statuses and waits; never a request body, a prompt or a key.
/// </summary>
internal static partial class UpstreamLog
{
    [LoggerMessage(EventId = 6001, Level = LogLevel.Information, Message = "upstream backend {Backend} is {Health} (was {Previous}), after {Cause}")]
    public static partial void HealthChanged(ILogger logger, string backend, UpstreamHealth health, UpstreamHealth previous, string cause);

    [LoggerMessage(EventId = 6002, Level = LogLevel.Warning, Message = "upstream backend {Backend} is down: its health check failed")]
    public static partial void HealthCheckFailed(ILogger logger, string backend);

    [LoggerMessage(EventId = 6003, Level = LogLevel.Warning, Message = "upstream backend {Backend} answered {StatusCode} ({ErrorType}) for model {Model} on attempt {Attempt} of at most {MaxAttempts} (a retryable failure)")]
    public static partial void AttemptFailed(ILogger logger, string backend, int statusCode, string errorType, string model, int attempt, int maxAttempts);

    [LoggerMessage(EventId = 6004, Level = LogLevel.Information, Message = "upstream backend {Backend} asked to wait {RetryAfter} ({StatusCode}); no request is sent to it before then")]
    public static partial void CoolingDown(ILogger logger, string backend, int statusCode, TimeSpan retryAfter);

    [LoggerMessage(EventId = 6005, Level = LogLevel.Information, Message = "request for model {Model} failed over from upstream backend {From} to {To}")]
    public static partial void FailedOver(ILogger logger, string model, string from, string to);

    [LoggerMessage(EventId = 6006, Level = LogLevel.Warning, Message = "no upstream backend answered a request for model {Model}: {Attempts} attempt(s) over {Backends} allowed backend(s); answered {StatusCode}")]
    public static partial void Exhausted(ILogger logger, string model, int attempts, int backends, int statusCode);
}
