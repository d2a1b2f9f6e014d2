using System.Diagnostics;
using Enclave.Ledger;

namespace Enclave.Bench.Ledger;

/// <summary>
/// Durable append throughput: N writers in a closed loop (each awaits its append, then sends the next) against a
/// fresh ledger. Appends completed during the measured window count; those completed in the warm-up do not.
/// </summary>
internal static class AppendBenchmark
{
    public static async Task<AppendResult> RunAsync(int writers, TimeSpan checkpointInterval, BenchSettings settings, TextWriter log)
    {
        using var scratch = new ScratchDirectory(settings.Root, $"append-{writers}", settings.Keep);
        SqliteLedger.Initialize(scratch.Path, BenchSettings.Origin, settings.PostQuantum, TimeProvider.System);
        var options = new LedgerOptions { DataDirectory = scratch.Path, CheckpointInterval = checkpointInterval, MaxBatchSize = 4096 };
        var events = new BenchEvents(1024, settings.Seed, TimeProvider.System);
        long treeSize;
        WriterLog[] logs;
        RuntimeDelta runtime;
        long t0, t1;
        await using (var ledger = SqliteLedger.Open(options, TimeProvider.System))
        {
            var start = Stopwatch.GetTimestamp();
            t0 = start + (long)(settings.Warmup.TotalSeconds * Stopwatch.Frequency);
            t1 = t0 + (long)(settings.Duration.TotalSeconds * Stopwatch.Frequency);
            logs = new WriterLog[writers];
            var tasks = new Task[writers];
            for (var i = 0; i < writers; i++)
            {
                var writerLog = logs[i] = new WriterLog(Math.Max(1024, 400_000 / writers));
                tasks[i] = Task.Run(() => WriteLoopAsync(ledger, events, writerLog, t0, t1));
            }

            log.WriteLine($"append: {writers} writers, checkpoint {Describe(checkpointInterval)}, {settings.Warmup.TotalSeconds:0.#} s warm-up + {settings.Duration.TotalSeconds:0.#} s in {scratch.Path}");
            await DelayUntil(t0).ConfigureAwait(false);
            var before = RuntimeSnapshot.Take();
            await DelayUntil(t1).ConfigureAwait(false);
            var after = RuntimeSnapshot.Take();
            await Task.WhenAll(tasks).ConfigureAwait(false);
            runtime = RuntimeDelta.Between(before, after);
            treeSize = ledger.Size;
        }

        var latencies = WriterLog.MergeLatencies(logs);
        var seconds = (t1 - t0) / (double)Stopwatch.Frequency;
        var result = new AppendResult
        {
            Writers = writers,
            CheckpointInterval = checkpointInterval,
            Seconds = seconds,
            Appends = latencies.Length,
            AppendsPerSecond = latencies.Length / seconds,
            Latency = LatencyStats.FromTicks(latencies),
            CommitsObserved = WriterLog.DistinctSizes(logs),
            Runtime = runtime,
            TreeSize = treeSize,
        };
        log.WriteLine($"append: {writers} writers: {result.AppendsPerSecond:N0} appends/s, p99 {result.Latency.P99Ms:0.00} ms, mean batch {result.MeanBatch:0.#}");
        return result;
    }

    public static string Describe(TimeSpan checkpointInterval) =>
        checkpointInterval <= TimeSpan.Zero ? "every batch" : $"every {checkpointInterval.TotalSeconds:0.###} s";

    private static async Task WriteLoopAsync(SqliteLedger ledger, BenchEvents events, WriterLog log, long t0, long t1)
    {
        while (true)
        {
            var evt = events.Next();
            var before = Stopwatch.GetTimestamp();
            await ledger.AppendAsync(evt).ConfigureAwait(false);
            var after = Stopwatch.GetTimestamp();
            if (after > t1)
            {
                return;
            }

            if (after >= t0)
            {
                log.Add(after - before, ledger.Size);
            }
        }
    }

    internal static Task DelayUntil(long timestamp)
    {
        var remaining = Stopwatch.GetElapsedTime(Stopwatch.GetTimestamp(), timestamp);
        return remaining > TimeSpan.Zero ? Task.Delay(remaining) : Task.CompletedTask;
    }
}
