using System.Collections.Concurrent;
using System.Diagnostics;

namespace Enclave.Bench.Gateway.Soak;

/// <summary>
/// Every request of the soak by minute and kind: counts by outcome and each answered request's latency (from the time it
/// was due on the schedule, so a stall counts against every request it delays). A request belongs to the minute it
/// was due in. The first error messages are kept, with how often each occurred.
/// </summary>
internal sealed class SoakRecorder
{
    private const int MaxDistinctErrors = 40;
    private static readonly int Kinds = Enum.GetValues<SoakKind>().Length;

    private readonly long _start;
    private readonly long _minuteTicks;
    private readonly Cell[,] _cells;
    private readonly ConcurrentDictionary<string, long> _errors = new(StringComparer.Ordinal);
    private long _answered;

    public SoakRecorder(long start, int minutes, TimeSpan minute)
    {
        _start = start;
        Minutes = minutes;
        _minuteTicks = (long)(minute.TotalSeconds * Stopwatch.Frequency);
        _cells = new Cell[minutes, Kinds];
        for (var m = 0; m < minutes; m++)
        {
            for (var k = 0; k < Kinds; k++)
            {
                _cells[m, k] = new Cell();
            }
        }
    }

    public int Minutes { get; }

    /// <summary>Error messages (with their counts), at most <see cref="MaxDistinctErrors"/> distinct ones.</summary>
    public IReadOnlyDictionary<string, long> Errors => _errors;

    /// <summary>
    /// Requests sent to the gateway and finished so far (answered, refused or failed), all kinds together; not those
    /// recorded with <see cref="RecordUnsent"/>. The denominator of the gateway's CPU per request.
    /// </summary>
    public long Answered => Interlocked.Read(ref _answered);

    /// <summary>A request that was sent: its outcome and, when answered, its latency from <paramref name="due"/> to <paramref name="end"/>.</summary>
    public void Record(SoakKind kind, long due, long end, SoakOutcome outcome, string? error)
    {
        Interlocked.Increment(ref _answered);
        Count(kind, due, end, outcome, error);
    }

    /// <summary>A request counted as an error without an answer from the gateway (not sent, or never answered).</summary>
    public void RecordUnsent(SoakKind kind, long due, string error) => Count(kind, due, due, SoakOutcome.Error, error);

    private void Count(SoakKind kind, long due, long end, SoakOutcome outcome, string? error)
    {
        var minute = (int)Math.Clamp((due - _start) / _minuteTicks, 0, Minutes - 1);
        var cell = _cells[minute, (int)kind];
        lock (cell)
        {
            switch (outcome)
            {
                case SoakOutcome.Ok:
                    cell.Ok++;
                    cell.Latencies.Add(end - due);
                    break;
                case SoakOutcome.Refused:
                    cell.Refused++;
                    cell.Latencies.Add(end - due);
                    break;
                default:
                    cell.Errors++;
                    break;
            }
        }

        if (outcome == SoakOutcome.Error)
        {
            var key = error ?? $"{kind}: error";
            if (_errors.ContainsKey(key) || _errors.Count < MaxDistinctErrors)
            {
                _errors.AddOrUpdate(key, 1, (_, n) => n + 1);
            }
        }
    }

    /// <summary>Counts and latencies of <paramref name="kind"/> over minutes <paramref name="from"/> to <paramref name="to"/> (exclusive).</summary>
    public KindSummary Summarize(SoakKind kind, int from, int to)
    {
        long ok = 0, refused = 0, errors = 0;
        var latencies = new List<long>();
        for (var m = Math.Max(0, from); m < Math.Min(to, Minutes); m++)
        {
            var cell = _cells[m, (int)kind];
            lock (cell)
            {
                ok += cell.Ok;
                refused += cell.Refused;
                errors += cell.Errors;
                latencies.AddRange(cell.Latencies);
            }
        }

        return new KindSummary { Kind = kind, Ok = ok, Refused = refused, Errors = errors, Latency = LatencyStats.FromTicks([.. latencies]) };
    }

    private sealed class Cell
    {
        public long Ok;
        public long Refused;
        public long Errors;
        public readonly List<long> Latencies = [];
    }
}

/// <summary>One kind's requests over some minutes.</summary>
internal sealed record KindSummary
{
    public required SoakKind Kind { get; init; }
    public required long Ok { get; init; }

    /// <summary>Deliberate 429s (the quota-limited user only).</summary>
    public required long Refused { get; init; }

    public required long Errors { get; init; }

    /// <summary>Latency of the answered requests (ok and 429), from the time each was due.</summary>
    public required LatencyStats Latency { get; init; }

    public long Requests => Ok + Refused + Errors;
}
