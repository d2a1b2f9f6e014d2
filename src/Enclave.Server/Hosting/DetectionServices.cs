using Enclave.Core.Artifacts;
using Enclave.Core.Hosting;
using Enclave.Intel.Alerts;
using Enclave.Intel.Detections;
using Enclave.Ledger;
using Enclave.Core.Audit;
using Enclave.State;
using Enclave.State.Detections;
using Microsoft.Extensions.Configuration;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.DependencyInjection.Extensions;
using Microsoft.Extensions.Logging;

namespace Enclave.Server.Hosting;

/// <summary>Registers the live detections: Sigma rules from the airlock and insider analytics on the ledger's append feed.</summary>
public static class DetectionServices
{
    /// <summary>The configuration section of <see cref="DetectionOptions"/>.</summary>
    public const string Section = "Detections";

    /// <summary>
    /// <see cref="DetectionOptions"/> (section <c>Detections</c>, validated on start, every problem listed);
    /// <see cref="IDetectionStore"/> (<c>detection_*</c> in <c>enclave.db</c>); <see cref="LiveSigmaRules"/>;
    /// <see cref="SigmaRuleHook"/> (an <see cref="IArtifactActivationHook"/> for <c>intel</c> bundles: their Sigma rule
    /// files become live; registered even when detections are off, so rules are loaded and listed); the
    /// <see cref="LedgerFeed"/> (subscribed to the ledger when first resolved); <see cref="DetectionPipeline"/>; and
    /// <see cref="DetectionService"/>, the background service that runs it when <c>Detections:Enabled</c>.
    /// </summary>
    public static IServiceCollection AddEnclaveDetections(this IServiceCollection services, IConfiguration configuration)
    {
        ArgumentNullException.ThrowIfNull(services);
        ArgumentNullException.ThrowIfNull(configuration);
        services.AddValidatedRecord(() => Read(configuration, out _), o =>
        {
            Read(configuration, out var bindProblem);
            return bindProblem is null ? o.Validate() : [bindProblem, .. o.Validate()];
        });
        services.TryAddSingleton<IDetectionStore>(sp => new SqliteDetectionStore(
            sp.GetRequiredService<StateConnectionFactory>()));
        services.TryAddSingleton(sp => new LiveSigmaRules(sp.GetRequiredService<IDetectionStore>()));
        services.TryAddEnumerable(ServiceDescriptor.Singleton<IArtifactActivationHook, SigmaRuleHook>(sp => new SigmaRuleHook(
            sp.GetRequiredService<IDetectionStore>(), sp.GetRequiredService<LiveSigmaRules>(), sp.GetRequiredService<ILedger>(), sp.GetRequiredService<TimeProvider>())));
        services.TryAddSingleton(sp =>
        {
            var feed = new LedgerFeed(sp.GetRequiredService<ILedger>(), sp.GetRequiredService<DetectionOptions>().FeedCapacity);
            sp.GetRequiredService<SqliteLedger>().Subscribe(feed);
            return feed;
        });
        services.TryAddSingleton(sp => new DetectionPipeline(
            sp.GetRequiredService<LedgerFeed>(),
            sp.GetRequiredService<IDetectionStore>(),
            sp.GetRequiredService<AlertService>(),
            sp.GetRequiredService<LiveSigmaRules>(),
            sp.GetRequiredService<DetectionOptions>(),
            sp.GetRequiredService<TimeProvider>()));
        services.AddHostedService<DetectionService>();
        return services;
    }

    /// <summary>The <c>Detections</c> section; a value that does not parse is <paramref name="problem"/> (the defaults are used).</summary>
    public static DetectionOptions Read(IConfiguration configuration, out string? problem)
    {
        ArgumentNullException.ThrowIfNull(configuration);
        problem = null;
        try
        {
            return configuration.GetSection(Section).Get<DetectionOptions>() ?? new DetectionOptions();
        }
        catch (InvalidOperationException ex)
        {
            problem = $"{Section}: {ex.Message}";
            return new DetectionOptions();
        }
    }
}

/// <summary>
/// Runs the <see cref="DetectionPipeline"/> in the background once the start-up stages are done, when
/// <c>Detections:Enabled</c>: it subscribes the append feed, rebuilds the engines from the replay window, then scores
/// every new ledger entry. A storage failure is logged and retried; the cursor keeps the place.
/// </summary>
internal sealed partial class DetectionService(IServiceProvider services, DetectionOptions options, ILogger<DetectionService> logger) : Microsoft.Extensions.Hosting.BackgroundService
{
    protected override async Task ExecuteAsync(CancellationToken stoppingToken)
    {
        if (!options.Enabled)
        {
            return;
        }

        await Task.Yield();
        var pipeline = services.GetRequiredService<DetectionPipeline>();
        pipeline.AlertFailed += ex => LogAlertFailed(logger, ex.GetType().Name, ex.Message);
        while (!stoppingToken.IsCancellationRequested)
        {
            try
            {
                if (pipeline.NextIndex < 0)
                {
                    var next = pipeline.Start(stoppingToken);
                    LogStarted(logger, next, pipeline.Status().Replayed, pipeline.Status().LiveRules);
                }

                await pipeline.RunAsync(stoppingToken).ConfigureAwait(false);
            }
            catch (OperationCanceledException) when (stoppingToken.IsCancellationRequested)
            {
                return;
            }
            catch (Exception ex) when (ex is System.Data.Common.DbException or IOException or InvalidOperationException or InvalidDataException or LedgerVerificationException or State.StateException)
            {
                LogStepFailed(logger, pipeline.NextIndex, ex.GetType().Name, ex.Message);
                try
                {
                    await Task.Delay(options.PollInterval * 5, stoppingToken).ConfigureAwait(false);
                }
                catch (OperationCanceledException)
                {
                    return;
                }
            }
        }
    }

    [LoggerMessage(EventId = 8301, Level = LogLevel.Information, Message = "detections started at ledger index {Next} ({Replayed} entries replayed to rebuild the baselines; {Rules} Sigma rules live)")]
    private static partial void LogStarted(ILogger logger, long next, long replayed, int rules);

    [LoggerMessage(EventId = 8302, Level = LogLevel.Error, Message = "detections stopped at ledger index {Next} ({Error}: {Reason}); retrying from the same index")]
    private static partial void LogStepFailed(ILogger logger, long next, string error, string reason);

    [LoggerMessage(EventId = 8303, Level = LogLevel.Error, Message = "a detection alert could not be raised ({Error}: {Reason}); scoring goes on")]
    private static partial void LogAlertFailed(ILogger logger, string error, string reason);
}
