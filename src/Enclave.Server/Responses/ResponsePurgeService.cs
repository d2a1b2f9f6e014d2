using Enclave.Core.Audit;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Hosting;
using Microsoft.Extensions.Logging;

namespace Enclave.Server.Responses;

/// <summary>
/// Deletes stored responses older than <c>Responses:RetentionDays</c> every <c>Responses:PurgeInterval</c> (on each
/// replica; a run that deletes something is a <c>responses.purged</c> ledger entry). Expired responses are answered 404
/// before they are purged (<see cref="ResponseService.Find"/>).
/// </summary>
/// <remarks>Its services are resolved when it runs, not when the host creates it (the state layer is not opened before the configuration is validated).</remarks>
internal sealed partial class ResponsePurgeService(IServiceProvider services, TimeProvider clock, ILogger<ResponsePurgeService> logger) : BackgroundService
{
    protected override async Task ExecuteAsync(CancellationToken stoppingToken)
    {
        var settings = services.GetRequiredService<Hosting.ServerSettings>();
        using var timer = new PeriodicTimer(settings.Responses.PurgeInterval, clock);
        while (await timer.WaitForNextTickAsync(stoppingToken).ConfigureAwait(false))
        {
            try
            {
                var deleted = await services.GetRequiredService<ResponseService>().PurgeAsync().ConfigureAwait(false);
                if (deleted > 0)
                {
                    Log.Purged(logger, deleted, settings.Responses.RetentionDays);
                }
            }
            catch (Exception ex) when (ex is System.Data.Common.DbException or LedgerWriteException or ObjectDisposedException)
            {
                Log.PurgeFailed(logger, ex.GetType().Name);
            }
        }
    }

    private static partial class Log
    {
        [LoggerMessage(EventId = 3502, Level = LogLevel.Information, Message = "Deleted {Count} stored responses older than {RetentionDays} days")]
        public static partial void Purged(ILogger logger, int count, int retentionDays);

        [LoggerMessage(EventId = 3503, Level = LogLevel.Error, Message = "Purging expired stored responses failed ({Error}); the next run tries again")]
        public static partial void PurgeFailed(ILogger logger, string error);
    }
}
