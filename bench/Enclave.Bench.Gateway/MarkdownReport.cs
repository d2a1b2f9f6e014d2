using System.Globalization;
using System.Runtime.InteropServices;
using System.Text;

namespace Enclave.Bench.Gateway;

/// <summary>Renders results as GitHub markdown tables.</summary>
internal sealed class MarkdownReport
{
    private readonly StringBuilder _text = new();

    public MarkdownReport(BenchSettings settings, string commandLine)
    {
        Line($"# Gateway benchmark, {DateTimeOffset.UtcNow:yyyy-MM-dd HH:mm} UTC");
        Line();
        Line($"`{commandLine}`");
        Line();
        Line($"{Environment.ProcessorCount} CPUs, {RuntimeInformation.OSDescription}, {RuntimeInformation.FrameworkDescription}; "
            + $"gateway data directory under `{settings.Root}`. Request: `POST {ChatRequest.Path}`, {Encoding.UTF8.GetByteCount(ChatRequest.Body)} bytes, "
            + $"non-streaming; the stub answers {ChatRequest.Completion.Length} bytes. Processes run at nice {ProcessCpu.Nice(Environment.ProcessId)}. "
            + $"Gateway ledger: {(settings.GatewayCheckpointInterval > TimeSpan.Zero ? $"a signed checkpoint at most every {settings.GatewayCheckpointInterval.TotalSeconds:0.###} s (`enclave serve` default: 1 s)" : "a signed checkpoint per commit")}"
            + (settings.GatewayEnvironment.Count == 0 ? "." : $"; gateway environment {string.Join(' ', settings.GatewayEnvironment.Select(kv => $"`{kv.Key}={kv.Value}`"))}."));
        Line();
    }

    public override string ToString() => _text.ToString();

    public void Throughput(IReadOnlyList<ThroughputResult> results, string wrkCommand)
    {
        Line("## Maximum throughput (wrk, closed loop)");
        Line();
        Line($"`{wrkCommand}` after an unmeasured warm-up run of the same shape.");
        Line();
        Line("| target | requests/s | p50 ms | p99 ms | p99.9 ms | errors | wrk CPU | stub CPU | forwarder CPU | this gateway's CPU | other processes' CPU | target CPU/request | alloc/request | ledger entries/request | GC 0/1/2 | GC pause |");
        Line("|---|---:|---:|---:|---:|---:|---:|---:|---:|---:|---:|---:|---:|---:|---|---:|");
        foreach (var r in results)
        {
            var role = Testbed.Role(r.Target);
            var rps = r.Wrk.RequestsPerSecond;
            Line($"| {Name(r.Target)} | {rps:N0} | {r.Wrk.P50Ms:0.00} | {r.Wrk.P99Ms:0.00} | {r.Wrk.P999Ms:0.00} | {r.Wrk.Errors} "
                + $"| {r.Cpu.Of("load"):P0} | {r.Cpu.Of("stub"):P0} | {Share(r.Cpu, "forwarder")} | {(Testbed.IsGateway(r.Target) ? Share(r.Cpu, role) : "–")} | {r.Cpu.Others:P0} "
                + $"| {r.Cpu.MicrosecondsPerRequest(role, rps):N1} µs | {r.Stats.AllocatedPerRequest:N0} B | {Entries(r.Stats)} | {r.Stats.Gen0}/{r.Stats.Gen1}/{r.Stats.Gen2} "
                + $"| {r.Stats.GcPauseMs / (r.Wrk.Seconds * 1000):P1} |");
        }

        Line();
        Line("CPU columns are shares of all cores over the middle of the run (from /proc/PID/stat; \"other processes\" is the rest of /proc/stat: "
            + "neighbours on this machine and kernel threads). Target CPU/request is the target process's CPU time divided by the requests it served; "
            + "alloc/request and GC are from the target process's own counters around the run. wrk's latency is closed-loop (each connection waits "
            + "for its answer), so it describes saturation, not what a client at a given rate sees.");
        Line();
        foreach (var round in results.GroupBy(r => r.Round))
        {
            if (round.FirstOrDefault(r => r.Target == Target.Direct) is not { } direct)
            {
                continue;
            }

            foreach (var other in round.Where(r => r.Target != Target.Direct))
            {
                var cpu = other.Cpu.MicrosecondsPerRequest(Testbed.Role(other.Target), other.Wrk.RequestsPerSecond);
                Line($"- round {round.Key + 1}: {Name(other.Target)} reached {other.Wrk.RequestsPerSecond / direct.Wrk.RequestsPerSecond:P0} of the stub's direct throughput "
                    + $"({other.Wrk.RequestsPerSecond:N0} vs {direct.Wrk.RequestsPerSecond:N0} requests/s). At {cpu:N0} µs of CPU per request, "
                    + $"{Environment.ProcessorCount} cores given to it alone would serve at most {Environment.ProcessorCount * 1e6 / cpu:N0} requests/s (no load tool, no stub, no neighbours).");
            }
        }

        Line();
    }

    public void Latency(IReadOnlyList<LatencyResult> results)
    {
        Line("## Latency at a fixed rate (open loop)");
        Line();
        Line("| target | offered/s | requests | failed | p50 ms | p90 ms | p99 ms | p99.9 ms | max ms | p99 from send ms | client send lag p99 ms | target CPU | client CPU | other processes' CPU | target CPU/request | alloc/request | ledger entries/request |");
        Line("|---|---:|---:|---:|---:|---:|---:|---:|---:|---:|---:|---:|---:|---:|---:|---:|---:|");
        foreach (var r in results)
        {
            var role = Testbed.Role(r.Target);
            var l = r.Load.FromDue;
            Line($"| {Name(r.Target)} | {r.Load.Rate:N0} | {r.Load.Sent:N0} | {r.Load.Failed} | {l.P50Ms:0.000} | {l.P90Ms:0.000} | {l.P99Ms:0.000} | {l.P999Ms:0.000} | {l.MaxMs:0.0} "
                + $"| {r.Load.FromSend.P99Ms:0.000} | {r.Load.SendLag.P99Ms:0.000} | {r.Cpu.Of(role):P0} | {r.Cpu.Of("load"):P0} | {r.Cpu.Others:P0} "
                + $"| {r.Cpu.MicrosecondsPerRequest(role, r.Load.Rate):N1} µs | {r.Stats.AllocatedPerRequest:N0} B | {Entries(r.Stats)} |");
        }

        Line();
        Line("Latency runs from the time a request was due on the schedule to the last byte of its answer, so client stalls count "
            + "(\"p99 from send\" leaves the client's own lag out). Percentiles are exact (all samples sorted).");
        Line();
        Line("| round | offered/s | via | added p50 ms | added p90 ms | added p99 ms | added p99.9 ms |");
        Line("|---:|---:|---|---:|---:|---:|---:|");
        foreach (var group in results.GroupBy(r => (r.Round, r.Load.Rate)))
        {
            if (group.FirstOrDefault(r => r.Target == Target.Direct) is not { } direct)
            {
                continue;
            }

            foreach (var other in group.Where(r => r.Target != Target.Direct))
            {
                var a = other.Load.FromDue;
                var d = direct.Load.FromDue;
                Line($"| {group.Key.Round + 1} | {group.Key.Rate:N0} | {Name(other.Target)} | {a.P50Ms - d.P50Ms:0.000} | {a.P90Ms - d.P90Ms:0.000} | **{a.P99Ms - d.P99Ms:0.000}** | {a.P999Ms - d.P999Ms:0.000} |");
            }
        }

        Line();
        Line("Added latency is the target's percentile minus the stub's (direct) percentile at the same rate in the same round.");
        Line();
    }

    public void Profile(IReadOnlyList<ProfileRow> rows)
    {
        Line("## Cost of each part of a gateway request, measured alone");
        Line();
        Line("| component | CPU µs | allocated | how |");
        Line("|---|---:|---:|---|");
        foreach (var row in rows)
        {
            var allocated = double.IsNaN(row.AllocatedBytes) ? "–" : $"{row.AllocatedBytes:N0} B";
            var micros = double.IsNaN(row.Microseconds) ? "–" : row.Microseconds.ToString("0.00", CultureInfo.InvariantCulture);
            Line($"| {row.Component} | {micros} | {allocated} | {row.How} |");
        }

        Line();
        Line("One thread, median of seven rounds of about 100 ms after one second of warm-up, in that thread's CPU time (CLOCK_THREAD_CPUTIME_ID, so neighbours' load does not inflate it); allocation is per operation on that thread. "
            + "The durable-append rows are process CPU per append with that many concurrent writers.");
        Line();
    }

    private static string Name(Target target) => target switch
    {
        Target.Direct => "stub, direct",
        Target.Forwarder => "bare forwarder → stub",
        Target.GatewayNoDetections => "enclave gateway, detections off → stub",
        _ => "**enclave gateway** → stub",
    };

    private static string Share(CpuShares cpu, string role) => cpu.Share.ContainsKey(role) ? cpu.Of(role).ToString("P0", CultureInfo.InvariantCulture) : "–";

    private static string Entries(StatsDelta stats) => double.IsNaN(stats.LedgerEntriesPerRequest) ? "–" : stats.LedgerEntriesPerRequest.ToString("0.00", CultureInfo.InvariantCulture);

    private void Line(string text = "") => _text.Append(text).Append('\n');
}
