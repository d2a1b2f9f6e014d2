using Enclave.Policy.Labels;

namespace Enclave.Policy.Egress;

/// <summary>Detectors and bounds of the <see cref="EgressGuard"/>.</summary>
public sealed record EgressOptions
{
    /// <summary>Email, North American phone number and US social security number.</summary>
    public static IReadOnlyList<PiiDetector> DefaultPiiDetectors { get; } =
    [
        new("pii.email", @"(?<![A-Za-z0-9._%+-])[A-Za-z0-9._%+-]{1,64}@[A-Za-z0-9-]{1,63}(?:\.[A-Za-z0-9-]{1,63}){0,8}\.[A-Za-z]{2,24}(?![A-Za-z0-9-])", ["@"]),
        new("pii.phone", @"(?<![0-9A-Za-z.-])(?:\+1[ .-]?)?(?:\([2-9][0-9]{2}\) ?|[2-9][0-9]{2}[ .-])[0-9]{3}[ .-][0-9]{4}(?![0-9A-Za-z.-])", ["0", "1", "2", "3", "4", "5", "6", "7", "8", "9"]),
        new("pii.us-ssn", @"(?<![0-9A-Za-z-])(?!000|666|9[0-9]{2})[0-9]{3}-(?!00)[0-9]{2}-(?!0000)[0-9]{4}(?![0-9A-Za-z-])", ["-"]),
    ];

    /// <summary>PII patterns to apply, each with its rule ID; replace the list to configure national IDs.</summary>
    public IReadOnlyList<PiiDetector> PiiDetectors { get; init; } = DefaultPiiDetectors;

    /// <summary>
    /// The highest label whose markings may leave; a marking this label does not dominate is a finding.
    /// Null means the scheme's lowest label (only UNCLASSIFIED markings pass).
    /// </summary>
    public SecurityLabel? MaxEgressLabel { get; init; }

    /// <summary>Least Shannon entropy, in bits per character, for a generic API key value.</summary>
    public double GenericKeyMinEntropy { get; init; } = 3.5;

    /// <summary>Most messages inspected; more blocks the request.</summary>
    public int MaxMessages { get; init; } = 1024;

    /// <summary>Most characters inspected across all messages; more blocks the request.</summary>
    public int MaxTotalChars { get; init; } = 4 * 1024 * 1024;

    /// <summary>Most findings collected; more blocks the request.</summary>
    public int MaxFindings { get; init; } = 1024;

    /// <summary>Timeout of each regular-expression match; a timeout blocks the request. A backstop against
    /// pathological input, not a latency bound: it is wall-clock time, so a busy machine that deschedules the matching thread
    /// must not trip it (250 ms did, under test load on two cores).</summary>
    public TimeSpan MatchTimeout { get; init; } = TimeSpan.FromSeconds(2);
}
