using System.Globalization;

namespace Enclave.Bench.Gateway.Soak;

/// <summary>One pass criterion of the soak and how the run fared against it.</summary>
internal sealed record SoakCriterion(string Name, bool Passed, string Detail);

/// <summary>The ledger as verified after the gateway stopped.</summary>
internal sealed record SoakLedgerCheck
{
    public required bool Verified { get; init; }

    /// <summary>Size of the latest signed checkpoint.</summary>
    public long CheckpointSize { get; init; }

    /// <summary>Entries in the database after the gateway stopped.</summary>
    public long TreeSize { get; init; }

    public long EntriesChecked { get; init; }

    public long TilesRead { get; init; }

    public TimeSpan Elapsed { get; init; }

    public string? Error { get; init; }
}

/// <summary>
/// The pass criteria of issue #18's soak: no errors other than the deliberate 429s, RSS growth under 5 % after warm-up
/// (the minute after warm-up against the last minute), p99 stable (the first five minutes after warm-up against the last
/// five, within 20 %, for each kind with enough requests in both), and the ledger verifies at the end.
/// </summary>
internal static class SoakVerdict
{
    public const double MaxRssGrowth = 0.05;
    public const double MaxP99Change = 0.20;
    public const int WindowMinutes = 5;

    /// <summary>A kind's p99 is judged only with at least this many answered requests in each window.</summary>
    public const int MinSamples = 100;

    /// <summary>
    /// The first and last windows (minute ranges, end exclusive) compared for p99: <see cref="WindowMinutes"/> each after
    /// warm-up, fewer when the run after warm-up is shorter than two windows (half of it each, at least one minute).
    /// </summary>
    public static (int From, int To) First(int minutes, int warmup) => (warmup, warmup + Width(minutes, warmup));

    public static (int From, int To) Last(int minutes, int warmup) => (minutes - Width(minutes, warmup), minutes);

    public static SoakCriterion Errors(IReadOnlyList<KindSummary> whole)
    {
        ArgumentNullException.ThrowIfNull(whole);
        var errors = whole.Sum(k => k.Errors);
        var refused = whole.Sum(k => k.Refused);
        var byKind = string.Join(", ", whole.Where(k => k.Errors > 0).Select(k => $"{k.Kind} {k.Errors:N0}"));
        return new SoakCriterion(
            "0 errors other than deliberate 429s",
            errors == 0,
            $"{errors:N0} errors{(byKind.Length > 0 ? $" ({byKind})" : string.Empty)} in {whole.Sum(k => k.Requests):N0} requests; {refused:N0} deliberate 429s counted apart");
    }

    /// <summary>RSS at the end of the first minute after warm-up against the end of the last minute.</summary>
    public static SoakCriterion RssGrowth(long afterWarmup, long last, int afterWarmupMinute, int lastMinute)
    {
        var growth = afterWarmup > 0 ? (last - afterWarmup) / (double)afterWarmup : double.NaN;
        return new SoakCriterion(
            "RSS growth under 5 % after warm-up",
            afterWarmup > 0 && growth < MaxRssGrowth,
            string.Create(CultureInfo.InvariantCulture, $"{Mib(afterWarmup)} MiB at the end of minute {afterWarmupMinute}, {Mib(last)} MiB at the end of minute {lastMinute}: {growth:+0.0%;-0.0%}"));
    }

    /// <summary>Each kind's p99 in the last window against the first; kinds with too few answers in either are listed, not judged.</summary>
    public static SoakCriterion P99Stable(IReadOnlyList<(KindSummary First, KindSummary Last)> kinds, (int From, int To) first, (int From, int To) last)
    {
        ArgumentNullException.ThrowIfNull(kinds);
        var judged = new List<string>();
        var skipped = new List<string>();
        var passed = true;
        foreach (var (a, b) in kinds)
        {
            if (a.Latency.Count < MinSamples || b.Latency.Count < MinSamples)
            {
                skipped.Add($"{a.Kind} ({a.Latency.Count}/{b.Latency.Count} answers)");
                continue;
            }

            var change = P99Change(a.Latency.P99Ms, b.Latency.P99Ms);
            var ok = Math.Abs(change) <= MaxP99Change;
            passed &= ok;
            judged.Add(string.Create(CultureInfo.InvariantCulture, $"{a.Kind} {a.Latency.P99Ms:0.00} → {b.Latency.P99Ms:0.00} ms ({change:+0%;-0%}{(ok ? string.Empty : ", out")})"));
        }

        var detail = $"minutes {first.From + 1}-{first.To} against {last.From + 1}-{last.To}: {(judged.Count == 0 ? "no kind with enough answers" : string.Join("; ", judged))}"
            + (skipped.Count > 0 ? $"; not judged (fewer than {MinSamples} answers in a window): {string.Join(", ", skipped)}" : string.Empty);
        return new SoakCriterion("p99 stable (first vs last 5 minutes within 20 %)", passed && judged.Count > 0, detail);
    }

    public static SoakCriterion Ledger(SoakLedgerCheck check, long entriesUnderLoad)
    {
        ArgumentNullException.ThrowIfNull(check);
        if (!check.Verified)
        {
            return new SoakCriterion("the ledger verifies at the end", false, check.Error ?? "not verified");
        }

        var covers = check.CheckpointSize == check.TreeSize && check.TreeSize >= entriesUnderLoad;
        return new SoakCriterion(
            "the ledger verifies at the end",
            covers,
            $"the latest checkpoint (size {check.CheckpointSize:N0}) is signed by the data directory's verifier key, and all {check.EntriesChecked:N0} entries and {check.TilesRead:N0} tiles reproduce its root "
            + $"({check.Elapsed.TotalSeconds:0.0} s); the database holds {check.TreeSize:N0} entries, {entriesUnderLoad:N0} when the load ended"
            + (covers ? string.Empty : "; the checkpoint does not cover every entry"));
    }

    /// <summary>The relative change from <paramref name="first"/> to <paramref name="last"/>.</summary>
    public static double P99Change(double first, double last) => first > 0 ? (last - first) / first : double.NaN;

    private static int Width(int minutes, int warmup) => Math.Clamp((minutes - warmup) / 2, 1, WindowMinutes);

    private static string Mib(long bytes) => (bytes / (1024.0 * 1024)).ToString("0.0", CultureInfo.InvariantCulture);
}
