using Microsoft.Extensions.Hosting;
using Microsoft.Extensions.Logging;

namespace Enclave.State.Retention;

/// <summary>Deletes expired retained content at start-up and every hour after.</summary>
internal sealed partial class RetentionPurgeService(ContentRetentionStore store, TimeProvider clock, ILogger<RetentionPurgeService> logger) : BackgroundService
{
    protected override async Task ExecuteAsync(CancellationToken stoppingToken)
    {
        using var timer = new PeriodicTimer(TimeSpan.FromHours(1), clock);
        do
        {
            try
            {
                var deleted = store.Purge();
                if (deleted > 0)
                {
                    LogPurged(logger, deleted);
                }
            }
            catch (Exception ex) when (ex is System.Data.Common.DbException or IOException)
            {
                LogPurgeFailed(logger, ex);
            }
        }
        while (await timer.WaitForNextTickAsync(stoppingToken).ConfigureAwait(false));
    }

    [LoggerMessage(EventId = 1201, Level = LogLevel.Information, Message = "deleted {Count} retained records past their retention period")]
    private static partial void LogPurged(ILogger logger, int count);

    [LoggerMessage(EventId = 1202, Level = LogLevel.Error, Message = "purging expired retained content failed; will retry in an hour")]
    private static partial void LogPurgeFailed(ILogger logger, Exception exception);
}
