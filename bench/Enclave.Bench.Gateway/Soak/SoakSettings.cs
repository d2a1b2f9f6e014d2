namespace Enclave.Bench.Gateway.Soak;

/// <summary>Settings of one soak run.</summary>
internal sealed record SoakSettings
{
    /// <summary>The testbed's settings (data directory root, gateway environment and checkpoint interval).</summary>
    public required BenchSettings Bench { get; init; }

    /// <summary>Minutes at the fixed rate.</summary>
    public required int Minutes { get; init; }

    /// <summary>Minutes counted as warm-up: the RSS and p99 comparisons start after them.</summary>
    public required int WarmupMinutes { get; init; }

    /// <summary>The fixed rate as a fraction of the measured saturation.</summary>
    public required double Fraction { get; init; }

    /// <summary>A fixed rate (requests/s) instead of <see cref="Fraction"/> of the measured saturation; 0: measure.</summary>
    public int Rate { get; init; }

    /// <summary>Unmeasured seconds of the closed-loop saturation run before its measured window.</summary>
    public required double SaturationWarmupSeconds { get; init; }

    /// <summary>Measured seconds of the closed-loop saturation run.</summary>
    public required double SaturationSeconds { get; init; }

    /// <summary>
    /// Requests in flight in the closed-loop saturation run (each waits for its answer), and the most connections the
    /// client opens to the gateway in each of its pools, so that the open loop uses the connections the saturation used.
    /// </summary>
    public required int Concurrency { get; init; }

    /// <summary>Time between imports.</summary>
    public required TimeSpan ImportEvery { get; init; }

    /// <summary>Requests/s of the quota-limited user (beside the mix).</summary>
    public required double QuotaRate { get; init; }

    /// <summary>The quota-limited user's requests per minute.</summary>
    public required int QuotaPerMinute { get; init; }

    /// <summary>Every problem with these settings.</summary>
    public IReadOnlyList<string> Validate()
    {
        var problems = new List<string>();
        if (WarmupMinutes < 0)
        {
            problems.Add("--warmup-minutes must be 0 or more");
        }

        if (Minutes < WarmupMinutes + 2)
        {
            problems.Add($"--minutes must be at least --warmup-minutes + 2 ({WarmupMinutes + 2}): one minute after warm-up to compare with the last");
        }

        if (Fraction is <= 0 or > 1)
        {
            problems.Add("--fraction must be in (0, 1]");
        }

        if (ImportEvery <= TimeSpan.Zero || QuotaRate <= 0 || QuotaPerMinute <= 0 || Concurrency <= 0 || SaturationSeconds <= 0 || Rate < 0)
        {
            problems.Add("--import-every, --quota-rate, --quota-per-minute, --concurrency and --saturation-seconds must be positive, --rate 0 or positive");
        }

        return problems;
    }
}
