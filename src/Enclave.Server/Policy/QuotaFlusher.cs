using Enclave.Policy.Quotas;
using Microsoft.Extensions.Hosting;
using Microsoft.Extensions.Logging;

namespace Enclave.Server.Policy;

/// <summary>Flushes the quota counters every <see cref="QuotaSettings.FlushInterval"/> and once more at shutdown.</summary>
internal sealed partial class QuotaFlusher(QuotaService quotas, TimeProvider clock, ILogger<QuotaFlusher> logger) : BackgroundService
{
    protected override async Task ExecuteAsync(CancellationToken stoppingToken)
    {
        if (!quotas.Enabled)
        {
            return;
        }

        using var timer = new PeriodicTimer(quotas.FlushInterval, clock);
        try
        {
            while (await timer.WaitForNextTickAsync(stoppingToken).ConfigureAwait(false))
            {
                TryFlush();
            }
        }
        catch (OperationCanceledException) when (stoppingToken.IsCancellationRequested)
        {
            // Stopping: StopAsync flushes.
        }
    }

    public override async Task StopAsync(CancellationToken cancellationToken)
    {
        await base.StopAsync(cancellationToken).ConfigureAwait(false);
        if (quotas.Enabled)
        {
            TryFlush();
        }
    }

    private void TryFlush()
    {
        try
        {
            quotas.Flush();
        }
        catch (System.Data.Common.DbException ex)
        {
            // The increments stay pending and go with the next flush.
            LogFlushFailed(logger, ex.SqlState ?? ex.ErrorCode.ToString(System.Globalization.CultureInfo.InvariantCulture), ex.Message);
        }
    }

    [LoggerMessage(EventId = 4101, Level = LogLevel.Error, Message = "writing quota counters failed (database error {Code}: {Reason}); they stay in memory and are retried at the next flush")]
    private static partial void LogFlushFailed(ILogger logger, string code, string reason);
}
