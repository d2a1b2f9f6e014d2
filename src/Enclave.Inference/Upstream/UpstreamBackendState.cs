using Microsoft.Extensions.Logging;

namespace Enclave.Inference.Upstream;

/// <summary>
/// What the router tracks of one backend: requests in flight, health, and a shared cool-down from Retry-After. Each
/// change of health is logged (<see cref="UpstreamLog.HealthChanged"/>).
/// </summary>
internal sealed class UpstreamBackendState(OpenAiUpstreamBackend backend, TimeProvider time, ILogger logger) : IDisposable
{
    private int _outstanding;
    private int _health = (int)UpstreamHealth.Unknown;
    private long _coolUntil = long.MinValue;
    private int _coolStatus = 503;
    private long _lastHealthCheckTicks = long.MinValue;
    private int _checking;
    private ITimer? _timer;

    public OpenAiUpstreamBackend Backend { get; } = backend;

    public int Outstanding => Volatile.Read(ref _outstanding);

    public UpstreamHealth Health => (UpstreamHealth)Volatile.Read(ref _health);

    /// <summary>Timestamp (<see cref="TimeProvider.GetTimestamp"/>) before which the backend asked not to be called.</summary>
    public long CoolUntil => Interlocked.Read(ref _coolUntil);

    public void Enter() => Interlocked.Increment(ref _outstanding);

    public void Exit() => Interlocked.Decrement(ref _outstanding);

    public void MarkSucceeded()
    {
        // The common case (already up) only reads.
        if (Volatile.Read(ref _health) != (int)UpstreamHealth.Up)
        {
            SetHealth(UpstreamHealth.Up, "a request succeeded");
        }
    }

    /// <summary>A request failed: an up (or unchecked) backend becomes suspect; a down one stays down.</summary>
    public void MarkSuspect()
    {
        foreach (var from in (ReadOnlySpan<UpstreamHealth>)[UpstreamHealth.Up, UpstreamHealth.Unknown])
        {
            if (Interlocked.CompareExchange(ref _health, (int)UpstreamHealth.Suspect, (int)from) == (int)from)
            {
                UpstreamLog.HealthChanged(logger, Backend.Name, UpstreamHealth.Suspect, from, "a request failed");
                return;
            }
        }
    }

    /// <summary>The status (429 or 503) that asked for the cool-down.</summary>
    public int CoolStatus => Volatile.Read(ref _coolStatus);

    public void CoolDownUntil(long timestamp, int status)
    {
        Volatile.Write(ref _coolStatus, status);
        var current = Interlocked.Read(ref _coolUntil);
        while (timestamp > current)
        {
            var seen = Interlocked.CompareExchange(ref _coolUntil, timestamp, current);
            if (seen == current)
            {
                return;
            }

            current = seen;
        }
    }

    private void SetHealth(UpstreamHealth health, string cause)
    {
        var previous = (UpstreamHealth)Interlocked.Exchange(ref _health, (int)health);
        if (previous == health)
        {
            return;
        }

        if (health == UpstreamHealth.Down)
        {
            UpstreamLog.HealthCheckFailed(logger, Backend.Name);
        }

        UpstreamLog.HealthChanged(logger, Backend.Name, health, previous, cause);
    }

    public UpstreamBackendStatus Snapshot()
    {
        var ticks = Interlocked.Read(ref _lastHealthCheckTicks);
        return new UpstreamBackendStatus
        {
            Name = Backend.Name,
            Health = Health,
            Outstanding = Outstanding,
            LastHealthCheck = ticks == long.MinValue ? null : new DateTimeOffset(ticks, TimeSpan.Zero),
            Models = Backend.Options.Models,
            Labels = Backend.Options.Labels,
        };
    }

    public void StartHealthChecks(CancellationToken stopping)
    {
        _timer = time.CreateTimer(
            static state =>
            {
                var (self, token) = ((UpstreamBackendState, CancellationToken))state!;
                _ = self.CheckHealthOnceAsync(token, skipIfRunning: true);
            },
            (this, stopping),
            TimeSpan.Zero,
            Backend.Options.HealthCheckInterval);
    }

    /// <summary>Runs one health check and records the result; with <paramref name="skipIfRunning"/>, not while one is in flight.</summary>
    public async Task CheckHealthOnceAsync(CancellationToken stopping, bool skipIfRunning)
    {
        var owner = Interlocked.CompareExchange(ref _checking, 1, 0) == 0;
        if (!owner && skipIfRunning)
        {
            return;
        }

        try
        {
            var healthy = await Backend.CheckHealthAsync(stopping).ConfigureAwait(false);
            if (stopping.IsCancellationRequested)
            {
                return;
            }

            SetHealth(healthy ? UpstreamHealth.Up : UpstreamHealth.Down, "a health check");
            Interlocked.Exchange(ref _lastHealthCheckTicks, time.GetUtcNow().UtcTicks);
        }
        catch (OperationCanceledException) when (stopping.IsCancellationRequested)
        {
            // The router is being disposed.
        }
        catch (ObjectDisposedException) when (stopping.IsCancellationRequested)
        {
            // The router was disposed while the check was in flight.
        }
        finally
        {
            if (owner)
            {
                Volatile.Write(ref _checking, 0);
            }
        }
    }

    public void Dispose()
    {
        _timer?.Dispose();
        Backend.Dispose();
    }
}
