using System.Globalization;
using System.Text.Json;
using Enclave.Core;
using Enclave.Core.Audit;
using Enclave.State.Usage;

namespace Enclave.Server.Usage;

/// <summary>
/// Keeps the usage rollup (<see cref="IUsageStore"/>) up to date from the ledger's append feed: each
/// <c>request.completed</c> entry adds a request (an error when its outcome is not <c>ok</c>), its tokens and latency
/// (to the sum, the maximum and the latency histogram, <see cref="LatencyHistogram"/>),
/// and each <c>request.denied</c> a denial, to the minute, hour and day bucket of the entry's time, for its principal
/// (the actor), model (the subject <c>model:NAME</c>) and backend. The cursor moves in the same transaction as the sums,
/// so a restart resumes at the first entry not counted and nothing is counted twice. Sums are held in memory and
/// written at most every <see cref="FlushInterval"/> while entries flow, when the feed goes quiet and on stop (a
/// transaction per step cost a durable SQLite commit per one or two requests under load, competing with the ledger's
/// own; what was not written yet is read again after a crash, never lost). A first start counts the whole
/// ledger once (in the background). Minute buckets older than <see cref="MinuteRetention"/> and hour buckets older than
/// <see cref="HourRetention"/> are deleted (the Usage page reads only the last hour of minutes and day of hours), and
/// never written when an entry is already that old; day buckets are kept. Not thread-safe: one caller (a hosted service).
/// </summary>
public sealed class UsageRollup
{
    /// <summary>How long minute buckets are kept.</summary>
    public static readonly TimeSpan MinuteRetention = TimeSpan.FromDays(1);

    /// <summary>How long hour buckets are kept.</summary>
    public static readonly TimeSpan HourRetention = TimeSpan.FromDays(35);

    /// <summary>How often the sums read so far are written while entries flow.</summary>
    public static readonly TimeSpan FlushInterval = TimeSpan.FromSeconds(1);

    private static readonly UsageSpan[] Spans = [UsageSpan.Minute, UsageSpan.Hour, UsageSpan.Day];
    private readonly Dictionary<(UsageSpan, DateTimeOffset, string, string, string), Pending> _pending = [];
    private long _flushedNext = -1;
    private long _pendingCounted;
    private DateTimeOffset _lastFlush = DateTimeOffset.MinValue;
    private readonly LedgerFeed _feed;
    private readonly IUsageStore _store;
    private readonly TimeProvider _clock;
    private long _next = -1;
    private long _counted;
    private long _unreadable;
    private DateTimeOffset _lastPrune = DateTimeOffset.MinValue;

    /// <summary>A rollup fed by <paramref name="feed"/> (its only consumer) into <paramref name="store"/>.</summary>
    public UsageRollup(LedgerFeed feed, IUsageStore store, TimeProvider clock)
    {
        ArgumentNullException.ThrowIfNull(feed);
        ArgumentNullException.ThrowIfNull(store);
        ArgumentNullException.ThrowIfNull(clock);
        _feed = feed;
        _store = store;
        _clock = clock;
    }

    /// <summary>The next ledger index to read (-1 before the first step).</summary>
    public long NextIndex => Interlocked.Read(ref _next);

    /// <summary>Request entries counted (written to the store) since the rollup started.</summary>
    public long Counted => Interlocked.Read(ref _counted);

    /// <summary>Request entries that could not be read as audit events (skipped, never counted).</summary>
    public long Unreadable => Interlocked.Read(ref _unreadable);

    /// <summary>The ledger's durable size now.</summary>
    public long LedgerSize => _feed.LedgerSize;

    /// <summary>
    /// Counts up to <paramref name="maxEntries"/> durable entries from the cursor on into the sums held in memory, and
    /// writes them (<see cref="Flush"/>) when <see cref="FlushInterval"/> has passed since the last write. Returns the
    /// entries read.
    /// </summary>
    public int Step(int maxEntries = 4096)
    {
        ArgumentOutOfRangeException.ThrowIfLessThan(maxEntries, 1);
        if (_next < 0)
        {
            _next = _store.ReadCursor() ?? 0;
            _flushedNext = _next;
        }

        var next = _next;
        var read = 0;
        // Buckets that pruning would delete at once are not written at all: catching up on a long history (a first
        // start, or migration 11's recount) writes its day and recent hour buckets, not a row per minute of it.
        var stepNow = _clock.GetUtcNow();
        var minutesFrom = stepNow - MinuteRetention;
        var hoursFrom = stepNow - HourRetention;
        while (read < maxEntries && _feed.TryNext(next + read, out var entry))
        {
            read++;
            // Most entries are not requests: a byte search before any parse keeps this cheap.
            if (entry.AsSpan().IndexOf("\"type\":\"request."u8) < 0)
            {
                continue;
            }

            UsageBucket? delta;
            DateTimeOffset time;
            int latencyBucket;
            try
            {
                delta = Delta(entry, out time, out latencyBucket);
            }
            catch (Exception e) when (e is EnclaveFormatException or JsonException or FormatException or InvalidOperationException)
            {
                Interlocked.Increment(ref _unreadable);
                continue;
            }

            if (delta is not null)
            {
                _pendingCounted++;
                foreach (var span in Spans)
                {
                    var start = UsageBucket.StartOf(span, time);
                    if ((span == UsageSpan.Minute && start < minutesFrom) || (span == UsageSpan.Hour && start < hoursFrom))
                    {
                        continue;
                    }

                    var key = (span, start, delta.Principal, delta.Model, delta.Backend);
                    if (_pending.TryGetValue(key, out var sum))
                    {
                        sum.Sums = sum.Sums.Plus(delta);
                    }
                    else
                    {
                        _pending[key] = sum = new Pending(delta with { Span = span, Start = start });
                    }

                    if (latencyBucket >= 0)
                    {
                        sum.Latency[latencyBucket]++;
                    }
                }
            }
        }

        Interlocked.Exchange(ref _next, next + read);
        var now = _clock.GetUtcNow();
        if (read > 0 && now - _lastFlush >= FlushInterval)
        {
            Flush();
        }

        if (now - _lastPrune >= TimeSpan.FromMinutes(1))
        {
            _store.Prune(UsageSpan.Minute, now - MinuteRetention);
            _store.Prune(UsageSpan.Hour, now - HourRetention);
            _lastPrune = now;
        }

        return read;
    }

    /// <summary>
    /// Writes the sums read since the last write with the cursor, in one transaction (nothing when nothing was read):
    /// <see cref="Step"/> does so at most every <see cref="FlushInterval"/>, <see cref="RunAsync"/> also when the feed is
    /// quiet and when it stops.
    /// </summary>
    public void Flush()
    {
        if (_next < 0 || _next == _flushedNext)
        {
            return;
        }

        var now = _clock.GetUtcNow();
        _store.Apply([.. _pending.Values.Select(p => p.Sums with { LatencyCounts = p.Latency })], _next, now);
        Interlocked.Add(ref _counted, _pendingCounted);
        _pending.Clear();
        _pendingCounted = 0;
        _flushedNext = _next;
        _lastFlush = now;
    }

    /// <summary>Runs until <paramref name="cancellationToken"/> fires: steps, waiting for the feed between them.</summary>
    public async Task RunAsync(TimeSpan pollInterval, CancellationToken cancellationToken)
    {
        try
        {
            var quiet = false;
            while (!cancellationToken.IsCancellationRequested)
            {
                if (Step() > 0)
                {
                    quiet = false;
                    continue;
                }

                if (quiet)
                {
                    // A whole poll interval without entries: write what was read.
                    Flush();
                }

                await _feed.WaitAsync(pollInterval, cancellationToken).ConfigureAwait(false);
                quiet = true;
            }
        }
        catch (OperationCanceledException) when (cancellationToken.IsCancellationRequested)
        {
            Flush();
            throw;
        }

        Flush();
    }

    // What one request entry adds (span and start are set by the caller), or null for other entries. The entries are
    // canonical audit events that this enclave's ledger wrote, so one JsonDocument over the bytes (pooled buffers) reads
    // the fields the rollup needs; AuditEvent.Parse would re-canonicalise every event to check it, which made the rollup
    // a third of the gateway's allocations under load. A missing envelope field or a time that does not parse throws
    // (counted as unreadable).
    private static UsageBucket? Delta(byte[] entry, out DateTimeOffset time, out int latencyBucket)
    {
        time = default;
        latencyBucket = -1;
        using var document = JsonDocument.Parse(entry);
        var root = document.RootElement;
        var type = Text(root, "type") ?? throw new EnclaveFormatException("an audit event without a type");
        var completed = type == AuditEventTypes.RequestCompleted.Name;
        if (!completed && type != AuditEventTypes.RequestDenied.Name)
        {
            return null;
        }

        var timeText = Text(root, "time") ?? throw new EnclaveFormatException("an audit event without a time");
        time = DateTimeOffset.Parse(timeText, CultureInfo.InvariantCulture, DateTimeStyles.AssumeUniversal | DateTimeStyles.AdjustToUniversal);
        var actor = Text(root, "actor") ?? throw new EnclaveFormatException("an audit event without an actor");
        var subject = Text(root, "subject") ?? throw new EnclaveFormatException("an audit event without a subject");
        var details = root.TryGetProperty("details", out var d) && d.ValueKind == JsonValueKind.Object ? d : default;
        var model = subject.StartsWith("model:", StringComparison.Ordinal) ? subject["model:".Length..] : subject;
        if (!completed)
        {
            return new UsageBucket { Span = UsageSpan.Minute, Start = default, Principal = actor, Model = model, Backend = "", Denials = 1 };
        }

        var latency = Number(details, "latencyMs");
        latencyBucket = LatencyHistogram.BucketOf(latency);
        return new UsageBucket
        {
            Span = UsageSpan.Minute,
            Start = default,
            Principal = actor,
            Model = model,
            Backend = Text(details, "backend") ?? "",
            Requests = 1,
            Errors = Text(details, "outcome") == "ok" ? 0 : 1,
            PromptTokens = (long)Number(details, "promptTokens"),
            CompletionTokens = (long)Number(details, "completionTokens"),
            LatencyMsSum = latency,
            LatencyMsMax = latency,
        };
    }

    private static string? Text(JsonElement details, string name) =>
        details.ValueKind == JsonValueKind.Object && details.TryGetProperty(name, out var v) && v.ValueKind == JsonValueKind.String ? v.GetString() : null;

    // A count or latency as recorded; anything else (absent, not a number, negative) counts as 0.
    private static double Number(JsonElement details, string name) =>
        details.ValueKind == JsonValueKind.Object && details.TryGetProperty(name, out var v) && v.ValueKind == JsonValueKind.Number && v.TryGetDouble(out var n) && n >= 0 ? n : 0;

    // A bucket's sums while they wait in memory, with its latency histogram counted in place (no copy per request).
    private sealed class Pending(UsageBucket sums)
    {
        public UsageBucket Sums { get; set; } = sums;

        public long[] Latency { get; } = new long[LatencyHistogram.Count];
    }
}
