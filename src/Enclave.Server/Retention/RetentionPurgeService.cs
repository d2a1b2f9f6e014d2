using Microsoft.Extensions.Hosting;
using Microsoft.Extensions.Logging;

namespace Enclave.Server.Retention;

/// <summary>Deletes expired retained content at start-up and every hour after.</summary>
internal sealed class RetentionPurgeService(ContentRetentionStore store, TimeProvider clock, ILogger<RetentionPurgeService> logger) : BackgroundService
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
                    logger.LogInformation("deleted {Count} retained records past their retention period", deleted);
                }
            }
            catch (Exception ex) when (ex is System.Data.Common.DbException or IOException)
            {
                logger.LogError(ex, "purging expired retained content failed; will retry in an hour");
            }
        }
        while (await timer.WaitForNextTickAsync(stoppingToken).ConfigureAwait(false));
    }
}
