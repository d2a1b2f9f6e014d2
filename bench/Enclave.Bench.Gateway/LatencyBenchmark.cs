namespace Enclave.Bench.Gateway;

/// <summary>
/// Latency at a fixed offered rate (open loop, from this process, see <see cref="FixedRateClient"/>): the warm-up
/// and the measured window are one unbroken schedule. CPU is sampled over the measured window.
/// </summary>
internal static class LatencyBenchmark
{
    public static async Task<LatencyResult> RunAsync(Testbed bed, Target target, int rate, int round, BenchSettings settings, TextWriter log)
    {
        var child = bed[target];
        log.WriteLine($"latency {target} at {rate:N0}/s: {settings.RateWarmup.TotalSeconds:0} s warm-up + {settings.RateDuration.TotalSeconds:0} s");
        using var client = new FixedRateClient(new Uri(child.Ready.Url), child.Ready.ApiKey);
        CpuSample? start = null, end = null;
        var before = await child.StatsAsync().ConfigureAwait(false);
        var load = await client.RunAsync(rate, settings.RateWarmup, settings.RateDuration, measuring =>
        {
            if (measuring)
            {
                start = bed.Sample(Environment.ProcessId);
            }
            else
            {
                end = bed.Sample(Environment.ProcessId);
            }
        }).ConfigureAwait(false);
        var after = await child.StatsAsync().ConfigureAwait(false);
        var cpu = CpuSample.Between(start!, end!);
        var role = Testbed.Role(target);
        log.WriteLine($"  p50 {load.FromDue.P50Ms:0.000} ms, p99 {load.FromDue.P99Ms:0.000} ms, p99.9 {load.FromDue.P999Ms:0.000} ms, {load.Failed} failed; "
            + $"send lag p99 {load.SendLag.P99Ms:0.000} ms; {role} CPU {cpu.Of(role):P0}, others {cpu.Others:P0}");
        // Allocation and ledger entries are per request of the whole schedule (warm-up included): the counters are read around all of it.
        var requests = (long)((settings.RateWarmup.TotalSeconds + settings.RateDuration.TotalSeconds) * rate);
        return new LatencyResult
        {
            Target = target,
            Round = round,
            Load = load,
            Cpu = cpu,
            Stats = StatsDelta.Between(before, after, requests),
        };
    }
}
