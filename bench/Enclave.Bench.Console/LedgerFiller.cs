using System.Diagnostics;
using System.Globalization;
using Enclave.Core.Audit;
using Enclave.Ledger;

namespace Enclave.Bench.ConsolePages;

/// <summary>
/// Fills a ledger fast with a realistic mix of entries through the real ledger (<see cref="SqliteLedger.AppendAsync"/>:
/// canonical JSON, Merkle tiles, group commit), many writers at once: pairs of <c>request.admitted</c> and
/// <c>request.completed</c> from 50 principals and 4 models (latencies and tokens, so the usage rollup has figures), a
/// <c>key.created</c> every 1,000 entries and an <c>auth.failed</c> every 5,000. Entry times are spread over the 30 days
/// before now, oldest first per writer, so every usage range (hour, day, month) has buckets to read.
/// </summary>
internal static class LedgerFiller
{
    public const string Origin = "bench.example/console-ledger";

    public static async Task<TimeSpan> FillAsync(string dataDirectory, long entries, int writers, TextWriter progress)
    {
        var clock = TimeProvider.System;
        var started = Stopwatch.StartNew();
        await using var ledger = SqliteLedger.Open(new LedgerOptions { DataDirectory = dataDirectory }, clock);
        var start = clock.GetUtcNow() - TimeSpan.FromDays(30);
        var step = TimeSpan.FromDays(30) / Math.Max(1, entries);
        var from = ledger.Size;
        long next = from - 1;
        var tasks = Enumerable.Range(0, writers).Select(async _ =>
        {
            await Task.Yield();
            long i;
            while ((i = Interlocked.Increment(ref next)) < entries)
            {
                await ledger.AppendAsync(Entry(i, start + (step * i))).ConfigureAwait(false);
                if (i % 100_000 == 0)
                {
                    await progress.WriteLineAsync($"  {i:N0} entries, {started.Elapsed.TotalSeconds:0} s").ConfigureAwait(false);
                }
            }
        }).ToList();
        await Task.WhenAll(tasks).ConfigureAwait(false);
        return started.Elapsed;
    }

    private static AuditEvent Entry(long i, DateTimeOffset time)
    {
        var principal = "user:u" + (i % 50).ToString(CultureInfo.InvariantCulture);
        var model = "model-" + (i % 4).ToString(CultureInfo.InvariantCulture);
        var request = "req_" + (i / 2).ToString("x24", CultureInfo.InvariantCulture);
        if (i % 1000 == 0)
        {
            return AuditEvent.Create(time, "user:admin", "key:k" + i.ToString(CultureInfo.InvariantCulture), new KeyCreatedDetails { Principal = principal, Name = "bench", Expires = null });
        }

        if (i % 5000 == 1)
        {
            return AuditEvent.Create(time, "anonymous", "/v1/chat/completions", new AuthFailedDetails { Scheme = "apikey", Reason = "unknown_key", Method = "POST" });
        }

        if (i % 2 == 0)
        {
            return AuditEvent.Create(time, principal, "model:" + model, new RequestAdmittedDetails
            {
                RequestId = request,
                Endpoint = "/v1/chat/completions",
                Model = model,
                Backend = "local",
                Stream = false,
                PromptSha256 = (i * 7919).ToString("x64", CultureInfo.InvariantCulture),
            });
        }

        return AuditEvent.Create(time, principal, "model:" + model, new RequestCompletedDetails
        {
            RequestId = request,
            AdmittedIndex = i - 1,
            Endpoint = "/v1/chat/completions",
            Outcome = "ok",
            Status = 200,
            Backend = "local",
            LatencyMs = 20 + (i % 977),
            PromptTokens = (int)(10 + (i % 300)),
            CompletionTokens = (int)(5 + (i % 200)),
        });
    }
}
