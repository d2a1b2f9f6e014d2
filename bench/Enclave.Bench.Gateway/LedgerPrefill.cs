using System.Diagnostics;
using Enclave.Core.Audit;
using Enclave.Intel.Detections;
using Enclave.Ledger;
using Enclave.State;
using Enclave.State.Ledger;

namespace Enclave.Bench.Gateway;

/// <summary>
/// Grows a gateway data directory's ledger to what minutes of soak traffic leave, in minutes instead of half an hour
/// (<c>prefill</c>): the bench's own gateway answers one request of each API kind of the soak's mix first (a chat, a
/// streamed chat, an embedding), and the <c>request.admitted</c>/<c>request.completed</c> entries it wrote are then
/// appended again and again, in their order, through the real <see cref="SqliteLedger"/> (group commit, the Merkle
/// tiles integrated in the same transaction, a signed checkpoint every second, as the server does) until the ledger
/// holds the entries asked for. The usage rollup's and the detections' cursors are then moved to the end, as a server
/// that served the traffic live leaves them (their consumers read every entry as it was appended): a gateway started
/// on the directory begins where the soak's would be after that many entries, not with a catch-up over all of them.
/// </summary>
internal static class LedgerPrefill
{
    /// <summary>Appends in flight at once: four of the ledger's default batches of 4,096.</summary>
    private const int InFlight = 16_384;

    /// <summary>Whether <paramref name="dataDirectory"/> holds a ledger already.</summary>
    public static bool HoldsLedger(string dataDirectory) =>
        File.Exists(StateDatabase.Enclave.PathIn(dataDirectory))
        && new SqliteLedgerStore(EnclaveState.Open(dataDirectory, TimeProvider.System)).Exists();

    /// <summary>Grows the ledger of <paramref name="dataDirectory"/> (made first when missing) to <paramref name="entries"/> entries.</summary>
    public static async Task<int> RunAsync(BenchSettings settings, long entries, TextWriter log)
    {
        ArgumentNullException.ThrowIfNull(settings);
        var data = Path.GetFullPath(settings.GatewayData ?? throw new ArgumentException("prefill needs --gateway-data"));
        if (!HoldsLedger(data))
        {
            // The bench's gateway makes the directory (keys, principals) and writes the entries the copies are of.
            await using var bed = await Testbed.StartAsync(settings with { Targets = [Target.Gateway] }, log).ConfigureAwait(false);
            await bed.VerifyAsync(log).ConfigureAwait(false);
            await SoakMixOnceAsync(bed[Target.Gateway]).ConfigureAwait(false);
        }

        var templates = Templates(data);
        log.WriteLine($"prefill: {templates.Count} template entries ({string.Join(", ", templates.Select(t => $"{t.Type} {t.ToCanonicalJson().Length} B"))})");
        var clock = TimeProvider.System;
        var watch = Stopwatch.StartNew();
        long appended = 0, bytes = 0;
        await using (var ledger = SqliteLedger.Open(new LedgerOptions { DataDirectory = data, CheckpointInterval = TimeSpan.FromSeconds(1), Purpose = "gateway bench prefill" }, clock))
        {
            var pending = new List<Task<long>>(InFlight);
            var next = 0;
            var lastReport = watch.Elapsed;
            while (ledger.Size + pending.Count < entries)
            {
                var entry = templates[next++ % templates.Count];
                bytes += entry.ToCanonicalJson().Length;
                pending.Add(ledger.AppendAsync(entry).AsTask());
                if (pending.Count == InFlight)
                {
                    await Task.WhenAll(pending).ConfigureAwait(false);
                    appended += pending.Count;
                    pending.Clear();
                    if (watch.Elapsed - lastReport > TimeSpan.FromSeconds(10))
                    {
                        lastReport = watch.Elapsed;
                        log.WriteLine($"  {ledger.Size:N0} entries, {appended / watch.Elapsed.TotalSeconds:N0}/s");
                    }
                }
            }

            await Task.WhenAll(pending).ConfigureAwait(false);
            appended += pending.Count;
            var size = ledger.Size;
            var state = EnclaveState.Open(data, clock);
            new Enclave.State.Usage.SqliteUsageStore(state).Apply([], size, clock.GetUtcNow());
            new Enclave.State.Detections.SqliteDetectionStore(state).WriteCursor(DetectionPipeline.Consumer, size, clock.GetUtcNow());
            log.WriteLine($"prefill: appended {appended:N0} entries ({bytes / Math.Max(1, appended)} B each) in {watch.Elapsed.TotalSeconds:0.0} s; the ledger holds {size:N0}");
        }

        var db = new FileInfo(StateDatabase.Enclave.PathIn(data));
        var wal = new FileInfo(db.FullName + "-wal");
        log.WriteLine($"prefill: {data}: enclave.db {db.Length / 1048576.0:N0} MiB, WAL {(wal.Exists ? wal.Length / 1048576.0 : 0):N0} MiB");
        return 0;
    }

    /// <summary>The request entries the gateway wrote (admitted and completed), in ledger order.</summary>
    private static List<AuditEvent> Templates(string data)
    {
        using var reader = LedgerReader.Open(data);
        var size = reader.TreeSize();
        var templates = new List<AuditEvent>();
        for (long start = 0; start < size; start += LedgerReader.MaxEntriesPerRead)
        {
            foreach (var bytes in reader.ReadEntries(start, LedgerReader.MaxEntriesPerRead))
            {
                var entry = AuditEvent.Parse(bytes);
                if (entry.Type == AuditEventTypes.RequestAdmitted.Name || entry.Type == AuditEventTypes.RequestCompleted.Name)
                {
                    templates.Add(entry);
                }
            }

            if (templates.Count >= 64)
            {
                break;
            }
        }

        return templates.Count > 0 ? templates : throw new InvalidOperationException($"the ledger in '{data}' holds no request entries to copy");
    }

    /// <summary>One streamed chat and one embedding beside the chat <see cref="Testbed.VerifyAsync"/> sent.</summary>
    private static async Task SoakMixOnceAsync(BenchChild gateway)
    {
        using var http = new HttpClient(new SocketsHttpHandler { UseProxy = false });
        foreach (var (path, body) in new[] { (ChatRequest.Path, ChatRequest.StreamBody), (ChatRequest.EmbeddingsPath, ChatRequest.EmbeddingBody) })
        {
            using var request = new HttpRequestMessage(HttpMethod.Post, gateway.Ready.Url + path)
            {
                Content = new StringContent(body, System.Text.Encoding.UTF8, "application/json"),
            };
            request.Headers.Authorization = new System.Net.Http.Headers.AuthenticationHeaderValue("Bearer", gateway.Ready.ApiKey);
            using var response = await http.SendAsync(request).ConfigureAwait(false);
            _ = await response.Content.ReadAsStringAsync().ConfigureAwait(false);
            if (!response.IsSuccessStatusCode)
            {
                throw new InvalidOperationException($"prefill: {path} answered {(int)response.StatusCode}");
            }
        }
    }
}
