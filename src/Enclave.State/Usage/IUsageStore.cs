namespace Enclave.State.Usage;

/// <summary>
/// The usage rollup (<c>usage_buckets</c>, <c>usage_cursor</c> in <c>enclave.db</c>, migrations 8 and 11): requests, denials,
/// errors, tokens, latency and a latency histogram (<see cref="LatencyHistogram"/>) summed per time bucket (minute, hour, day) and per principal, model and backend, kept up
/// to date from the ledger's append feed, with the next ledger index to read. The console's Usage page reads it, so a
/// page view never reads the ledger.
/// </summary>
public interface IUsageStore
{
    /// <summary>The next ledger index the rollup will read, or null before it first ran.</summary>
    long? ReadCursor();

    /// <summary>
    /// Adds <paramref name="deltas"/> to their buckets and moves the cursor to <paramref name="nextIndex"/> in one
    /// transaction: after a crash the entries are read again from the old cursor and nothing is counted twice.
    /// </summary>
    void Apply(IReadOnlyCollection<UsageBucket> deltas, long nextIndex, DateTimeOffset now);

    /// <summary>Buckets of <paramref name="span"/> starting at or after <paramref name="from"/>, oldest first.</summary>
    IReadOnlyList<UsageBucket> Read(UsageSpan span, DateTimeOffset from);

    /// <summary>Deletes buckets of <paramref name="span"/> that start before <paramref name="before"/>; returns how many.</summary>
    int Prune(UsageSpan span, DateTimeOffset before);
}

/// <summary>The width of a usage bucket.</summary>
public enum UsageSpan
{
    Minute,
    Hour,
    Day,
}

/// <summary>
/// One bucket of the rollup, or a change to one: the requests that completed (<see cref="Errors"/> of them not
/// served), the requests refused (policy, quota, intel), their tokens and latency, for one principal, model and
/// backend (empty for a refusal, which reached none) in the bucket starting at <see cref="Start"/> (UTC).
/// </summary>
public sealed record UsageBucket
{
    public required UsageSpan Span { get; init; }

    public required DateTimeOffset Start { get; init; }

    public required string Principal { get; init; }

    public required string Model { get; init; }

    public required string Backend { get; init; }

    public long Requests { get; init; }

    public long Denials { get; init; }

    public long Errors { get; init; }

    public long PromptTokens { get; init; }

    public long CompletionTokens { get; init; }

    /// <summary>Sum of the completed requests' latencies, in milliseconds (the average is this over <see cref="Requests"/>).</summary>
    public double LatencyMsSum { get; init; }

    public double LatencyMsMax { get; init; }

    /// <summary>
    /// The completed requests counted per latency bucket (<see cref="LatencyHistogram"/>, <see cref="LatencyHistogram.Count"/>
    /// counts; empty when all are zero): percentiles over any range and group are read from the sums of these.
    /// </summary>
    public IReadOnlyList<long> LatencyCounts { get; init; } = [];

    /// <summary>The start (UTC) of the <paramref name="span"/> bucket holding <paramref name="time"/>.</summary>
    public static DateTimeOffset StartOf(UsageSpan span, DateTimeOffset time)
    {
        var utc = time.ToUniversalTime();
        return span switch
        {
            UsageSpan.Minute => new DateTimeOffset(utc.Year, utc.Month, utc.Day, utc.Hour, utc.Minute, 0, TimeSpan.Zero),
            UsageSpan.Hour => new DateTimeOffset(utc.Year, utc.Month, utc.Day, utc.Hour, 0, 0, TimeSpan.Zero),
            _ => new DateTimeOffset(utc.Year, utc.Month, utc.Day, 0, 0, 0, TimeSpan.Zero),
        };
    }

    /// <summary>This bucket with <paramref name="other"/>'s sums added (the larger maximum latency kept, the histograms added).</summary>
    public UsageBucket Plus(UsageBucket other)
    {
        ArgumentNullException.ThrowIfNull(other);
        return this with
        {
            Requests = Requests + other.Requests,
            Denials = Denials + other.Denials,
            Errors = Errors + other.Errors,
            PromptTokens = PromptTokens + other.PromptTokens,
            CompletionTokens = CompletionTokens + other.CompletionTokens,
            LatencyMsSum = LatencyMsSum + other.LatencyMsSum,
            LatencyMsMax = Math.Max(LatencyMsMax, other.LatencyMsMax),
            LatencyCounts = LatencyHistogram.Add(LatencyCounts, other.LatencyCounts),
        };
    }
}
