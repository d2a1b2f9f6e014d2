using System.Runtime;
using System.Runtime.InteropServices;
using System.Text;

namespace Enclave.Bench.Ledger;

/// <summary>Renders results as GitHub markdown tables.</summary>
internal sealed class MarkdownReport
{
    private readonly StringBuilder _text = new();

    public MarkdownReport(BenchSettings settings, string commandLine)
    {
        Line($"# Ledger benchmark, {DateTimeOffset.UtcNow:yyyy-MM-dd HH:mm} UTC");
        Line();
        Line($"`{commandLine}`");
        Line();
        Line($"{Environment.ProcessorCount} CPUs, {RuntimeInformation.OSDescription}, {RuntimeInformation.FrameworkDescription}, "
            + $"{(GCSettings.IsServerGC ? "server" : "workstation")} GC; scratch ledgers under `{settings.Root}`; "
            + $"checkpoints signed with {(settings.PostQuantum ? "Ed25519 + ML-DSA-44" : "Ed25519")}.");
        Line();
    }

    public override string ToString() => _text.ToString();

    public void Append(IReadOnlyList<AppendResult> results)
    {
        Line("## Append throughput (durable, closed loop)");
        Line();
        Line("| writers | checkpoint | appends/s | p50 ms | p99 ms | p99.9 ms | max ms | commits/s | mean batch | process CPU | sequencer on CPU | sequencer runnable, waiting | other processes' CPU | GC 0/1/2 | GC pause | alloc/append | written/append |");
        Line("|---:|---|---:|---:|---:|---:|---:|---:|---:|---:|---:|---:|---:|---|---:|---:|---:|");
        foreach (var r in results)
        {
            var rt = r.Runtime;
            Line($"| {r.Writers} | {AppendBenchmark.Describe(r.CheckpointInterval)} | {r.AppendsPerSecond:N0} | {r.Latency.P50Ms:0.00} | {r.Latency.P99Ms:0.00} | {r.Latency.P999Ms:0.00} | {r.Latency.MaxMs:0.0} "
                + $"| {r.CommitsObserved / r.Seconds:N0} | {r.MeanBatch:0.0} | {rt.ProcessCpuShare:P0} | {rt.SequencerOnCpu:P0} | {rt.SequencerRunQueue:P0} "
                + $"| {rt.OtherProcessesCpuShare:P0} | {rt.Gen0}/{rt.Gen1}/{rt.Gen2} | {rt.GcPauseShare:P1} | {rt.AllocatedBytes / (double)Math.Max(1, r.Appends):N0} B | {rt.WriteSyscallBytes / (double)Math.Max(1, r.Appends):N0} B |");
        }

        Line();
        Line("appends/s counts appends acknowledged (durable) inside the measured window; latency is from the call to AppendAsync to its completion. "
            + "commits/s and mean batch count the distinct ledger sizes writers saw after their appends returned (a lower bound on commits, so mean batch is an upper bound). "
            + "Process CPU and other processes' CPU (neighbours on this machine, from /proc/stat) are shares of all cores; the sequencer columns are shares of one core, from /proc/self/task/*/schedstat. "
            + "written/append is bytes passed to write(2) by the process (SQLite's WAL frames and checkpoints) per acknowledged append.");
        Line();
    }

    public void Proofs(ProofResult r)
    {
        Line($"## Proofs at {r.TreeSize:N0} entries");
        Line();
        if (r.Fill is { } f)
        {
            Line("| fill | writers | checkpoint | seconds | appends/s | p50 ms | p99 ms | p99.9 ms | max ms | mean batch | process CPU | sequencer on CPU | other processes' CPU |");
            Line("|---|---:|---|---:|---:|---:|---:|---:|---:|---:|---:|---:|---:|");
            Line($"| {r.TreeSize:N0} entries | {f.Writers} | {AppendBenchmark.Describe(f.CheckpointInterval)} | {f.Seconds:0.0} | {f.AppendsPerSecond:N0} | {f.Latency.P50Ms:0.00} | {f.Latency.P99Ms:0.00} "
                + $"| {f.Latency.P999Ms:0.00} | {f.Latency.MaxMs:0.0} | {f.Latency.Count / (double)Math.Max(1, f.CommitsObserved):0.0} | {f.Runtime.ProcessCpuShare:P0} | {f.Runtime.SequencerOnCpu:P0} | {f.Runtime.OtherProcessesCpuShare:P0} |");
            Line();
        }

        Line($"Database {r.DatabaseMegabytes:N0} MiB. Root recomputed from tiles in {r.RootFromTilesMs:0.00} ms and equal to the signed checkpoint's root.");
        Line();
        Line("| operation | count | mean µs | p50 µs | p99 µs | p99.9 µs | max µs | CPU µs/proof | hashes per proof | verified |");
        Line("|---|---:|---:|---:|---:|---:|---:|---:|---:|---:|");
        ProofRow("LedgerReader.ProveInclusion (latest size), first pass", r.Inclusion, r.InclusionCpuMicroseconds, r.InclusionMeanHashes, $"{r.InclusionVerified:N0}/{r.Inclusion.Count:N0}");
        ProofRow("same proofs, second pass (interior rows held)", r.InclusionWarm, r.InclusionWarmCpuMicroseconds, r.InclusionMeanHashes, "equal");
        ProofRow("same proofs, tiles without the interior cache", r.InclusionWithoutInteriorCache, r.InclusionWithoutInteriorCacheCpuMicroseconds, r.InclusionMeanHashes, "equal");
        ProofRow("MerkleVerifier.VerifyInclusion", r.InclusionVerify, double.NaN, r.InclusionMeanHashes, "");
        ProofRow("LedgerReader.ProveConsistency (random old size)", r.Consistency, double.NaN, r.ConsistencyMeanHashes, $"{r.ConsistencyVerified:N0}/{r.Consistency.Count:N0}");
        Line();
        Line($"Tiles read from storage per inclusion proof: {r.TileReadsWithoutInteriorCache:0.00} without the interior cache, {r.TileReadsWarm:0.00} with a warm one. "
            + "CPU µs/proof is the process's CPU time (all threads) over the pass divided by its proofs: unlike the wall-clock columns it does not grow while the proof waits for a core.");
        Line();
    }

    public void Profile(IReadOnlyList<ProfileRow> rows)
    {
        Line("## Component costs");
        Line();
        Line("| component | cost | how |");
        Line("|---|---|---|");
        foreach (var row in rows)
        {
            Line($"| {row.Component} | {row.Cost} | {row.Detail} |");
        }

        Line();
    }

    private void ProofRow(string name, LatencyStats s, double cpuMicroseconds, double hashes, string verified) =>
        Line($"| {name} | {s.Count:N0} | {s.MeanMs * 1000:0.0} | {s.P50Ms * 1000:0.0} | {s.P99Ms * 1000:0.0} | {s.P999Ms * 1000:0.0} | {s.MaxMs * 1000:0.0} | {(double.IsNaN(cpuMicroseconds) ? "–" : cpuMicroseconds.ToString("0.0", System.Globalization.CultureInfo.InvariantCulture))} | {hashes:0.0} | {verified} |");

    private void Line(string text) => _text.Append(text).Append('\n');

    private void Line() => _text.Append('\n');
}
