using System.Collections.Concurrent;
using Enclave.State.Responses;
using Microsoft.AspNetCore.Http;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Hosting;
using Microsoft.Extensions.Logging;

namespace Enclave.Server.Responses;

/// <summary>
/// The background responses this replica runs (<c>background: true</c>): at most <c>Responses:MaxBackground</c> at
/// once, each under its own cancellation. A response is stopped when it is cancelled here, when its row stops being
/// queued or in progress (cancelled, deleted or purged through any replica: each run looks every second) and when the
/// server stops (then it ends <c>failed</c>).
/// </summary>
/// <remarks>
/// Its services are resolved when first used, not when the host starts it: the state layer is not opened before the
/// configuration has been validated.
/// </remarks>
internal sealed partial class BackgroundResponses(IServiceProvider services, TimeProvider clock, ILogger<BackgroundResponses> logger) : IHostedService, IDisposable
{
    private static readonly TimeSpan WatchInterval = TimeSpan.FromSeconds(1);
    private readonly ConcurrentDictionary<string, CancellationTokenSource> _running = new(StringComparer.Ordinal);
    private readonly ConcurrentDictionary<Task, bool> _tasks = new();
    private int _reserved;

    /// <summary>The most background responses this replica runs at once.</summary>
    public int Limit => services.GetRequiredService<Hosting.ServerSettings>().Responses.MaxBackground;

    private IResponseStore Store => services.GetRequiredService<IResponseStore>();

    /// <summary>Takes one of the <see cref="Limit"/> places; false when all are taken. Give it back with <see cref="Release"/> unless <see cref="Run"/> took it over.</summary>
    public bool TryReserve()
    {
        if (Interlocked.Increment(ref _reserved) <= Limit)
        {
            return true;
        }

        Interlocked.Decrement(ref _reserved);
        return false;
    }

    /// <summary>Gives back a place taken by <see cref="TryReserve"/> that no run took over.</summary>
    public void Release() => Interlocked.Decrement(ref _reserved);

    /// <summary>Runs <paramref name="work"/> for response <paramref name="id"/> on the thread pool, in the place reserved for it, given back when it ends.</summary>
    public void Run(string id, Func<CancellationToken, Task> work)
    {
        ArgumentNullException.ThrowIfNull(id);
        ArgumentNullException.ThrowIfNull(work);
        var cts = new CancellationTokenSource();
        _running[id] = cts;
        var task = Task.Run(async () =>
        {
            try
            {
                var running = work(cts.Token);
                await WatchAsync(id, running, cts).ConfigureAwait(false);
                await running.ConfigureAwait(false);
            }
            catch (Exception ex) when (ex is not OutOfMemoryException)
            {
                // A run's own failures are its response's status; what reaches here (the state layer failing) is logged.
                Log.RunFailed(logger, id, ex.GetType().Name);
            }
            finally
            {
                _running.TryRemove(id, out _);
                cts.Dispose();
                Release();
            }
        });
        _tasks[task] = true;
        _ = task.ContinueWith(t => _tasks.TryRemove(t, out _), CancellationToken.None, TaskContinuationOptions.ExecuteSynchronously, TaskScheduler.Default);
    }

    /// <summary>Stops the run of response <paramref name="id"/> if this replica runs it.</summary>
    public async Task CancelAsync(string id)
    {
        if (_running.TryGetValue(id, out var cts))
        {
            try
            {
                await cts.CancelAsync().ConfigureAwait(false);
            }
            catch (ObjectDisposedException)
            {
                // It ended meanwhile.
            }
        }
    }

    /// <summary>Executes <paramref name="result"/> (the chat path's answer or error) into memory: its status and body.</summary>
    public async Task<(int Status, byte[] Body)> CaptureAsync(IResult result)
    {
        ArgumentNullException.ThrowIfNull(result);
        using var body = new MemoryStream();
        var http = new DefaultHttpContext { RequestServices = services };
        http.Response.Body = body;
        await result.ExecuteAsync(http).ConfigureAwait(false);
        return (http.Response.StatusCode, body.ToArray());
    }

    private async Task WatchAsync(string id, Task running, CancellationTokenSource cts)
    {
        while (!running.IsCompleted)
        {
            using var tick = new CancellationTokenSource();
            var delay = Task.Delay(WatchInterval, clock, tick.Token);
            if (await Task.WhenAny(running, delay).ConfigureAwait(false) == running)
            {
                await tick.CancelAsync().ConfigureAwait(false);
                return;
            }

            if (Store.Get(id) is not { Status: "queued" or "in_progress" })
            {
                await cts.CancelAsync().ConfigureAwait(false);
                return;
            }
        }
    }

    public Task StartAsync(CancellationToken cancellationToken) => Task.CompletedTask;

    public async Task StopAsync(CancellationToken cancellationToken)
    {
        foreach (var id in _running.Keys)
        {
            await CancelAsync(id).ConfigureAwait(false);
        }

        try
        {
            await Task.WhenAll(_tasks.Keys).WaitAsync(cancellationToken).ConfigureAwait(false);
        }
        catch (OperationCanceledException) when (cancellationToken.IsCancellationRequested)
        {
            // The host stops waiting; what still runs ends with the process.
        }
    }

    public void Dispose()
    {
        foreach (var cts in _running.Values)
        {
            cts.Dispose();
        }
    }

    private static partial class Log
    {
        [LoggerMessage(EventId = 3501, Level = LogLevel.Error, Message = "Background response {ResponseId} could not be run to its end ({Error}); its stored status may stay as it was")]
        public static partial void RunFailed(ILogger logger, string responseId, string error);
    }
}
