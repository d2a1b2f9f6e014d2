using System.Diagnostics;

namespace Enclave.Bench.Gateway;

/// <summary>
/// Maximum throughput: wrk with a fixed number of keep-alive connections (closed loop) against each target, after an
/// unmeasured warm-up run. CPU is sampled from one second into the run to one second before its end.
/// </summary>
internal static class ThroughputBenchmark
{
    public static async Task<ThroughputResult> RunAsync(Testbed bed, Target target, int round, BenchSettings settings, TextWriter log)
    {
        var wrk = new WrkRunner(settings);
        var child = bed[target];
        log.WriteLine($"throughput {target}: warm-up {settings.Warmup.TotalSeconds:0} s");
        var warm = await wrk.RunAsync(child.Ready.Url, child.Ready.ApiKey, settings.Warmup).ConfigureAwait(false);
        log.WriteLine($"  warm-up: {warm.RequestsPerSecond:N0} requests/s, {warm.Errors} errors");

        var before = await child.StatsAsync().ConfigureAwait(false);
        CpuSample? start = null, end = null;
        var result = await wrk.RunAsync(child.Ready.Url, child.Ready.ApiKey, settings.Duration, async pid =>
        {
            var margin = TimeSpan.FromSeconds(Math.Min(1, settings.Duration.TotalSeconds / 10));
            await Task.Delay(margin).ConfigureAwait(false);
            start = bed.Sample(pid);
            await Task.Delay(settings.Duration - 2 * margin).ConfigureAwait(false);
            end = bed.Sample(pid);
        }).ConfigureAwait(false);
        var after = await child.StatsAsync().ConfigureAwait(false);
        Debug.Assert(start is not null && end is not null);
        var cpu = CpuSample.Between(start!, end!);
        log.WriteLine($"  measured: {result.RequestsPerSecond:N0} requests/s, p50 {result.P50Ms:0.00} ms, p99 {result.P99Ms:0.00} ms, {result.Errors} errors; "
            + $"{Testbed.Role(target)} CPU {cpu.Of(Testbed.Role(target)):P0}, wrk {cpu.Of("load"):P0}, others {cpu.Others:P0}");
        return new ThroughputResult
        {
            Target = target,
            Round = round,
            Wrk = result,
            Cpu = cpu,
            Stats = StatsDelta.Between(before, after, result.Requests),
        };
    }
}
