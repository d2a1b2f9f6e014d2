using System.Globalization;
using System.Runtime.InteropServices;
using System.Text;

namespace Enclave.Bench.Gateway.Soak;

/// <summary>The soak's markdown report: setup, the verdict, each kind over the run, then minute by minute.</summary>
internal static class SoakReport
{
    private static readonly SoakKind[] Kinds = Enum.GetValues<SoakKind>();

    public static IReadOnlyList<SoakCriterion> Criteria(SoakRun run)
    {
        ArgumentNullException.ThrowIfNull(run);
        var s = run.Settings;
        var whole = Kinds.Select(k => run.Recorder.Summarize(k, 0, s.Minutes)).ToList();
        var first = SoakVerdict.First(s.Minutes, s.WarmupMinutes);
        var last = SoakVerdict.Last(s.Minutes, s.WarmupMinutes);
        var windows = Kinds.Select(k => (run.Recorder.Summarize(k, first.From, first.To), run.Recorder.Summarize(k, last.From, last.To))).ToList();
        var afterWarmup = run.Samples[s.WarmupMinutes + 1];
        var end = run.Samples[s.Minutes];
        return
        [
            SoakVerdict.Errors(whole),
            SoakVerdict.RssGrowth(afterWarmup.RssBytes, end.RssBytes, afterWarmup.Minute, end.Minute),
            SoakVerdict.P99Stable(windows, first, last),
            SoakVerdict.Ledger(run.Ledger, run.EntriesUnderLoad),
        ];
    }

    public static string Render(SoakRun run, IReadOnlyList<SoakCriterion> criteria)
    {
        ArgumentNullException.ThrowIfNull(run);
        ArgumentNullException.ThrowIfNull(criteria);
        var s = run.Settings;
        var text = new StringBuilder();
        void Line(string line = "") => text.Append(line).Append('\n');

        Line($"# Soak benchmark, {DateTimeOffset.UtcNow:yyyy-MM-dd HH:mm} UTC");
        Line();
        Line($"`{run.CommandLine}`");
        Line();
        Line($"{Environment.ProcessorCount} CPUs ({CpuModel()}), {RuntimeInformation.OSDescription}, {RuntimeInformation.FrameworkDescription}; gateway data directory under `{s.Bench.Root}`; "
            + $"load average at start {run.LoadAverageAtStart}, at end {run.LoadAverageAtEnd}. Gateway ledger: a signed checkpoint at most every {s.Bench.GatewayCheckpointInterval.TotalSeconds:0.###} s"
            + (s.Bench.GatewayEnvironment.Count == 0 ? "." : $"; gateway environment {string.Join(' ', s.Bench.GatewayEnvironment.Select(kv => $"`{kv.Key}={kv.Value}`"))}."));
        Line();
        Line("## Setup");
        Line();
        var sat = run.Saturation;
        Line($"- **Mix** (in every ten requests): five chats (`POST {ChatRequest.Path}`), two streamed chats (`stream: true`, read to `data: [DONE]`), two embeddings "
            + $"(`POST {ChatRequest.EmbeddingsPath}`) and one admin read, in turn {string.Join(", ", SoakClient.AdminReads.Select(p => $"`GET {p}`"))} (the last with a console session signed in with the admin key: the admin API has no usage read).");
        Line(sat is null
            ? $"- **Saturation**: not measured (the rate was given with --rate)."
            : $"- **Saturation**: the mix closed-loop with {sat.Concurrency} requests in flight over {sat.Concurrency} keep-alive connections, {s.SaturationWarmupSeconds:0} s unmeasured then {sat.Seconds:0} s: "
                + $"**{sat.RequestsPerSecond:N0} requests/s** (p50 {sat.Latency.P50Ms:0.00} ms, p99 {sat.Latency.P99Ms:0.00} ms, {sat.Errors} errors); in the measured window the gateway used "
                + $"**{Us(sat.GatewayUsPerRequest)} µs of CPU per request** ({Pct(sat.GatewayShare)} of all cores), the bed's client and stub {Pct(sat.BedShare)}, the machine was idle {Pct(sat.Idle)} with {Pct(sat.Steal)} steal.");
        Line($"- **Fixed rate**: {(s.Rate > 0 ? $"{run.Rate:N0} requests/s (given with --rate)" : $"{s.Fraction:0.##} × saturation = **{run.Rate:N0} requests/s**")} of the mix, open loop (each request due at start + i / rate "
            + $"and sent then whatever came back; latency from the time it was due) over the same pool of at most {s.Concurrency} connections as the saturation run (a request that finds them all busy waits in the client for one), for " + $"{s.Minutes} minutes, the first {s.WarmupMinutes} counted as warm-up.");
        Line($"- **Over quota**: {s.QuotaRate:0.##} chats/s from the user `{SoakPrincipals.Limited}`, whose quota is {s.QuotaPerMinute} requests a minute (`Quotas:Principals`): 429s on purpose, counted apart.");
        Line($"- **Imports**: every {s.ImportEvery.TotalSeconds:0} s a signed dataset bundle ({run.BundleBytes:N0} bytes; all made before the load, in {run.BundlePreparation.TotalSeconds:0.0} s) uploaded by `{SoakPrincipals.Importer}` "
            + $"through `POST /admin/v1/airlock/imports`, approved by `{SoakPrincipals.FirstApprover}` and `{SoakPrincipals.SecondApprover}` (`Airlock:RequiredApprovals:dataset = 2`) and activated: three requests, each counted under Import. {run.ImportsDone} imports, one of them before the load.");
        Line();
        Line("## Verdict");
        Line();
        Line("| criterion | result | measured |");
        Line("|---|---|---|");
        foreach (var c in criteria)
        {
            Line($"| {c.Name} | {(c.Passed ? "**pass**" : "**FAIL**")} | {c.Detail} |");
        }

        Line();
        Line($"**{(criteria.All(c => c.Passed) ? "PASS" : "FAIL")}**");
        Line();

        Line($"## Each kind after warm-up (minutes {s.WarmupMinutes + 1}-{s.Minutes})");
        Line();
        var first = SoakVerdict.First(s.Minutes, s.WarmupMinutes);
        var last = SoakVerdict.Last(s.Minutes, s.WarmupMinutes);
        Line($"| kind | requests | ok | 429 | errors | p50 ms | p90 ms | p99 ms | p99.9 ms | max ms | p99 minutes {first.From + 1}-{first.To} | p99 minutes {last.From + 1}-{last.To} | change |");
        Line("|---|---:|---:|---:|---:|---:|---:|---:|---:|---:|---:|---:|---:|");
        foreach (var kind in Kinds)
        {
            var k = run.Recorder.Summarize(kind, s.WarmupMinutes, s.Minutes);
            var a = run.Recorder.Summarize(kind, first.From, first.To).Latency;
            var b = run.Recorder.Summarize(kind, last.From, last.To).Latency;
            var l = k.Latency;
            Line($"| {kind} | {k.Requests:N0} | {k.Ok:N0} | {k.Refused:N0} | {k.Errors:N0} | {Ms(l.P50Ms)} | {Ms(l.P90Ms)} | {Ms(l.P99Ms)} | {Ms(l.P999Ms)} | {Ms(l.MaxMs)} | {Ms(a.P99Ms)} | {Ms(b.P99Ms)} "
                + $"| {SoakVerdict.P99Change(a.P99Ms, b.P99Ms).ToString("+0%;-0%", CultureInfo.InvariantCulture)} |");
        }

        Line();
        Line("Latency runs from the time a request was due to the last byte of its answer (for a stream, `data: [DONE]`); percentiles are exact (all samples sorted). "
            + "429 counts only the quota-limited user's deliberate refusals; any other status, a body that is not what was asked for, a broken connection or no answer in 30 s is an error.");
        Line();

        Line("## Requests by minute");
        Line();
        Line("Each cell: answered / errors / p50 / p99 ms (over quota: 200s / 429s / errors / p99 ms).");
        Line();
        Line("| minute | " + string.Join(" | ", Kinds) + " |");
        Line("|---:|" + string.Concat(Kinds.Select(_ => "---|")));
        for (var m = 0; m < s.Minutes; m++)
        {
            var cells = Kinds.Select(kind =>
            {
                var k = run.Recorder.Summarize(kind, m, m + 1);
                return kind == SoakKind.OverQuota
                    ? $"{k.Ok:N0} / {k.Refused:N0} / {k.Errors:N0} / {Ms(k.Latency.P99Ms)}"
                    : $"{k.Ok:N0} / {k.Errors:N0} / {Ms(k.Latency.P50Ms)} / {Ms(k.Latency.P99Ms)}";
            });
            Line($"| {m + 1}{(m < s.WarmupMinutes ? " (warm-up)" : string.Empty)} | {string.Join(" | ", cells)} |");
        }

        Line();
        Line("## The gateway process by minute");
        Line();
        Line("| at the end of minute | RSS MiB | RSS anon / file / shmem MiB | GC heap MiB | gen2 collections | threads | open fds (sockets) | ledger entries | enclave.db + WAL MiB | WAL MiB | gateway CPU (share of all cores) | gateway CPU µs per request | gateway CPU µs per entry | bed CPU (client + stub) | machine idle | machine steal |");
        Line("|---:|---:|---:|---:|---:|---:|---:|---:|---:|---:|---:|---:|---:|---:|---:|---:|");
        for (var i = 0; i < run.Samples.Count; i++)
        {
            var x = run.Samples[i];
            var c = i == 0 ? null : SoakCpu.Between(run.Samples[i - 1], x);
            var cpu = c is null
                ? "– | – | – | – | – | –"
                : $"{Pct(c.GatewayShare)} | {Us(c.GatewayUsPerRequest)} | {Us(c.GatewayUsPerEntry)} | {Pct(c.BedShare)} | {Pct(c.Idle)} | {Pct(c.Steal)}";
            Line($"| {(i == 0 ? "start" : x.Minute.ToString(CultureInfo.InvariantCulture))} | {Mib(x.RssBytes)} | {Mib(x.RssAnonBytes)} / {Mib(x.RssFileBytes)} / {Mib(x.RssShmemBytes)} | {Mib(x.Stats.HeapBytes)} | {x.Stats.Gen2} | {x.Threads} | {x.OpenFiles} ({x.Sockets}) | {x.Stats.LedgerSize:N0} | {Mib(x.DatabaseBytes)} | {Mib(x.WalBytes)} | {cpu} |");
        }

        Line();
        Line("RSS and threads from `/proc/PID/status`, open file descriptors from `/proc/PID/fd`, CPU from `/proc/PID/stat`; the GC heap (size after the last collection), "
            + "gen2 count and ledger size from the gateway process's own counters; the database size from the data directory. "
            + "RSS by kind from `/proc/PID/status` (`RssAnon`: the GC heap and native allocations such as SQLite's page caches; `RssFile`: mapped assemblies, "
            + "libraries and the WAL index; `RssShmem`: the runtime's double-mapped JIT code); CPU per entry: the gateway's CPU time in the minute over the "
            + "ledger entries appended in it (two per API request); CPU per request: the same over the requests the gateway finished in the minute (all kinds, imports' "
            + "three requests each included; requests not sent are not counted). Bed CPU: this process (the client, its schedulers and the sampler) and the stub, "
            + "as a share of all cores. Machine idle (idle + iowait) and steal (time the hypervisor ran someone else on this VM's CPUs): shares of all the "
            + "machine's CPU time in the minute, from `/proc/stat`.");
        Line();
        if (run.Recorder.Errors.Count > 0)
        {
            Line("## Errors");
            Line();
            foreach (var (message, count) in run.Recorder.Errors.OrderByDescending(e => e.Value))
            {
                Line($"- {count:N0} × {message.Replace("|", "\\|", StringComparison.Ordinal)}");
            }

            Line();
        }

        return text.ToString();
    }

    private static string Us(double us) => double.IsNaN(us) ? "–" : us.ToString("0", CultureInfo.InvariantCulture);

    private static string Pct(double share) => double.IsNaN(share) ? "–" : share.ToString("P1", CultureInfo.InvariantCulture);

    private static string Ms(double ms) => double.IsNaN(ms) ? "–" : ms.ToString("0.00", CultureInfo.InvariantCulture);

    private static string Mib(long bytes) => (bytes / (1024.0 * 1024)).ToString("0.0", CultureInfo.InvariantCulture);

    private static string CpuModel() =>
        File.ReadLines("/proc/cpuinfo").FirstOrDefault(l => l.StartsWith("model name", StringComparison.Ordinal))?.Split(':', 2)[1].Trim() ?? "unknown CPU";
}
