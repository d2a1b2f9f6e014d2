namespace Enclave.Policy.Labels;

/// <summary>Bounds and defaults for <see cref="RequestLabelExtractor"/>.</summary>
public sealed record LabelExtractionOptions
{
    /// <summary>Label for a request with no header and no marking; null means the scheme's lowest label.</summary>
    public SecurityLabel? DefaultLabel { get; init; }

    /// <summary>Most messages scanned; more escalates the label to the top of the lattice.</summary>
    public int MaxMessages { get; init; } = 1024;

    /// <summary>Most characters scanned across all messages; more escalates the label.</summary>
    public int MaxTotalChars { get; init; } = 4 * 1024 * 1024;

    /// <summary>Most markings collected; more escalates the label.</summary>
    public int MaxMarkings { get; init; } = 4096;

    /// <summary>Timeout for each regular-expression match; a timeout escalates the label. A backstop against
    /// pathological input, not a latency bound: it is wall-clock time, so a busy machine that deschedules the matching thread
    /// must not trip it (250 ms did, under test load on two cores).</summary>
    public TimeSpan MatchTimeout { get; init; } = TimeSpan.FromSeconds(2);
}
