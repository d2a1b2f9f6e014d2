using System.Diagnostics;
using System.Globalization;
using System.Net.Http.Headers;
using System.Security.Cryptography;
using System.Text;
using System.Text.Encodings.Web;
using System.Text.Json;
using System.Text.Json.Nodes;
using Enclave.Core.Audit;
using Enclave.Inference.Backends;
using Enclave.Ledger;
using Enclave.Policy.Identity;
using Enclave.Server.Audit;

namespace Enclave.Bench.Gateway;

/// <summary>
/// The CPU cost of each synchronous piece of work the gateway does per request, measured alone on one thread with the
/// same inputs the load runs use, and the durable append measured at the gateway's concurrency. Each micro-measurement
/// is the median of seven rounds of about 100 ms after one second of warm-up (tiered JIT), in thread CPU time.
/// </summary>
internal static class ComponentProfile
{
    // The actor of the admitted entries the profile writes (an API key's principal, as a request's).
    private const string AdmittedActor = "key:0123456789ab";

    private static readonly JsonSerializerOptions Compact = new() { WriteIndented = false, Encoder = JavaScriptEncoder.UnsafeRelaxedJsonEscaping };
    private static readonly JsonWriterOptions UpstreamWriter = new() { Encoder = JavaScriptEncoder.UnsafeRelaxedJsonEscaping };
    private static readonly JsonDocumentOptions RequestOptions = new() { MaxDepth = 64 };
    private static readonly JsonDocumentOptions UpstreamOptions = new() { MaxDepth = 64, AllowDuplicateProperties = false };

    public static async Task<IReadOnlyList<ProfileRow>> RunAsync(BenchSettings settings, IReadOnlyList<int> writers, int appendRate, TextWriter log)
    {
        var rows = new List<ProfileRow>();
        var dir = Path.Combine(settings.Root, $"enclave-gateway-profile-{Environment.ProcessId.ToString(CultureInfo.InvariantCulture)}-{Guid.NewGuid().ToString("N")[..8]}");
        Directory.CreateDirectory(dir);
        try
        {
            var body = Encoding.UTF8.GetBytes(ChatRequest.Body);
            var request = (JsonObject)JsonNode.Parse(body, documentOptions: RequestOptions)!;
            var messages = request["messages"]!;
            var answer = (JsonObject)JsonNode.Parse(ChatRequest.Completion, documentOptions: UpstreamOptions)!;
            var choices = answer["choices"]!;

            var keys = new ApiKeyStore(dir, TimeProvider.System);
            var key = keys.Create("bench", "admin").Key;
            var header = "Bearer " + key;
            rows.Add(Measure(log, "API key check: `ApiKeyStore.Validate`", "SHA-256 of the secret, in-memory lookup by key ID, constant-time compare, expiry and principal checks", () =>
            {
                if (keys.Validate(header["Bearer ".Length..].Trim()) is null)
                {
                    throw new InvalidOperationException("the benchmark key did not validate");
                }
            }));
            rows.Add(Measure(log, "request body: `JsonNode.Parse`", $"{body.Length} bytes into a JsonObject (ReadBodyAsync)", () => JsonNode.Parse(body, documentOptions: RequestOptions)));
            rows.Add(Measure(log, "request ID: `RandomNumberGenerator.GetBytes(12)` + hex", "one per request", () => _ = "req_" + Convert.ToHexStringLower(RandomNumberGenerator.GetBytes(12))));
            rows.Add(Measure(log, "prompt digest: `RequestAuditor.Digest(messages)`", "canonical JSON (RFC 8785) written straight from the node, SHA-256", () => RequestAuditor.Digest(messages)));

            var encodeOnly = new EncodeOnlyLedger();
            var auditor = new RequestAuditor(encodeOnly, TimeProvider.System);
            var admitted = new RequestAdmittedDetails
            {
                RequestId = "req_0123456789abcdef01234567",
                Endpoint = ChatRequest.Path,
                Model = BenchSettings.Model,
                Backend = "upstream",
                Stream = false,
                PromptSha256 = RequestAuditor.Digest(messages),
            };
            rows.Add(Measure(log, "admitted entry: `RequestAuditor.AdmitAsync`, no storage", "details JsonObject written once as canonical JSON, validation, envelope, leaf hash (what SqliteLedger does on the caller's thread)", () => auditor.AdmitAsync(AdmittedActor, admitted, CancellationToken.None).GetAwaiter().GetResult()));
            var admittedBytes = encodeOnly.LastEntryBytes;
            rows.Add(Measure(log, "upstream request body (as `UpstreamJson.CreateContent`)", "JsonObject written with Utf8JsonWriter, minus `stream`", () =>
            {
                var buffer = new System.Buffers.ArrayBufferWriter<byte>(1024);
                using var writer = new Utf8JsonWriter(buffer, UpstreamWriter);
                writer.WriteStartObject();
                foreach (var (name, value) in request)
                {
                    if (name == "stream")
                    {
                        continue;
                    }

                    writer.WritePropertyName(name);
                    if (value is null)
                    {
                        writer.WriteNullValue();
                    }
                    else
                    {
                        value.WriteTo(writer);
                    }
                }

                writer.WriteEndObject();
                writer.Flush();
                using var content = new ReadOnlyMemoryContent(buffer.WrittenMemory);
                content.Headers.ContentType = new MediaTypeHeaderValue("application/json") { CharSet = "utf-8" };
            }));
            rows.Add(Measure(log, "upstream call timeout: `new CancellationTokenSource(Timeout, TimeProvider)` + linked source", "a timer created and disposed per upstream call (OpenAiUpstreamBackend.PostAsync)", () =>
            {
                using var timeout = new CancellationTokenSource(TimeSpan.FromMinutes(5), TimeProvider.System);
                using var linked = CancellationTokenSource.CreateLinkedTokenSource(CancellationToken.None, timeout.Token);
            }));
            rows.Add(Measure(log, "upstream answer: `JsonNode.Parse` (duplicate keys refused)", $"{ChatRequest.Completion.Length} bytes (UpstreamJson.ParseObject)", () => JsonNode.Parse(ChatRequest.Completion, documentOptions: UpstreamOptions)));
            rows.Add(Measure(log, "answer digest: `RequestAuditor.Digest(choices)`", "canonical JSON written from the node, SHA-256", () => RequestAuditor.Digest(choices)));
            var completed = new CompletedRequest
            {
                Endpoint = ChatRequest.Path,
                RequestId = admitted.RequestId,
                Actor = AdmittedActor,
                Model = BenchSettings.Model,
                AdmittedIndex = 123_456,
                Backend = "stub",
                Outcome = "ok",
                Status = 200,
                Latency = TimeSpan.FromMilliseconds(1.234),
                Usage = new TokenUsage(24, 7),
                AnswerSha256 = RequestAuditor.Digest(choices),
            };
            rows.Add(Measure(log, "completed entry: `RequestAuditor.CompleteAsync`, no storage", "as the admitted entry, with usage, latency and answer digest", () => auditor.CompleteAsync(completed).GetAwaiter().GetResult()));
            var completedBytes = encodeOnly.LastEntryBytes;
            rows.Add(Measure(log, "response body: `JsonNode.ToJsonString`", "the answer JsonObject, model replaced, to a string (Results.Text)", () =>
            {
                answer["model"] = BenchSettings.Model;
                _ = answer.ToJsonString(Compact);
            }));
            log.WriteLine($"  admitted entry {admittedBytes} bytes, completed entry {completedBytes} bytes");

            foreach (var n in writers)
            {
                rows.Add(await DurableAppendsAsync(dir, n, admitted, log).ConfigureAwait(false));
            }

            rows.Add(await AppendLatencyAsync(dir, appendRate, admitted, log).ConfigureAwait(false));
        }
        finally
        {
            Microsoft.Data.Sqlite.SqliteConnection.ClearAllPools();
            if (!settings.Keep)
            {
                Directory.Delete(dir, recursive: true);
            }
        }

        return rows;
    }

    private static ProfileRow Measure(TextWriter log, string name, string how, Action operation)
    {
        var warm = Stopwatch.GetTimestamp() + Stopwatch.Frequency;
        while (Stopwatch.GetTimestamp() < warm)
        {
            operation();
        }

        var micros = new double[7];
        var bytes = new double[7];
        for (var round = 0; round < micros.Length; round++)
        {
            long count = 0;
            var allocated = GC.GetAllocatedBytesForCurrentThread();
            var cpu = ThreadCpu.Nanoseconds();
            var start = Stopwatch.GetTimestamp();
            var end = start + Stopwatch.Frequency / 10;
            long now;
            do
            {
                for (var i = 0; i < 16; i++)
                {
                    operation();
                }

                count += 16;
                now = Stopwatch.GetTimestamp();
            }
            while (now < end);
            // Thread CPU time where Linux gives it (neighbours' load does not count); wall time otherwise.
            micros[round] = cpu >= 0 ? (ThreadCpu.Nanoseconds() - cpu) / 1e3 / count : (now - start) * 1e6 / Stopwatch.Frequency / count;
            bytes[round] = (GC.GetAllocatedBytesForCurrentThread() - allocated) / (double)count;
        }

        Array.Sort(micros);
        Array.Sort(bytes);
        var row = new ProfileRow(name, micros[3], bytes[3], how);
        log.WriteLine($"  {name}: {row.Microseconds:0.00} µs, {row.AllocatedBytes:N0} B");
        return row;
    }

    /// <summary>
    /// <paramref name="writers"/> tasks appending admitted entries through <see cref="RequestAuditor"/> into a real
    /// <see cref="SqliteLedger"/> (default options: a signed checkpoint per commit) for three seconds after one of
    /// warm-up; the cost is this process's CPU per append, which includes the encoding measured above.
    /// </summary>
    private static async Task<ProfileRow> DurableAppendsAsync(string root, int writers, RequestAdmittedDetails admitted, TextWriter log)
    {
        var dir = Path.Combine(root, $"ledger-{writers.ToString(CultureInfo.InvariantCulture)}");
        SqliteLedger.Initialize(dir, BenchSettings.Origin, postQuantum: false, TimeProvider.System);
        await using var ledger = SqliteLedger.Open(new LedgerOptions { DataDirectory = dir, Purpose = "gateway benchmark profile" }, TimeProvider.System);
        var auditor = new RequestAuditor(ledger, TimeProvider.System);
        long appended = 0;
        var measuring = false;
        using var stop = new CancellationTokenSource();
        var tasks = Enumerable.Range(0, writers).Select(_ => Task.Run(async () =>
        {
            while (!stop.IsCancellationRequested)
            {
                await auditor.AdmitAsync(AdmittedActor, admitted, CancellationToken.None).ConfigureAwait(false);
                if (Volatile.Read(ref measuring))
                {
                    Interlocked.Increment(ref appended);
                }
            }
        })).ToArray();
        await Task.Delay(TimeSpan.FromSeconds(1)).ConfigureAwait(false);
        using var process = Process.GetCurrentProcess();
        var cpu0 = process.TotalProcessorTime;
        var t0 = Stopwatch.GetTimestamp();
        Volatile.Write(ref measuring, true);
        await Task.Delay(TimeSpan.FromSeconds(3)).ConfigureAwait(false);
        Volatile.Write(ref measuring, false);
        var seconds = (Stopwatch.GetTimestamp() - t0) / (double)Stopwatch.Frequency;
        process.Refresh();
        var cpu = process.TotalProcessorTime - cpu0;
        var count = Interlocked.Read(ref appended);
        await stop.CancelAsync().ConfigureAwait(false);
        await Task.WhenAll(tasks).ConfigureAwait(false);
        var row = new ProfileRow(
            $"durable append, {writers} concurrent writers: `RequestAuditor.AdmitAsync` into `SqliteLedger`",
            cpu.TotalMicroseconds / Math.Max(1, count),
            double.NaN,
            $"process CPU per append at {count / seconds:N0} appends/s; includes the encoding above, the sequencer (SQLite, fsync, checkpoint signature) and task plumbing");
        log.WriteLine($"  {row.Component}: {row.Microseconds:0.0} µs CPU per append, {count / seconds:N0} appends/s");
        return row;
    }

    /// <summary>
    /// Durable appends at a fixed rate (open loop, as <see cref="FixedRateClient"/> schedules requests): the latency
    /// one audit entry adds to a request when the ledger is not saturated. A request waits for two in a row.
    /// </summary>
    private static async Task<ProfileRow> AppendLatencyAsync(string root, int rate, RequestAdmittedDetails admitted, TextWriter log)
    {
        var dir = Path.Combine(root, "ledger-rate");
        SqliteLedger.Initialize(dir, BenchSettings.Origin, postQuantum: false, TimeProvider.System);
        await using var ledger = SqliteLedger.Open(new LedgerOptions { DataDirectory = dir, Purpose = "gateway benchmark profile" }, TimeProvider.System);
        var auditor = new RequestAuditor(ledger, TimeProvider.System);
        var warmup = rate * 2;
        var total = warmup + (rate * 5);
        var latencies = new long[total - warmup];
        var tasks = new Task[total];
        var interval = Stopwatch.Frequency / (double)rate;
        var scheduler = new Thread(() =>
        {
            var start = Stopwatch.GetTimestamp();
            for (var i = 0; i < total; i++)
            {
                var due = start + (long)(i * interval);
                PreciseSleep.Until(due);
                var slot = i - warmup;
                tasks[i] = AppendAsync(due, slot);
            }
        })
        {
            IsBackground = true,
            Name = "bench-append-scheduler",
        };
        scheduler.Start();
        await Task.Run(scheduler.Join).ConfigureAwait(false);
        await Task.WhenAll(tasks).ConfigureAwait(false);
        var stats = LatencyStats.FromTicks(latencies);
        var row = new ProfileRow(
            $"durable append latency at {rate:N0}/s (open loop): p50 / p99 / p99.9 ms",
            double.NaN,
            double.NaN,
            $"{stats.P50Ms:0.000} / {stats.P99Ms:0.000} / {stats.P999Ms:0.000} ms from the due time to the acknowledged append (a request waits for two in a row)");
        log.WriteLine($"  {row.Component}: {row.How}");
        return row;

        async Task AppendAsync(long due, int slot)
        {
            await auditor.AdmitAsync(AdmittedActor, admitted, CancellationToken.None).ConfigureAwait(false);
            if (slot >= 0)
            {
                latencies[slot] = Stopwatch.GetTimestamp() - due;
            }
        }
    }
}
