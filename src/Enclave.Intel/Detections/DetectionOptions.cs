using System.Globalization;
using Enclave.Intel.Insider;

namespace Enclave.Intel.Detections;

/// <summary>
/// Configuration section <c>Detections</c>: whether the live detections run, and their Sigma and insider parts.
/// </summary>
public sealed record DetectionOptions
{
    /// <summary><c>Detections:Enabled</c>: run the detections on the ledger's append feed (default true).</summary>
    public bool Enabled { get; init; } = true;

    /// <summary><c>Detections:FeedCapacity</c>: entries the append feed's channel holds before it drops (the consumer then reads back from the store).</summary>
    public int FeedCapacity { get; init; } = 16_384;

    /// <summary><c>Detections:PollInterval</c>: how often the consumer wakes without new entries, to decide correlation windows that close and to catch up dropped entries.</summary>
    public TimeSpan PollInterval { get; init; } = TimeSpan.FromSeconds(1);

    /// <summary>
    /// <c>Detections:CursorInterval</c>: while entries flow, how often the consumer's place in the ledger is persisted
    /// (default 1 s; zero: after every step). It is also persisted once the feed has been quiet for a
    /// <see cref="PollInterval"/> and when the service stops. After a crash at most this much of the ledger is scored
    /// again, and alerts are deduplicated, so nothing is raised twice; writing it after every step instead cost a
    /// durable SQLite commit per one or two requests under load, competing with the ledger's own commits.
    /// </summary>
    public TimeSpan CursorInterval { get; init; } = TimeSpan.FromSeconds(1);

    /// <summary><c>Detections:Sigma</c>.</summary>
    public SigmaDetectionOptions Sigma { get; init; } = new();

    /// <summary><c>Detections:Insider</c>.</summary>
    public InsiderDetectionOptions Insider { get; init; } = new();

    /// <summary>Every problem with these options (empty when valid).</summary>
    public IReadOnlyList<string> Validate()
    {
        var problems = new List<string>();
        if (FeedCapacity is < 1 or > 1_048_576)
        {
            problems.Add(string.Create(CultureInfo.InvariantCulture, $"Detections:FeedCapacity must be 1 to 1048576 entries, not {FeedCapacity}"));
        }

        if (PollInterval < TimeSpan.FromMilliseconds(10) || PollInterval > TimeSpan.FromMinutes(1))
        {
            problems.Add($"Detections:PollInterval must be between 00:00:00.010 and 00:01:00, not {PollInterval}");
        }

        if (CursorInterval < TimeSpan.Zero || CursorInterval > TimeSpan.FromMinutes(1))
        {
            problems.Add($"Detections:CursorInterval must be between 00:00:00 and 00:01:00, not {CursorInterval}");
        }

        if (Insider.ReplayEntries is < 0 or > 10_000_000)
        {
            problems.Add(string.Create(CultureInfo.InvariantCulture, $"Detections:Insider:ReplayEntries must be 0 to 10000000, not {Insider.ReplayEntries}"));
        }

        if (Insider.WindowDays is < 2 or > 90)
        {
            problems.Add(string.Create(CultureInfo.InvariantCulture, $"Detections:Insider:WindowDays must be 2 to 90, not {Insider.WindowDays}"));
        }

        if (!(Insider.Threshold > 0 && Insider.Threshold <= 100))
        {
            problems.Add(string.Create(CultureInfo.InvariantCulture, $"Detections:Insider:Threshold must be above 0 and at most 100, not {Insider.Threshold}"));
        }

        if (Insider.MinHistoryDays < 1 || Insider.MinHistoryDays > Insider.WindowDays)
        {
            problems.Add(string.Create(CultureInfo.InvariantCulture, $"Detections:Insider:MinHistoryDays must be 1 to WindowDays ({Insider.WindowDays}), not {Insider.MinHistoryDays}"));
        }

        return problems;
    }
}

/// <summary><c>Detections:Sigma</c>: Sigma rules from activated <c>intel</c> bundles over the audit stream.</summary>
public sealed record SigmaDetectionOptions
{
    /// <summary><c>Detections:Sigma:Enabled</c> (default true). Rule bundles are still loaded (and listed) when off.</summary>
    public bool Enabled { get; init; } = true;
}

/// <summary><c>Detections:Insider</c>: insider-threat scoring of every ledger entry (<see cref="InsiderEngine"/>).</summary>
public sealed record InsiderDetectionOptions
{
    /// <summary><c>Detections:Insider:Enabled</c> (default true).</summary>
    public bool Enabled { get; init; } = true;

    /// <summary>
    /// <c>Detections:Insider:ReplayEntries</c>: at start, the baselines are rebuilt from at most this many ledger entries
    /// before the cursor, and only those within <see cref="WindowDays"/> of now (default 200,000).
    /// </summary>
    public int ReplayEntries { get; init; } = 200_000;

    /// <summary><c>Detections:Insider:WindowDays</c>: the baselines' rolling window (default 28).</summary>
    public int WindowDays { get; init; } = 28;

    /// <summary><c>Detections:Insider:MinHistoryDays</c>: days of history before a principal is scored against itself (default 7).</summary>
    public int MinHistoryDays { get; init; } = 7;

    /// <summary><c>Detections:Insider:Threshold</c>: the feature score that raises an alert (default 4).</summary>
    public double Threshold { get; init; } = 4;

    /// <summary>The engine's options from these.</summary>
    public InsiderOptions EngineOptions() => new() { WindowDays = WindowDays, MinHistoryDays = MinHistoryDays, Threshold = Threshold };
}
