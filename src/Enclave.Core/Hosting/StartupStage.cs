using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Hosting;

namespace Enclave.Core.Hosting;

/// <summary>
/// A start-up stage: work done once as the host starts (opening, recovering, loading), finished before the next stage
/// begins and before the server listens. Stages run in the order they were registered
/// (<see cref="StartupStages.AddStartupStage{TStage}"/>), which is the order of the component registrations in the
/// composition root. A stage resolves what it needs in <see cref="RunAsync"/>, not in its constructor: the host
/// constructs its hosted services before it validates the configuration, and nothing may open before its stage.
/// </summary>
/// <param name="services">The host's services, resolved from when the stage runs.</param>
public abstract class StartupStage(IServiceProvider services) : IHostedService
{
    /// <summary>The host's services.</summary>
    protected IServiceProvider Services { get; } = services;

    /// <summary>The stage's work.</summary>
    protected abstract Task RunAsync(CancellationToken cancellationToken);

    /// <inheritdoc/>
    public Task StartAsync(CancellationToken cancellationToken) => RunAsync(cancellationToken);

    /// <inheritdoc/>
    public Task StopAsync(CancellationToken cancellationToken) => Task.CompletedTask;
}

/// <summary>Registers start-up stages.</summary>
public static class StartupStages
{
    /// <summary>Adds <typeparamref name="TStage"/> after the stages registered before it (once, however often it is added).</summary>
    public static IServiceCollection AddStartupStage<TStage>(this IServiceCollection services)
        where TStage : StartupStage
    {
        ArgumentNullException.ThrowIfNull(services);
        return services.AddHostedService<TStage>();
    }
}
