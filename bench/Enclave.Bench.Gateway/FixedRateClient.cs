using System.Diagnostics;
using System.Net;
using System.Net.Http.Headers;
using System.Text;

namespace Enclave.Bench.Gateway;

/// <summary>
/// An open-loop load generator: request <c>i</c> is due at <c>start + i / rate</c> and is sent then, whether or not
/// earlier requests have been answered (new keep-alive connections are opened as needed). Latency is measured from
/// the due time, not from the send, so a stall in the client or the server counts against every request it delays
/// (no coordinated omission). One dedicated thread keeps the schedule; answers complete on the thread pool.
/// </summary>
internal sealed class FixedRateClient : IDisposable
{
    private static readonly byte[] Body = Encoding.UTF8.GetBytes(ChatRequest.Body);
    private static readonly MediaTypeHeaderValue Json = new("application/json");

    private readonly HttpMessageInvoker _http;
    private readonly Uri _uri;
    private readonly AuthenticationHeaderValue? _authorization;

    public FixedRateClient(Uri baseUrl, string? apiKey)
    {
        _uri = new Uri(baseUrl, ChatRequest.Path);
        _authorization = apiKey is null ? null : new AuthenticationHeaderValue("Bearer", apiKey);
        _http = new HttpMessageInvoker(new SocketsHttpHandler
        {
            UseProxy = false,
            AllowAutoRedirect = false,
            UseCookies = false,
            AutomaticDecompression = DecompressionMethods.None,
            PooledConnectionIdleTimeout = TimeSpan.FromMinutes(5),
            PooledConnectionLifetime = Timeout.InfiniteTimeSpan,
        });
    }

    /// <summary>
    /// Sends at <paramref name="rate"/> requests/s for <paramref name="warmup"/> (not recorded) and then
    /// <paramref name="duration"/> (recorded). <paramref name="onMeasuredWindow"/> is called when the measured window
    /// starts and when its last request is due (to sample CPU around it).
    /// </summary>
    public async Task<FixedRateResult> RunAsync(int rate, TimeSpan warmup, TimeSpan duration, Action<bool> onMeasuredWindow)
    {
        ArgumentOutOfRangeException.ThrowIfLessThan(rate, 1);
        ArgumentNullException.ThrowIfNull(onMeasuredWindow);
        var warmupCount = (int)(warmup.TotalSeconds * rate);
        var measuredCount = (int)(duration.TotalSeconds * rate);
        var total = warmupCount + measuredCount;
        var fromDue = new long[measuredCount];
        var fromSend = new long[measuredCount];
        var sendLag = new long[measuredCount];
        var failed = new int[1];
        var tasks = new Task[total];
        var interval = Stopwatch.Frequency / (double)rate;

        var scheduler = new Thread(() =>
        {
            var start = Stopwatch.GetTimestamp() + Stopwatch.Frequency / 10;
            for (var i = 0; i < total; i++)
            {
                var due = start + (long)(i * interval);
                PreciseSleep.Until(due);
                if (i == warmupCount)
                {
                    onMeasuredWindow(true);
                }

                var slot = i - warmupCount;
                tasks[i] = SendAsync(due, slot, fromDue, fromSend, sendLag, failed);
            }

            onMeasuredWindow(false);
        })
        {
            IsBackground = true,
            Name = "bench-scheduler",
        };
        scheduler.Start();
        await Task.Run(scheduler.Join).ConfigureAwait(false);

        var drained = Task.WhenAll(tasks);
        var finished = await Task.WhenAny(drained, Task.Delay(TimeSpan.FromSeconds(30))).ConfigureAwait(false) == drained;
        var unanswered = finished ? 0 : tasks.Count(t => !t.IsCompleted);
        return new FixedRateResult
        {
            Rate = rate,
            Sent = measuredCount,
            Failed = failed[0] + unanswered,
            FromDue = LatencyStats.FromTicks(fromDue),
            FromSend = LatencyStats.FromTicks(fromSend),
            SendLag = LatencyStats.FromTicks(sendLag),
        };
    }

    public void Dispose() => _http.Dispose();

    private async Task SendAsync(long due, int slot, long[] fromDue, long[] fromSend, long[] sendLag, int[] failed)
    {
        var sent = Stopwatch.GetTimestamp();
        var ok = false;
        try
        {
            using var request = new HttpRequestMessage(HttpMethod.Post, _uri) { Content = new ByteArrayContent(Body) };
            request.Content.Headers.ContentType = Json;
            request.Headers.Authorization = _authorization;
            using var response = await _http.SendAsync(request, CancellationToken.None).ConfigureAwait(false);
            await response.Content.CopyToAsync(Stream.Null).ConfigureAwait(false);
            ok = response.StatusCode == HttpStatusCode.OK;
        }
        catch (HttpRequestException)
        {
            ok = false;
        }

        var end = Stopwatch.GetTimestamp();
        if (!ok)
        {
            Interlocked.Increment(ref failed[0]);
        }

        if (slot >= 0)
        {
            fromDue[slot] = end - due;
            fromSend[slot] = end - sent;
            sendLag[slot] = sent - due;
        }
    }
}
