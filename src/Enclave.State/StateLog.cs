using Microsoft.Extensions.Logging;

namespace Enclave.State;

/// <summary>The state layer's log messages, event IDs 1101–1199 (docs/architecture.md, "Logging"). Topics and counts only.</summary>
internal static partial class StateLog
{
    [LoggerMessage(EventId = 1101, Level = LogLevel.Warning, Message = "the state change feed lost its PostgreSQL connection; changes other replicas make are not seen here until it reconnects (it tries every second, then reloads everything)")]
    public static partial void ChangeFeedLost(ILogger logger, Exception exception);

    [LoggerMessage(EventId = 1102, Level = LogLevel.Information, Message = "the state change feed is connected again after {Failures} failed attempts; everything was reloaded")]
    public static partial void ChangeFeedReconnected(ILogger logger, int failures);

    [LoggerMessage(EventId = 1103, Level = LogLevel.Error, Message = "reloading '{Topic}' after a change by another replica failed; this replica keeps what it had until the next change or reconnect")]
    public static partial void ReloadFailed(ILogger logger, Exception exception, string topic);
}
