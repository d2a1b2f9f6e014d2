using Enclave.Core.Audit;
using Enclave.Ledger;
using Enclave.Server.Usage;
using Enclave.State;
using Enclave.State.Usage;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.DependencyInjection.Extensions;
using Microsoft.Extensions.Logging;

namespace Enclave.Server.Hosting;

/// <summary>Registers the usage rollup the console's Usage page reads.</summary>
public static class UsageServices
{
    /// <summary>
    /// <see cref="IUsageStore"/> (<c>usage_*</c> in <c>enclave.db</c>); <see cref="UsageRollup"/> on its own
    /// <see cref="LedgerFeed"/> (one consumer per feed; subscribed to the ledger when first resolved); and
    /// <see cref="UsageRollupService"/>, the background service that keeps it up to date.
    /// </summary>
    public static IServiceCollection AddEnclaveUsage(this IServiceCollection services)
    {
        ArgumentNullException.ThrowIfNull(services);
        services.TryAddSingleton<IUsageStore>(sp => new SqliteUsageStore(sp.GetRequiredService<StateConnectionFactory>()));
        services.TryAddSingleton(sp =>
        {
            var feed = new LedgerFeed(sp.GetRequiredService<ILedger>());
            sp.GetRequiredService<SqliteLedger>().Subscribe(feed);
            return new UsageRollup(feed, sp.GetRequiredService<IUsageStore>(), sp.GetRequiredService<TimeProvider>());
        });
        services.AddHostedService<UsageRollupService>();
        return services;
    }
}

/// <summary>
/// Runs the <see cref="UsageRollup"/> in the background once the start-up stages are done. A storage failure is
/// logged and retried from the same ledger index (the cursor keeps the place).
/// </summary>
internal sealed partial class UsageRollupService(IServiceProvider services, ILogger<UsageRollupService> logger) : Microsoft.Extensions.Hosting.BackgroundService
{
    private static readonly TimeSpan PollInterval = TimeSpan.FromMilliseconds(250);

    protected override async Task ExecuteAsync(CancellationToken stoppingToken)
    {
        await Task.Yield();
        var rollup = services.GetRequiredService<UsageRollup>();
        var started = false;
        while (!stoppingToken.IsCancellationRequested)
        {
            try
            {
                if (!started)
                {
                    LogStarted(logger, services.GetRequiredService<IUsageStore>().ReadCursor() ?? 0, rollup.LedgerSize);
                    started = true;
                }

                await rollup.RunAsync(PollInterval, stoppingToken).ConfigureAwait(false);
            }
            catch (OperationCanceledException) when (stoppingToken.IsCancellationRequested)
            {
                return;
            }
            catch (Exception ex) when (ex is Microsoft.Data.Sqlite.SqliteException or IOException or InvalidOperationException or InvalidDataException or LedgerVerificationException or StateException)
            {
                LogStepFailed(logger, rollup.NextIndex, ex.GetType().Name, ex.Message);
                try
                {
                    await Task.Delay(PollInterval * 20, stoppingToken).ConfigureAwait(false);
                }
                catch (OperationCanceledException)
                {
                    return;
                }
            }
        }
    }

    [LoggerMessage(EventId = 10101, Level = LogLevel.Information, Message = "usage rollup started at ledger index {Next} of {Size}")]
    private static partial void LogStarted(ILogger logger, long next, long size);

    [LoggerMessage(EventId = 10102, Level = LogLevel.Error, Message = "usage rollup stopped at ledger index {Next} ({Error}: {Reason}); retrying from the same index")]
    private static partial void LogStepFailed(ILogger logger, long next, string error, string reason);
}
