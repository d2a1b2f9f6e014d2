using System.Diagnostics;
using System.Globalization;
using System.Text;
using System.Text.Json;
using System.Text.Json.Nodes;
using Enclave.Core.Audit;
using Enclave.Intel.Alerts;
using Enclave.Intel.Live;
using Enclave.Ledger;
using Enclave.State;
using Enclave.State.Alerts;
using Enclave.State.Intel;

namespace Enclave.Bench.Intel;

/// <summary>
/// Retro-hunt throughput: a generated ledger (request.admitted entries with client addresses and principals, one
/// import.verified with digests in every 50) is written to a fresh data directory, N indicators are stored and
/// indexed, then <see cref="RetroHunter.HuntAsync"/> streams the whole ledger. Reports entries per second, wall and
/// per CPU-second, and the managed heap before and after.
/// </summary>
internal static class HuntBenchmark
{
    public static async Task<string> RunAsync(int entries, int indicators, int seed, string arguments)
    {
        var random = new Random(seed);
        var dir = Directory.CreateTempSubdirectory("enclave-bench-hunt-").FullName;
        var clock = TimeProvider.System;
        try
        {
            SqliteLedger.Initialize(dir, "bench.example/hunt", postQuantum: false, clock);
            var write = Stopwatch.StartNew();
            await using (var ledger = SqliteLedger.Open(new LedgerOptions { DataDirectory = dir, CheckpointInterval = TimeSpan.FromHours(1) }, clock))
            {
                var pending = new List<Task<long>>(4096);
                var now = clock.GetUtcNow();
                for (var i = 0; i < entries; i++)
                {
                    var entry = i % 50 == 0
                        ? new AuditEvent
                        {
                            // Only the fields the hunt reads, as the recorded runs had them (hand-built, not an ImportVerifiedDetails).
                            Type = AuditEventTypes.ImportVerified.Name,
                            Time = now,
                            Actor = "prn_importer",
                            Subject = "import:imp_" + i.ToString(CultureInfo.InvariantCulture),
                            Details = JsonSerializer.SerializeToElement(new JsonObject
                            {
                                ["kind"] = "dataset",
                                ["manifest_sha256"] = Hex(random),
                                ["targets"] = new JsonArray(new JsonObject { ["path"] = "data/a.bin", ["sha256"] = Hex(random) }, new JsonObject { ["path"] = "data/b.bin", ["sha256"] = Hex(random) }),
                            }),
                        }
                        : AuditEvent.Create(now, "prn_" + random.Next(5000).ToString(CultureInfo.InvariantCulture), "model:chat", new RequestAdmittedDetails
                        {
                            RequestId = "req_" + i.ToString(CultureInfo.InvariantCulture),
                            Endpoint = "/v1/chat/completions",
                            Model = "chat",
                            Backend = "local",
                            Stream = false,
                            PromptSha256 = Hex(random),
                            ClientAddress = $"10.{random.Next(256)}.{random.Next(256)}.{random.Next(256)}",
                            User = "user-" + random.Next(5000).ToString(CultureInfo.InvariantCulture),
                        });
                    pending.Add(ledger.AppendAsync(entry).AsTask());
                    if (pending.Count == 4096)
                    {
                        await Task.WhenAll(pending).ConfigureAwait(false);
                        pending.Clear();
                    }
                }

                await Task.WhenAll(pending).ConfigureAwait(false);
            }

            write.Stop();
            await using var reopened = SqliteLedger.Open(new LedgerOptions { DataDirectory = dir, CheckpointInterval = TimeSpan.FromHours(1) }, clock);
            var factory = EnclaveState.Open(dir, clock);
            var store = new SqliteIndicatorStore(factory);
            var rows = new List<IndicatorRow>(indicators);
            for (var i = 0; i < indicators; i++)
            {
                // Addresses outside the generated 10/8 and digests never generated: the hunt pays for every lookup, finds nothing.
                var pattern = (i % 3) switch
                {
                    0 => $"[ipv4-addr:value = '192.0.{(i / 256) % 256}.{i % 256}']",
                    1 => $"[file:hashes.'SHA-256' = '{Hex(random)}']",
                    _ => $"[user-account:user_id = 'listed-{i}']",
                };
                rows.Add(new IndicatorRow
                {
                    Id = $"indicator--{i:x8}-0000-4000-8000-000000000000",
                    Modified = clock.GetUtcNow().AddDays(-1),
                    ImportId = "imp_bench",
                    Source = "bench.json",
                    Pattern = pattern,
                    PatternType = "stix",
                    ValidFrom = clock.GetUtcNow().AddDays(-1),
                    Created = clock.GetUtcNow().AddDays(-1),
                    Status = "evaluable",
                });
            }

            store.Apply(new IndicatorSourceRow("imp_bench", "bench", "1", clock.GetUtcNow(), reopened.Size, rows.Count, 0, 0), rows);
            var live = new LiveIndicators(store, clock);
            live.Reload();
            var hunter = new RetroHunter(live, new AlertService(reopened, new SqliteAlertStore(factory), clock), reopened, () => LedgerReader.Open(dir), clock);
            GC.Collect();
            var heapBefore = GC.GetTotalMemory(true);
            var cpu = Process.GetCurrentProcess().TotalProcessorTime;
            var watch = Stopwatch.StartNew();
            var result = await hunter.HuntAsync("bench", "system").ConfigureAwait(false);
            watch.Stop();
            var cpuUsed = Process.GetCurrentProcess().TotalProcessorTime - cpu;
            var heapAfter = GC.GetTotalMemory(false);
            var perWall = result.Entries / watch.Elapsed.TotalSeconds;
            var perCpu = result.Entries / Math.Max(cpuUsed.TotalSeconds, 1e-9);
            var report = new StringBuilder();
            report.AppendLine(CultureInfo.InvariantCulture, $"### Retro-hunt ({DateTimeOffset.UtcNow:yyyy-MM-dd HH:mm} UTC)");
            report.AppendLine();
            report.AppendLine(CultureInfo.InvariantCulture, $"`Enclave.Bench.Intel.dll {arguments}`; {Environment.ProcessorCount} logical CPUs, .NET {Environment.Version}, load average {LoadAverage()}");
            report.AppendLine();
            report.AppendLine("| measure | value |");
            report.AppendLine("|---|---|");
            report.AppendLine(CultureInfo.InvariantCulture, $"| ledger entries (generated; writing took {write.Elapsed.TotalSeconds:F1} s) | {entries:N0} |");
            report.AppendLine(CultureInfo.InvariantCulture, $"| live indicators (addresses, SHA-256, user ids) | {indicators:N0} |");
            report.AppendLine(CultureInfo.InvariantCulture, $"| entries hunted / hits | {result.Entries:N0} / {result.Hits:N0} |");
            report.AppendLine(CultureInfo.InvariantCulture, $"| wall time | {watch.Elapsed.TotalSeconds:F2} s |");
            report.AppendLine(CultureInfo.InvariantCulture, $"| entries per wall-clock second | {perWall:N0} |");
            report.AppendLine(CultureInfo.InvariantCulture, $"| process CPU time | {cpuUsed.TotalSeconds:F2} s |");
            report.AppendLine(CultureInfo.InvariantCulture, $"| **entries per CPU-second** | **{perCpu:N0}** |");
            report.AppendLine(CultureInfo.InvariantCulture, $"| projected 10,000,000 entries (wall / CPU) | {10_000_000 / perWall:F0} s / {10_000_000 / perCpu:F0} s |");
            report.AppendLine(CultureInfo.InvariantCulture, $"| managed heap before / after the hunt | {heapBefore / 1048576.0:F0} MiB / {heapAfter / 1048576.0:F0} MiB |");
            return report.ToString();
        }
        finally
        {
            try
            {
                Directory.Delete(dir, recursive: true);
            }
            catch (IOException)
            {
                // Pooled SQLite connections may hold the file a moment longer; temp is cleaned by the OS.
            }
        }
    }

    private static string Hex(Random random)
    {
        Span<byte> bytes = stackalloc byte[32];
        random.NextBytes(bytes);
        return Convert.ToHexStringLower(bytes);
    }

    private static string LoadAverage() => File.Exists("/proc/loadavg") ? File.ReadAllText("/proc/loadavg").Trim() : "n/a";
}
