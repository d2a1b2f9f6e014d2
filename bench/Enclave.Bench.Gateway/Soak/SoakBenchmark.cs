using System.Diagnostics;
using System.Globalization;
using Enclave.Ledger;
using Enclave.Signing.Keys;

namespace Enclave.Bench.Gateway.Soak;

/// <summary>
/// The soak: the gateway of the gateway benchmark (its own process, built by the composition root, in front of the stub)
/// under mixed traffic at a fixed fraction of its saturation for many minutes. First a closed-loop run of the same mix
/// measures saturation; then one scheduler thread sends the mix open-loop at the fixed rate (request <c>i</c> due at
/// <c>start + i / rate</c>, whatever came back), a second sends the quota-limited user's requests, and a task imports a
/// signed bundle through the airlock every few seconds. At the end of every minute the gateway process is sampled; after
/// the load the gateway is stopped and its ledger verified from its data directory.
/// </summary>
internal static class SoakBenchmark
{
    /// <summary>The mix, one slot per request: in every ten, five chats, two streamed chats, two embeddings, one admin read.</summary>
    public static readonly SoakKind[] Mix =
    [
        SoakKind.Chat, SoakKind.Stream, SoakKind.Chat, SoakKind.Embeddings, SoakKind.Chat,
        SoakKind.Admin, SoakKind.Chat, SoakKind.Stream, SoakKind.Embeddings, SoakKind.Chat,
    ];

    private static readonly TimeSpan Minute = TimeSpan.FromMinutes(1);

    public static async Task<(string Report, bool Passed)> RunAsync(SoakSettings settings, string commandLine, TextWriter log)
    {
        ArgumentNullException.ThrowIfNull(settings);
        ArgumentNullException.ThrowIfNull(log);
        var bench = settings.Bench;
        Directory.CreateDirectory(bench.Root);
        var scratch = Path.Combine(bench.Root, $"enclave-soak-{Environment.ProcessId.ToString(CultureInfo.InvariantCulture)}-{Guid.NewGuid().ToString("N")[..8]}");
        Directory.CreateDirectory(scratch);
        var run = new SoakRun { Settings = settings, CommandLine = commandLine, LoadAverageAtStart = LoadAverage() };
        string dataDirectory;
        long entriesUnderLoad;
        try
        {
            await using (var bed = await Testbed.StartAsync(bench with { Keep = true }, log).ConfigureAwait(false))
            {
                dataDirectory = bed.DataDirectory;
                var gateway = bed[Target.Gateway];
                var keys = gateway.Ready.Keys ?? throw new InvalidOperationException("the gateway child did not report the soak principals' keys");
                var adminKey = gateway.Ready.ApiKey ?? throw new InvalidOperationException("the gateway child reported no admin key");
                var baseUrl = new Uri(gateway.Ready.Url);

                var importCount = (int)Math.Ceiling(settings.Minutes * 60 / settings.ImportEvery.TotalSeconds) + 2;
                log.WriteLine($"making a TUF repository and {importCount} signed dataset bundles in {scratch}");
                using var imports = SoakImports.Prepare(scratch, importCount, baseUrl, keys, log);
                log.WriteLine($"  done in {imports.Preparation.TotalSeconds:0.0} s, {imports.BundleBytes:N0} bytes a bundle");
                await imports.PinAsync(adminKey, replace: bench.GatewayData is not null).ConfigureAwait(false); // a prefilled directory has an earlier run's root pinned
                using var client = await SoakClient.CreateAsync(baseUrl, adminKey, keys[SoakPrincipals.Limited], settings.Concurrency).ConfigureAwait(false);
                await VerifyAsync(client, imports, gateway, log).ConfigureAwait(false);

                if (settings.Rate > 0)
                {
                    run.Rate = settings.Rate;
                    log.WriteLine($"saturation: not measured (--rate {settings.Rate.ToString(CultureInfo.InvariantCulture)})");
                }
                else
                {
                    run.Saturation = await SaturationAsync(client, bed, settings, log).ConfigureAwait(false);
                    run.Rate = Math.Max(1, (int)(run.Saturation.RequestsPerSecond * settings.Fraction));
                }

                log.WriteLine($"soak: {settings.Minutes} minutes at {run.Rate:N0} requests/s of the mix, {settings.QuotaRate:0.##}/s from the quota-limited user, an import every {settings.ImportEvery.TotalSeconds:0} s");

                (run.Recorder, run.Samples) = await SoakAsync(client, imports, gateway, bed[Target.Direct], dataDirectory, run.Rate, settings, log).ConfigureAwait(false);
                run.ImportsDone = imports.Imported;
                run.BundleBytes = imports.BundleBytes;
                run.BundlePreparation = imports.Preparation;
                entriesUnderLoad = (await gateway.StatsAsync().ConfigureAwait(false)).LedgerSize;
                log.WriteLine("stopping the gateway");
            }

            if (bench.GatewayData is null)
            {
                log.WriteLine($"verifying the ledger in {dataDirectory}");
                run.Ledger = VerifyLedger(dataDirectory);
            }
            else
            {
                // A prefilled directory (millions of entries) is for comparing the bed on a grown ledger: verifying it
                // takes minutes; `enclave ledger verify --data DIR` does it apart.
                run.Ledger = new SoakLedgerCheck { Verified = false, Error = "not verified: a prefilled data directory (--gateway-data); run `enclave ledger verify` on it apart" };
            }


            run.EntriesUnderLoad = entriesUnderLoad;
            run.LoadAverageAtEnd = LoadAverage();
            if (!bench.Keep && bench.GatewayData is null)
            {
                Directory.Delete(dataDirectory, recursive: true);
            }
        }
        finally
        {
            if (!bench.Keep && Directory.Exists(scratch))
            {
                Directory.Delete(scratch, recursive: true);
            }
        }

        var criteria = SoakReport.Criteria(run);
        return (SoakReport.Render(run, criteria), criteria.All(c => c.Passed));
    }

    // One request of every kind (and the quota-limited user's first, which its quota still allows) and one import,
    // each answered as expected, and two ledger entries for a chat: the mix works before any load is put on it.
    private static async Task VerifyAsync(SoakClient client, SoakImports imports, BenchChild gateway, TextWriter log)
    {
        var before = (await gateway.StatsAsync().ConfigureAwait(false)).LedgerSize;
        var (chat, chatError) = await client.SendAsync(SoakKind.Chat).ConfigureAwait(false);
        var after = (await gateway.StatsAsync().ConfigureAwait(false)).LedgerSize;
        if (chat != SoakOutcome.Ok || after - before != 2)
        {
            throw new InvalidOperationException($"a chat through the soak gateway: {chatError ?? "ok"}, {after - before} ledger entries (expected 2)");
        }

        foreach (var kind in new[] { SoakKind.Stream, SoakKind.Embeddings, SoakKind.Admin, SoakKind.Admin, SoakKind.Admin, SoakKind.OverQuota })
        {
            var (outcome, error) = await client.SendAsync(kind).ConfigureAwait(false);
            if (outcome != SoakOutcome.Ok)
            {
                throw new InvalidOperationException($"the first {kind} request was not answered as expected: {error ?? outcome.ToString()}");
            }
        }

        var failures = new List<string>();
        await imports.ImportNextAsync((_, _, outcome, error) =>
        {
            if (outcome != SoakOutcome.Ok)
            {
                failures.Add(error ?? outcome.ToString());
            }
        }).ConfigureAwait(false);
        if (failures.Count > 0)
        {
            throw new InvalidOperationException($"the first import: {string.Join("; ", failures)}");
        }

        log.WriteLine($"verified: chat (2 ledger entries), streamed chat, embeddings, {string.Join(", ", SoakClient.AdminReads)}, the quota-limited user's first request, and an import approved by two and activated");
    }

    private static async Task<SaturationResult> SaturationAsync(SoakClient client, Testbed bed, SoakSettings settings, TextWriter log)
    {
        var gateway = bed[Target.Gateway];
        var stub = bed[Target.Direct];
        log.WriteLine($"saturation: {settings.Concurrency} requests in flight (closed loop) over the mix, {settings.SaturationWarmupSeconds:0} s unmeasured, then {settings.SaturationSeconds:0} s");
        var begin = Stopwatch.GetTimestamp();
        var measureFrom = begin + (long)(settings.SaturationWarmupSeconds * Stopwatch.Frequency);
        var until = measureFrom + (long)(settings.SaturationSeconds * Stopwatch.Frequency);
        var counts = new long[2];
        var latencies = new List<long>[settings.Concurrency];
        var workers = Enumerable.Range(0, settings.Concurrency).Select(async w =>
        {
            await Task.Yield();
            var mine = latencies[w] = [];
            for (var i = w; ; i++)
            {
                var sent = Stopwatch.GetTimestamp();
                if (sent >= until)
                {
                    return;
                }

                var (outcome, _) = await client.SendAsync(Mix[i % Mix.Length]).ConfigureAwait(false);
                var end = Stopwatch.GetTimestamp();
                if (end >= measureFrom && end < until)
                {
                    Interlocked.Increment(ref counts[0]);
                    mine.Add(end - sent);
                    if (outcome != SoakOutcome.Ok)
                    {
                        Interlocked.Increment(ref counts[1]);
                    }
                }
            }
        }).ToList();

        // The CPU of the measured window: the gateway's, the bed's own (this process and the stub) and the machine's.
        var window = Task.Run(async () =>
        {
            await DelayUntilAsync(measureFrom).ConfigureAwait(false);
            var from = (Time: Stopwatch.GetTimestamp(), Gateway: gateway.CpuSeconds(), Bed: ProcessCpu.Seconds(Environment.ProcessId) + stub.CpuSeconds(), Machine: MachineCpu.Read());
            await DelayUntilAsync(until).ConfigureAwait(false);
            var to = (Time: Stopwatch.GetTimestamp(), Gateway: gateway.CpuSeconds(), Bed: ProcessCpu.Seconds(Environment.ProcessId) + stub.CpuSeconds(), Machine: MachineCpu.Read());
            return (Seconds: (to.Time - from.Time) / (double)Stopwatch.Frequency, Gateway: to.Gateway - from.Gateway, Bed: to.Bed - from.Bed, Shares: MachineCpu.SharesBetween(from.Machine, to.Machine));
        });
        await Task.WhenAll(workers).ConfigureAwait(false);
        var cpu = await window.ConfigureAwait(false);
        var result = new SaturationResult
        {
            GatewayCpuSeconds = cpu.Gateway,
            BedCpuSeconds = cpu.Bed,
            CpuWindowSeconds = cpu.Seconds,
            Idle = cpu.Shares.Idle,
            Steal = cpu.Shares.Steal,
            Concurrency = settings.Concurrency,
            Seconds = settings.SaturationSeconds,
            Requests = counts[0],
            Errors = counts[1],
            Latency = LatencyStats.FromTicks([.. latencies.SelectMany(l => l)]),
        };
        log.WriteLine($"  {result.RequestsPerSecond:N0} requests/s, {result.Errors} errors, p50 {result.Latency.P50Ms:0.00} ms, p99 {result.Latency.P99Ms:0.00} ms; "
            + $"gateway {result.GatewayUsPerRequest:0} µs CPU per request ({result.GatewayShare:P0} of all cores), bed {result.BedShare:P0}, machine idle {result.Idle:P1}, steal {result.Steal:P1}");
        return result;
    }

    private static async Task<(SoakRecorder, IReadOnlyList<SoakSample>)> SoakAsync(
        SoakClient client, SoakImports imports, BenchChild gateway, BenchChild stub, string dataDirectory, int rate, SoakSettings settings, TextWriter log)
    {
        var minuteTicks = (long)(Minute.TotalSeconds * Stopwatch.Frequency);
        var start = Stopwatch.GetTimestamp() + Stopwatch.Frequency / 5;
        var end = start + settings.Minutes * minuteTicks;
        var recorder = new SoakRecorder(start, settings.Minutes, Minute);
        var samples = new List<SoakSample> { await SoakSample.TakeAsync(0, gateway, stub, dataDirectory, recorder.Answered).ConfigureAwait(false) };
        var inFlight = new long[2]; // [0] requests in flight now, [1] the most in flight since the last minute's line
        // The mix ramps up linearly over the warm-up minutes: started at full rate, a freshly saturated gateway's first
        // seconds (connections opened, the tiered JIT's second tier, the first imports) queued up to the in-flight cap
        // and counted thousands of unsent requests as errors in minute 1 (2026-12-07, quiet machine); minute 2 on
        // had none. Every request of the ramp still counts.
        var ramp = settings.WarmupMinutes * minuteTicks;
        var mix = Schedule("soak-mix", rate, start, end, ramp, i => Mix[i % Mix.Length], client, recorder, inFlight);
        var quota = Schedule("soak-quota", settings.QuotaRate, start, end, 0, _ => SoakKind.OverQuota, client, recorder, inFlight);
        var importing = Task.Run(async () =>
        {
            var every = (long)(settings.ImportEvery.TotalSeconds * Stopwatch.Frequency);
            for (var due = start + every / 2; due < end; due += every)
            {
                await DelayUntilAsync(due).ConfigureAwait(false);
                if (!await imports.ImportNextAsync((sent, done, outcome, error) => recorder.Record(SoakKind.Import, sent, done, outcome, error)).ConfigureAwait(false))
                {
                    return;
                }
            }
        });

        for (var m = 1; m <= settings.Minutes; m++)
        {
            await DelayUntilAsync(start + m * minuteTicks).ConfigureAwait(false);
            var sample = await SoakSample.TakeAsync(m, gateway, stub, dataDirectory, recorder.Answered).ConfigureAwait(false);
            var cpu = SoakCpu.Between(samples[^1], sample);
            samples.Add(sample);
            var chat = recorder.Summarize(SoakKind.Chat, m - 1, m);
            var errors = Enum.GetValues<SoakKind>().Sum(k => recorder.Summarize(k, m - 1, m).Errors);
            log.WriteLine($"  minute {m}: chat {chat.Ok:N0} p99 {chat.Latency.P99Ms:0.00} ms, {errors} errors; RSS {sample.RssBytes / 1048576.0:0.0} MiB, "
                + $"GC heap {sample.Stats.HeapBytes / 1048576.0:0.0} MiB, gen2 {sample.Stats.Gen2}, threads {sample.Threads}, fds {sample.OpenFiles} ({sample.Sockets} sockets), ledger {sample.Stats.LedgerSize:N0}, {Volatile.Read(ref inFlight[0])} in flight (at most {Interlocked.Exchange(ref inFlight[1], 0)}); "
                + $"gateway {cpu.GatewayUsPerRequest:0} µs CPU per request ({cpu.GatewayShare:P0} of all cores), bed {cpu.BedShare:P0}, machine idle {cpu.Idle:P1}, steal {cpu.Steal:P1}");
        }

        mix.Join();
        quota.Join();
        await importing.ConfigureAwait(false);
        var deadline = Stopwatch.GetTimestamp() + 60 * Stopwatch.Frequency;
        while (Volatile.Read(ref inFlight[0]) > 0 && Stopwatch.GetTimestamp() < deadline)
        {
            await Task.Delay(50).ConfigureAwait(false);
        }

        var unanswered = Volatile.Read(ref inFlight[0]);
        if (unanswered > 0)
        {
            log.WriteLine($"  {unanswered} requests still unanswered 60 s after the last was due (counted as errors)");
            for (var i = 0; i < unanswered; i++)
            {
                recorder.RecordUnsent(SoakKind.Chat, end - 1, "unanswered 60 s after the end of the run");
            }
        }

        return (recorder, samples);
    }

    /// <summary>
    /// Most requests in flight at once before the schedule counts new ones as errors without sending them: 40 times the
    /// saturation run's 32, far above what a bed that keeps its rate has in flight (a few to a few tens).
    /// </summary>
    private const long MaxInFlight = 1280;

    // One thread keeps the schedule (as FixedRateClient does): request i is due at start + Offset(i) and sent then.
    private static Thread Schedule(string name, double rate, long start, long end, long rampTicks, Func<long, SoakKind> kindOf, SoakClient client, SoakRecorder recorder, long[] inFlight)
    {
        var thread = new Thread(() =>
        {
            for (long i = 0; ; i++)
            {
                var due = start + DueOffset(i, rate, rampTicks);
                if (due >= end)
                {
                    return;
                }

                PreciseSleep.Until(due);
                if (Volatile.Read(ref inFlight[0]) >= MaxInFlight)
                {
                    // The bed no longer keeps the rate (a neighbour took the cores, or the gateway slowed down): every
                    // request not sent is an error of its kind, and the driver's memory stays bounded instead of
                    // growing with an unbounded queue of requests until the process runs out of memory.
                    recorder.RecordUnsent(kindOf(i), due, $"not sent: {MaxInFlight} requests already in flight (the rate is not kept)");
                    continue;
                }

                var now = Interlocked.Increment(ref inFlight[0]);
                for (var peak = Volatile.Read(ref inFlight[1]); now > peak; peak = Volatile.Read(ref inFlight[1]))
                {
                    if (Interlocked.CompareExchange(ref inFlight[1], now, peak) == peak)
                    {
                        break;
                    }
                }

                _ = SendAsync(client, kindOf(i), due, recorder, inFlight);
            }
        })
        {
            IsBackground = true,
            Name = name,
        };
        thread.Start();
        return thread;
    }

    /// <summary>
    /// Ticks after the start at which request <paramref name="i"/> is due: the rate grows linearly from 0 to
    /// <paramref name="rate"/> over <paramref name="rampTicks"/> (so <c>rate * t² / (2 * ramp)</c> requests are due by
    /// time <c>t</c> in the ramp, half as many as at full rate), then stays at <paramref name="rate"/>.
    /// </summary>
    internal static long DueOffset(long i, double rate, long rampTicks)
    {
        var perTick = rate / Stopwatch.Frequency;
        var inRamp = perTick * rampTicks / 2;
        return i < inRamp
            ? (long)Math.Sqrt(2.0 * rampTicks * i / perTick)
            : rampTicks + (long)((i - inRamp) / perTick);
    }

    private static async Task SendAsync(SoakClient client, SoakKind kind, long due, SoakRecorder recorder, long[] inFlight)
    {
        try
        {
            var (outcome, error) = await client.SendAsync(kind).ConfigureAwait(false);
            recorder.Record(kind, due, Stopwatch.GetTimestamp(), outcome, error);
        }
        catch (Exception e) when (e is not OutOfMemoryException)
        {
            // Whatever SoakClient did not expect still counts, as an error of its kind.
            recorder.Record(kind, due, Stopwatch.GetTimestamp(), SoakOutcome.Error, $"{kind}: {e.GetType().Name}: {e.Message}");
        }
        finally
        {
            Interlocked.Decrement(ref inFlight[0]);
        }
    }

    private static async Task DelayUntilAsync(long timestamp)
    {
        var remaining = timestamp - Stopwatch.GetTimestamp();
        if (remaining > 0)
        {
            await Task.Delay(TimeSpan.FromSeconds(remaining / (double)Stopwatch.Frequency)).ConfigureAwait(false);
        }
    }

    // The library's verifier over the stopped gateway's data directory, as `enclave ledger verify --data DIR` runs it:
    // the latest checkpoint's signature with the directory's verifier key, then every tile and entry against its root.
    private static SoakLedgerCheck VerifyLedger(string dataDirectory)
    {
        var watch = Stopwatch.StartNew();
        try
        {
            using var reader = LedgerReader.Open(dataDirectory);
            var keys = LedgerKeys.LoadVerifierKeys(dataDirectory);
            var latest = reader.LatestCheckpoint() ?? throw new InvalidOperationException("the ledger has no signed checkpoint");
            var checkpoint = LedgerAuditor.VerifyCheckpoint(System.Text.Encoding.UTF8.GetBytes(latest.Note), keys, BenchSettings.Origin);
            var audit = LedgerAuditor.VerifyTiles(reader.OpenTileReader(), checkpoint, checkEntries: true);
            return new SoakLedgerCheck
            {
                Verified = true,
                CheckpointSize = checkpoint.Size,
                TreeSize = reader.TreeSize(),
                EntriesChecked = audit.EntriesChecked,
                TilesRead = audit.TilesRead,
                Elapsed = watch.Elapsed,
            };
        }
        catch (Exception e) when (e is LedgerVerificationException or InvalidOperationException or IOException or Enclave.Core.EnclaveFormatException)
        {
            return new SoakLedgerCheck { Verified = false, Error = $"{e.GetType().Name}: {e.Message}", Elapsed = watch.Elapsed };
        }
    }

    private static string LoadAverage() => File.ReadAllText("/proc/loadavg").Trim();
}

/// <summary>The closed-loop run that measures saturation.</summary>
internal sealed record SaturationResult
{
    public required int Concurrency { get; init; }
    public required double Seconds { get; init; }
    public required long Requests { get; init; }
    public required long Errors { get; init; }
    public required LatencyStats Latency { get; init; }

    /// <summary>The gateway's CPU seconds over the measured window (user + system, <c>/proc/PID/stat</c>).</summary>
    public required double GatewayCpuSeconds { get; init; }

    /// <summary>CPU seconds of the bed's own processes (this one, the client, and the stub) over the measured window.</summary>
    public required double BedCpuSeconds { get; init; }

    /// <summary>The measured window's length as the CPU samples saw it.</summary>
    public required double CpuWindowSeconds { get; init; }

    /// <summary>The machine's idle share over the window (<c>/proc/stat</c>, idle + iowait).</summary>
    public required double Idle { get; init; }

    /// <summary>The machine's steal share over the window (<c>/proc/stat</c>).</summary>
    public required double Steal { get; init; }

    public double RequestsPerSecond => Requests / Seconds;

    /// <summary>Gateway CPU µs per request finished in the window.</summary>
    public double GatewayUsPerRequest => Requests > 0 ? GatewayCpuSeconds * 1e6 / Requests : double.NaN;

    public double GatewayShare => GatewayCpuSeconds / (CpuWindowSeconds * Environment.ProcessorCount);

    public double BedShare => BedCpuSeconds / (CpuWindowSeconds * Environment.ProcessorCount);
}

/// <summary>Everything one soak run measured, for the report.</summary>
internal sealed class SoakRun
{
    public required SoakSettings Settings { get; init; }
    public required string CommandLine { get; init; }
    public required string LoadAverageAtStart { get; init; }
    public string LoadAverageAtEnd { get; set; } = "";
    /// <summary>The closed-loop saturation run; null when <c>--rate</c> gave the rate.</summary>
    public SaturationResult? Saturation { get; set; }
    public int Rate { get; set; }
    public SoakRecorder Recorder { get; set; } = null!;
    public IReadOnlyList<SoakSample> Samples { get; set; } = [];
    public int ImportsDone { get; set; }
    public long BundleBytes { get; set; }
    public TimeSpan BundlePreparation { get; set; }
    public long EntriesUnderLoad { get; set; }
    public SoakLedgerCheck Ledger { get; set; } = null!;
}
